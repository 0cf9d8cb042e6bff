/**
 * The exported shapes. Aggregate reports use parsedmarc's field names so downstream tooling keeps working;
 * dates are ISO 8601 UTC.
 */
import type { AggregateRecord, MailAuthVerdict } from '../domain/report-types.ts';
import type { QuarantineRow, StoredAggregate, StoredFailure, StoredTls } from '../store/report-store.ts';

export function isoDate(epochSeconds: number | null | undefined): string | null {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return null;
  const d = new Date(epochSeconds * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.000Z$/, 'Z');
}

export interface ShapeOptions {
  /** the operator's configured domains (DMARC_LENS_DOMAINS); undefined or empty when none are configured */
  domains?: readonly string[] | undefined;
}

/** The report mail's Authentication-Results verdict (null for reports read from files). */
export function mailAuthJson(m: MailAuthVerdict | null | undefined) {
  if (!m) return null;
  return {
    authserv_id: m.authservId,
    dkim: m.dkim,
    dkim_domain: m.dkimDomain,
    spf: m.spf,
    spf_domain: m.spfDomain,
    dmarc: m.dmarc,
    from_domain: m.fromDomain,
    authenticated: m.authenticated,
  };
}

/** Is the policy domain one of the configured domains (or below one)? null when none are configured. */
export function policyDomainConfigured(domain: string | null, opts: ShapeOptions = {}): boolean | null {
  if (!opts.domains || opts.domains.length === 0) return null;
  const d = (domain ?? '').trim().toLowerCase().replace(/\.$/, '');
  return opts.domains.some((a) => d === a || d.endsWith('.' + a));
}

export function aggregateReportJson(r: StoredAggregate, opts: ShapeOptions = {}) {
  const h = r.header;
  return {
    xml_schema: h.xmlSchema,
    report_metadata: {
      org_name: h.orgName,
      org_email: h.orgEmail,
      org_extra_contact_info: h.orgExtraContactInfo,
      report_id: h.reportId,
      begin_date: isoDate(h.begin),
      end_date: isoDate(h.end),
      errors: h.errors,
      generator: h.generator,
      source: { input: r.origin.input, member: r.origin.member },
      received_at: isoDate(r.receivedAt),
      mail_auth: mailAuthJson(r.origin.mailAuth),
      policy_domain_configured: policyDomainConfigured(h.policy.domain, opts),
    },
    policy_published: {
      domain: h.policy.domain,
      adkim: h.policy.adkim,
      aspf: h.policy.aspf,
      p: h.policy.p,
      sp: h.policy.sp,
      np: h.policy.np,
      pct: h.policy.pct,
      fo: h.policy.fo,
      testing: h.policy.testing,
      discovery_method: h.policy.discoveryMethod,
    },
    records: r.records.map(recordJson),
  };
}

export function recordJson(rec: AggregateRecord) {
  const spf = rec.spfEval === 'pass';
  const dkim = rec.dkimEval === 'pass';
  return {
    source: { ip_address: rec.sourceIp },
    count: rec.count,
    alignment: { spf, dkim, dmarc: spf || dkim },
    policy_evaluated: {
      disposition: rec.disposition,
      dkim: rec.dkimEval,
      spf: rec.spfEval,
      policy_override_reasons: rec.overrideReasons.map((o) => ({ type: o.type, comment: o.comment })),
    },
    identifiers: { header_from: rec.headerFrom, envelope_from: rec.envelopeFrom, envelope_to: rec.envelopeTo },
    auth_results: {
      dkim: rec.dkim.map((d) => ({ domain: d.domain, selector: d.selector, result: d.result, human_result: d.humanResult })),
      spf: rec.spf.map((s) => ({ domain: s.domain, scope: s.scope, result: s.result, human_result: s.humanResult })),
    },
    problems: rec.problems,
  };
}

/** One flat row per record, the report's columns repeated (parsedmarc's CSV column names, plus RFC 9990 ones). */
export function recordRows(r: StoredAggregate, opts: ShapeOptions = {}): Record<string, string | number | boolean | null>[] {
  const h = r.header;
  const p = h.policy;
  const beginDate = isoDate(h.begin);
  const endDate = isoDate(h.end);
  const errors = h.errors.join('|');
  const mailAuthenticated = r.origin.mailAuth ? r.origin.mailAuth.authenticated : null;
  const configured = policyDomainConfigured(p.domain, opts);
  // one object literal per row (no spread of the report's columns): rows of one shape, quick to build and read
  return r.records.map((rec) => {
    const spf = rec.spfEval === 'pass';
    const dkim = rec.dkimEval === 'pass';
    return {
      xml_schema: h.xmlSchema,
      org_name: h.orgName,
      org_email: h.orgEmail,
      org_extra_contact_info: h.orgExtraContactInfo,
      report_id: h.reportId,
      begin_date: beginDate,
      end_date: endDate,
      errors,
      domain: p.domain,
      adkim: p.adkim,
      aspf: p.aspf,
      p: p.p,
      sp: p.sp,
      np: p.np,
      pct: p.pct,
      fo: p.fo,
      testing: p.testing,
      source_ip_address: rec.sourceIp,
      count: rec.count,
      spf_aligned: spf,
      dkim_aligned: dkim,
      dmarc_aligned: spf || dkim,
      disposition: rec.disposition,
      policy_override_reasons: rec.overrideReasons.map((o) => o.type).join('|'),
      policy_override_comments: rec.overrideReasons.map((o) => o.comment ?? '').join('|'),
      envelope_from: rec.envelopeFrom,
      header_from: rec.headerFrom,
      envelope_to: rec.envelopeTo,
      dkim_domains: rec.dkim.map((d) => d.domain ?? '').join('|'),
      dkim_selectors: rec.dkim.map((d) => d.selector ?? '').join('|'),
      dkim_results: rec.dkim.map((d) => d.result ?? '').join('|'),
      spf_domains: rec.spf.map((s) => s.domain ?? '').join('|'),
      spf_scopes: rec.spf.map((s) => s.scope ?? '').join('|'),
      spf_results: rec.spf.map((s) => s.result ?? '').join('|'),
      problems: rec.problems.join('|'),
      mail_authenticated: mailAuthenticated,
      policy_domain_configured: configured,
    };
  });
}

