import type { Origin, TlsFailureDetail, TlsPolicy, TlsReport } from '../domain/report-types.ts';
import type { Driver, Row, SqlValue } from './driver.ts';
import type { ExportFilter, SaveOutcome, StoredTls } from './report-store.ts';
import { epochSeconds, keyText } from './report-keys.ts';
import { int, json, mailAuthOf, mailAuthValue, text, textOrNull } from './row-decode.ts';
import { insertRowSql, keysetPages, PAGE_SIZE, Where } from './sql-build.ts';

const DETAIL_COLUMNS = [
  'policy_id', 'ordinal', 'result_type', 'sending_mta_ip', 'receiving_mx_hostname', 'receiving_mx_helo', 'receiving_ip',
  'failed_session_count', 'additional_information', 'failure_reason_code',
] as const;

export async function saveTls(driver: Driver, report: TlsReport, origin: Origin, receivedAt: number): Promise<SaveOutcome> {
  return driver.transaction(async (tx) => {
    const { sql, params } = insertRowSql('tls_reports', {
      org_name: report.orgName,
      report_id: report.reportId,
      contact_info: report.contactInfo,
      period_begin: epochSeconds(report.begin),
      period_end: epochSeconds(report.end),
      origin_input: origin.input,
      origin_member: origin.member,
      mail_auth: mailAuthValue(origin),
      received_at: receivedAt,
      key_org: keyText(report.orgName),
      key_report_id: keyText(report.reportId),
    });
    const inserted = await tx.query(`${sql} ON CONFLICT DO NOTHING RETURNING id`, params);
    if (!inserted[0]) {
      const existing = await tx.query('SELECT id FROM tls_reports WHERE key_org = ? AND key_report_id = ?', [
        keyText(report.orgName),
        keyText(report.reportId),
      ]);
      if (!existing[0]) throw new Error(`TLS report ${report.reportId}: insert conflicted but no stored report matches`);
      return { outcome: 'duplicate', id: int(existing[0], 'id') };
    }
    const id = int(inserted[0], 'id');
    for (const [ordinal, policy] of report.policies.entries()) {
      const row = insertRowSql('tls_policies', {
        report_id: id,
        ordinal,
        policy_type: policy.policyType,
        policy_string: JSON.stringify(policy.policyString),
        policy_domain: policy.policyDomain,
        mx_host: JSON.stringify(policy.mxHost),
        successful_sessions: policy.successfulSessions,
        failed_sessions: policy.failedSessions,
        key_domain: keyText(policy.policyDomain),
      });
      const [policyRow] = await tx.query(`${row.sql} RETURNING id`, row.params);
      const policyId = int(policyRow!, 'id');
      await tx.insertMany('tls_failure_details', DETAIL_COLUMNS, policy.failureDetails.flatMap((d, i) => detailValues(policyId, i, d)));
    }
    return { outcome: 'stored', id };
  });
}

function detailValues(policyId: number, ordinal: number, d: TlsFailureDetail): SqlValue[] {
  return [
    policyId,
    ordinal,
    d.resultType,
    d.sendingMtaIp,
    d.receivingMxHostname,
    d.receivingMxHelo,
    d.receivingIp,
    d.failedSessionCount,
    d.additionalInformation,
    d.failureReasonCode,
  ];
}

/** Ordered by period begin, then id; `domain` matches any of the report's policy domains. */
export async function* listTls(driver: Driver, filter: ExportFilter): AsyncGenerator<StoredTls> {
  const rows = keysetPages((after) => {
    const where = new Where();
    if (filter.domain !== undefined) {
      where.add('EXISTS (SELECT 1 FROM tls_policies p WHERE p.report_id = tls_reports.id AND p.key_domain = ?)', keyText(filter.domain));
    }
    if (filter.from !== undefined) where.add('period_end >= ?', filter.from);
    if (filter.to !== undefined) where.add('period_begin <= ?', filter.to);
    if (after) where.add('(period_begin, id) > (?, ?)', after[0], after[1]);
    return driver.query(`SELECT * FROM tls_reports ${where} ORDER BY period_begin, id LIMIT ${PAGE_SIZE}`, where.params);
  }, 'period_begin');
  for await (const row of rows) {
    const id = int(row, 'id');
    yield {
      id,
      report: tlsReportOf(row, await loadPolicies(driver, id)),
      origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member'), ...mailAuthOf(row) },
      receivedAt: int(row, 'received_at'),
    };
  }
}

async function loadPolicies(driver: Driver, reportId: number): Promise<TlsPolicy[]> {
  const policies = await driver.query('SELECT * FROM tls_policies WHERE report_id = ? ORDER BY ordinal', [reportId]);
  const details = await driver.query(
    `SELECT d.* FROM tls_failure_details d JOIN tls_policies p ON p.id = d.policy_id
     WHERE p.report_id = ? ORDER BY d.policy_id, d.ordinal`,
    [reportId],
  );
  const byPolicy = new Map<number, TlsFailureDetail[]>();
  for (const d of details) {
    const policyId = int(d, 'policy_id');
    let list = byPolicy.get(policyId);
    if (!list) byPolicy.set(policyId, (list = []));
    list.push(tlsFailureDetailOf(d));
  }
  return policies.map((p) => tlsPolicyOf(p, byPolicy.get(int(p, 'id')) ?? []));
}

// The row decoders below are also used by the web API's queries (server/http/queries/load-tls-reports.ts).

/** A tls_reports row, with its policies loaded separately. */
export function tlsReportOf(row: Row, policies: TlsPolicy[]): TlsReport {
  return {
    orgName: text(row, 'org_name'),
    reportId: text(row, 'report_id'),
    contactInfo: textOrNull(row, 'contact_info'),
    begin: int(row, 'period_begin'),
    end: int(row, 'period_end'),
    policies,
  };
}

/** A tls_policies row, with its failure details loaded separately. */
export function tlsPolicyOf(row: Row, failureDetails: TlsFailureDetail[]): TlsPolicy {
  return {
    policyType: text(row, 'policy_type'),
    policyString: json<string[]>(row, 'policy_string'),
    policyDomain: text(row, 'policy_domain'),
    mxHost: json<string[]>(row, 'mx_host'),
    successfulSessions: int(row, 'successful_sessions'),
    failedSessions: int(row, 'failed_sessions'),
    failureDetails,
  };
}

export function tlsFailureDetailOf(row: Row): TlsFailureDetail {
  return {
    resultType: text(row, 'result_type'),
    sendingMtaIp: textOrNull(row, 'sending_mta_ip'),
    receivingMxHostname: textOrNull(row, 'receiving_mx_hostname'),
    receivingMxHelo: textOrNull(row, 'receiving_mx_helo'),
    receivingIp: textOrNull(row, 'receiving_ip'),
    failedSessionCount: int(row, 'failed_session_count'),
    additionalInformation: textOrNull(row, 'additional_information'),
    failureReasonCode: textOrNull(row, 'failure_reason_code'),
  };
}
