/**
 * The analytics results as flat table rows: the JSON `rows` and the CSV lines of the overview, sources,
 * selectors and monthly summary tables are built here, once.
 */
import type { DayPoint, DomainOverview, MonthlySummaryRow, SelectorRow, SourceRow } from '../analytics/analytics-types.ts';
import { isoDate } from '../export/shapes.ts';
import type { TableRow } from './table-response.ts';

const rate = (n: number, of: number): number | null => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : null);

export const DOMAIN_COLUMNS = [
  'domain', 'reports', 'messages', 'dmarc_pass', 'dmarc_fail', 'pass_rate', 'dkim_aligned_rate', 'spf_aligned_rate',
  'none', 'quarantine', 'reject', 'policy_p', 'policy_sp', 'policy_pct', 'readiness_step',
] as const;

export function domainRow(d: DomainOverview): TableRow {
  return {
    domain: d.domain,
    reports: d.reports,
    messages: d.messages,
    dmarc_pass: d.dmarcPass,
    dmarc_fail: d.dmarcFail,
    pass_rate: rate(d.dmarcPass, d.messages),
    dkim_aligned_rate: rate(d.dkimAlignedPass, d.messages),
    spf_aligned_rate: rate(d.spfAlignedPass, d.messages),
    none: d.none,
    quarantine: d.quarantine,
    reject: d.reject,
    policy_p: d.policy?.p ?? null,
    policy_sp: d.policy?.sp ?? null,
    policy_pct: d.policy?.pct ?? null,
    readiness_step: d.readinessStep,
  };
}

export const DAY_COLUMNS = [
  'day', 'messages', 'dmarc_pass', 'dmarc_fail', 'dkim_aligned_pass', 'spf_aligned_pass', 'none', 'quarantine', 'reject', 'pass_rate',
] as const;

export function dayRow(p: DayPoint): TableRow {
  return {
    day: p.day,
    messages: p.messages,
    dmarc_pass: p.dmarcPass,
    dmarc_fail: p.dmarcFail,
    dkim_aligned_pass: p.dkimAlignedPass,
    spf_aligned_pass: p.spfAlignedPass,
    none: p.none,
    quarantine: p.quarantine,
    reject: p.reject,
    pass_rate: rate(p.dmarcPass, p.messages),
  };
}

export const SOURCE_COLUMNS = [
  'domain', 'service', 'service_type', 'base_domain', 'ip', 'reverse_dns', 'forward_confirmed', 'asn', 'as_org', 'country',
  'dkim_domain', 'dkim_selector', 'header_from', 'messages', 'dmarc_pass', 'dmarc_fail', 'pass_rate', 'dkim_aligned_pass',
  'spf_aligned_pass', 'verdict', 'approved', 'likely_spoofing', 'fix', 'evidence', 'first_seen', 'last_seen',
] as const;

export function sourceRow(s: SourceRow): TableRow {
  return {
    domain: s.domain,
    service: s.service?.name ?? null,
    service_type: s.service?.type ?? null,
    base_domain: s.baseDomain,
    ip: s.ip,
    reverse_dns: s.reverseDns,
    forward_confirmed: s.forwardConfirmed,
    asn: s.asn,
    as_org: s.asOrg,
    country: s.country,
    dkim_domain: s.dkimDomain,
    dkim_selector: s.dkimSelector,
    header_from: s.headerFrom,
    messages: s.messages,
    dmarc_pass: s.dmarcPass,
    dmarc_fail: s.dmarcFail,
    pass_rate: rate(s.dmarcPass, s.messages),
    dkim_aligned_pass: s.dkimAlignedPass,
    spf_aligned_pass: s.spfAlignedPass,
    verdict: s.verdict,
    approved: s.approved,
    likely_spoofing: s.likelySpoofing,
    fix: s.fix,
    evidence: s.evidence.join('; '),
    first_seen: isoDate(s.firstSeen),
    last_seen: isoDate(s.lastSeen),
  };
}

export const SELECTOR_COLUMNS = [
  'domain', 'signing_domain', 'selector', 'service', 'messages', 'pass', 'pass_rate', 'first_seen', 'last_seen', 'stale',
  'failing', 'notes', 'key_status', 'key_detail',
] as const;

export function selectorRow(s: SelectorRow, key: { status: string; detail: string | null }): TableRow {
  return {
    domain: s.domain,
    signing_domain: s.signingDomain,
    selector: s.selector,
    service: s.service,
    messages: s.messages,
    pass: s.pass,
    pass_rate: Math.round(s.passRate * 10_000) / 10_000,
    first_seen: isoDate(s.firstSeen),
    last_seen: isoDate(s.lastSeen),
    stale: s.stale,
    failing: s.failing,
    notes: s.notes.join('; '),
    key_status: key.status,
    key_detail: key.detail,
  };
}

export const MONTH_COLUMNS = ['domain', 'month', 'messages', 'dmarc_pass', 'pass_rate', 'failing_sources'] as const;

export function monthRow(m: MonthlySummaryRow): TableRow {
  return {
    domain: m.domain,
    month: m.month,
    messages: m.messages,
    dmarc_pass: m.dmarcPass,
    pass_rate: Math.round(m.passRate * 10_000) / 10_000,
    failing_sources: m.failingSources,
  };
}