export function failureJson(f: StoredFailure) {
  const r = f.report;
  return {
    feedback_type: r.feedbackType,
    auth_failure: r.authFailure ? r.authFailure.split(/\s*,\s*/) : [],
    arrival_date_utc: isoDate(r.arrivalDate),
    source: { ip_address: r.sourceIp },
    reported_domain: r.reportedDomain,
    original_mail_from: r.originalMailFrom,
    original_rcpt_to: r.originalRcptTo,
    delivery_result: r.deliveryResult,
    authentication_results: r.authenticationResults,
    dkim_domain: r.dkimDomain,
    dkim_selector: r.dkimSelector,
    dkim_identity: r.dkimIdentity,
    spf_dns: r.spfDns,
    sample: { from: r.originalFrom, to: r.originalTo, subject: r.originalSubject, message_id: r.originalMessageId, date: r.originalDate },
    reporter: { email: r.reporterEmail, org: r.reporterOrg, user_agent: r.userAgent, reporting_mta: r.reportingMta },
    plain_text: r.plainText,
    source_file: { input: f.origin.input, member: f.origin.member },
    received_at: isoDate(f.receivedAt),
  };
}

export function failureRow(f: StoredFailure): Record<string, string | number | boolean | null> {
  const j = failureJson(f);
  return {
    feedback_type: j.feedback_type,
    auth_failure: j.auth_failure.join('|'),
    arrival_date_utc: j.arrival_date_utc,
    source_ip_address: j.source.ip_address,
    reported_domain: j.reported_domain,
    original_mail_from: j.original_mail_from,
    original_rcpt_to: j.original_rcpt_to,
    delivery_result: j.delivery_result,
    dkim_domain: j.dkim_domain,
    dkim_selector: j.dkim_selector,
    sample_from: j.sample.from,
    sample_to: j.sample.to,
    sample_subject: j.sample.subject,
    sample_message_id: j.sample.message_id,
    reporter_email: j.reporter.email,
    reporter_org: j.reporter.org,
    user_agent: j.reporter.user_agent,
    plain_text: j.plain_text,
  };
}

export function tlsJson(t: StoredTls) {
  const r = t.report;
  return {
    organization_name: r.orgName,
    begin_date: isoDate(r.begin),
    end_date: isoDate(r.end),
    contact_info: r.contactInfo,
    report_id: r.reportId,
    policies: r.policies.map((p) => ({
      policy_domain: p.policyDomain,
      policy_type: p.policyType,
      policy_strings: p.policyString,
      mx_host_patterns: p.mxHost,
      successful_session_count: p.successfulSessions,
      failed_session_count: p.failedSessions,
      failure_details: p.failureDetails.map((d) => ({
        result_type: d.resultType,
        failed_session_count: d.failedSessionCount,
        sending_mta_ip: d.sendingMtaIp,
        receiving_ip: d.receivingIp,
        receiving_mx_hostname: d.receivingMxHostname,
        receiving_mx_helo: d.receivingMxHelo,
        additional_information: d.additionalInformation,
        failure_reason_code: d.failureReasonCode,
      })),
    })),
    source_file: { input: t.origin.input, member: t.origin.member },
    received_at: isoDate(t.receivedAt),
  };
}

/** One row per policy. */
export function tlsRows(t: StoredTls): Record<string, string | number | boolean | null>[] {
  const r = t.report;
  return r.policies.map((p) => ({
    organization_name: r.orgName,
    begin_date: isoDate(r.begin),
    end_date: isoDate(r.end),
    report_id: r.reportId,
    policy_domain: p.policyDomain,
    policy_type: p.policyType,
    mx_host_patterns: p.mxHost.join('|'),
    successful_session_count: p.successfulSessions,
    failed_session_count: p.failedSessions,
    failure_result_types: p.failureDetails.map((d) => d.resultType).join('|'),
  }));
}

export function quarantineJson(q: QuarantineRow) {
  return {
    id: q.id,
    input: q.input,
    member: q.member,
    type: q.type,
    reason: q.code,
    detail: q.detail,
    sha256: q.sha256,
    size: q.size,
    truncated: q.truncated,
    received_at: isoDate(q.receivedAt),
    resolved_at: isoDate(q.resolvedAt),
  };
}
