import type { FailureReport, Origin } from '../domain/report-types.ts';
import type { Driver, Row, SqlValue } from './driver.ts';
import type { ExportFilter, SaveOutcome, StoredFailure } from './report-store.ts';
import { epochSeconds, keyText } from './report-keys.ts';
import { bool, boolValue, int, intOrNull, json, mailAuthOf, mailAuthValue, text, textOrNull } from './row-decode.ts';
import { insertRowSql, keysetPages, PAGE_SIZE, Where } from './sql-build.ts';

export async function saveFailure(
  driver: Driver,
  report: FailureReport,
  origin: Origin,
  dedupKey: string,
  receivedAt: number,
): Promise<SaveOutcome> {
  return driver.transaction(async (tx) => {
    const { sql, params } = insertRowSql('failure_reports', failureValues(report, origin, dedupKey, receivedAt));
    const inserted = await tx.query(`${sql} ON CONFLICT DO NOTHING RETURNING id`, params);
    if (inserted[0]) return { outcome: 'stored', id: int(inserted[0], 'id') };
    const existing = await tx.query('SELECT id FROM failure_reports WHERE dedup_key = ?', [dedupKey]);
    if (!existing[0]) throw new Error(`failure report ${dedupKey}: insert conflicted but no stored report matches`);
    return { outcome: 'duplicate', id: int(existing[0], 'id') };
  });
}

function failureValues(r: FailureReport, origin: Origin, dedupKey: string, receivedAt: number): Record<string, SqlValue> {
  return {
    dedup_key: dedupKey,
    feedback_type: r.feedbackType,
    auth_failure: r.authFailure,
    arrival_date: r.arrivalDate === null ? null : epochSeconds(r.arrivalDate),
    source_ip: r.sourceIp,
    reported_domain: r.reportedDomain,
    original_mail_from: r.originalMailFrom,
    original_rcpt_to: r.originalRcptTo,
    delivery_result: r.deliveryResult,
    authentication_results: r.authenticationResults,
    dkim_domain: r.dkimDomain,
    dkim_selector: r.dkimSelector,
    dkim_identity: r.dkimIdentity,
    spf_dns: r.spfDns,
    original_from: r.originalFrom,
    original_to: r.originalTo,
    original_subject: r.originalSubject,
    original_message_id: r.originalMessageId,
    original_date: r.originalDate,
    reporter_email: r.reporterEmail,
    reporter_org: r.reporterOrg,
    user_agent: r.userAgent,
    reporting_mta: r.reportingMta,
    plain_text: boolValue(r.plainText),
    fields: JSON.stringify(r.fields),
    original_headers: r.originalHeaders,
    origin_input: origin.input,
    origin_member: origin.member,
    mail_auth: mailAuthValue(origin),
    received_at: receivedAt,
    event_at: r.arrivalDate === null ? receivedAt : epochSeconds(r.arrivalDate),
    key_domain: keyText(r.reportedDomain),
  };
}

/** Ordered by arrival date (the time received when the report gave none), then id; from/to bound that date. */
export async function* listFailures(driver: Driver, filter: ExportFilter): AsyncGenerator<StoredFailure> {
  const rows = keysetPages((after) => {
    const where = new Where();
    if (filter.domain !== undefined) where.add('key_domain = ?', keyText(filter.domain));
    if (filter.from !== undefined) where.add('event_at >= ?', filter.from);
    if (filter.to !== undefined) where.add('event_at <= ?', filter.to);
    if (after) where.add('(event_at, id) > (?, ?)', after[0], after[1]);
    return driver.query(`SELECT * FROM failure_reports ${where} ORDER BY event_at, id LIMIT ${PAGE_SIZE}`, where.params);
  }, 'event_at');
  for await (const row of rows) {
    yield {
      id: int(row, 'id'),
      report: failureReportOf(row),
      origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member'), ...mailAuthOf(row) },
      receivedAt: int(row, 'received_at'),
    };
  }
}

/** Decodes a failure_reports row; also used by the web API's queries (server/http/queries/stored-rows.ts). */
export function failureReportOf(row: Row): FailureReport {
  return {
    feedbackType: text(row, 'feedback_type'),
    authFailure: textOrNull(row, 'auth_failure'),
    arrivalDate: intOrNull(row, 'arrival_date'),
    sourceIp: textOrNull(row, 'source_ip'),
    reportedDomain: textOrNull(row, 'reported_domain'),
    originalMailFrom: textOrNull(row, 'original_mail_from'),
    originalRcptTo: textOrNull(row, 'original_rcpt_to'),
    deliveryResult: textOrNull(row, 'delivery_result'),
    authenticationResults: textOrNull(row, 'authentication_results'),
    dkimDomain: textOrNull(row, 'dkim_domain'),
    dkimSelector: textOrNull(row, 'dkim_selector'),
    dkimIdentity: textOrNull(row, 'dkim_identity'),
    spfDns: textOrNull(row, 'spf_dns'),
    originalFrom: textOrNull(row, 'original_from'),
    originalTo: textOrNull(row, 'original_to'),
    originalSubject: textOrNull(row, 'original_subject'),
    originalMessageId: textOrNull(row, 'original_message_id'),
    originalDate: textOrNull(row, 'original_date'),
    reporterEmail: textOrNull(row, 'reporter_email'),
    reporterOrg: textOrNull(row, 'reporter_org'),
    userAgent: textOrNull(row, 'user_agent'),
    reportingMta: textOrNull(row, 'reporting_mta'),
    plainText: bool(row, 'plain_text'),
    fields: json(row, 'fields'),
    originalHeaders: textOrNull(row, 'original_headers'),
  };
}
