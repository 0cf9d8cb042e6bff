/** Reads whole TLS reports (policies and failure details) for a set of report rows, in two queries. */
import type { TlsFailureDetail, TlsPolicy } from '../../domain/report-types.ts';
import type { Driver, Row } from '../../store/driver.ts';
import type { StoredTls } from '../../store/report-store.ts';
import { int, text, textOrNull } from '../../store/row-decode.ts';
import { tlsFailureDetailOf, tlsPolicyOf, tlsReportOf } from '../../store/tls-store.ts';
import { placeholders } from './stored-rows.ts';

export async function loadTlsReports(driver: Driver, reportRows: Row[]): Promise<StoredTls[]> {
  const ids = reportRows.map((r) => int(r, 'id'));
  if (ids.length === 0) return [];
  const policies = await driver.query(`SELECT * FROM tls_policies WHERE report_id IN (${placeholders(ids.length)}) ORDER BY report_id, ordinal`, ids);
  const details = await driver.query(
    `SELECT d.* FROM tls_failure_details d JOIN tls_policies p ON p.id = d.policy_id
     WHERE p.report_id IN (${placeholders(ids.length)}) ORDER BY d.policy_id, d.ordinal`,
    ids,
  );
  const detailsByPolicy = new Map<number, TlsFailureDetail[]>();
  for (const d of details) push(detailsByPolicy, int(d, 'policy_id'), tlsFailureDetailOf(d));
  const policiesByReport = new Map<number, TlsPolicy[]>();
  for (const p of policies) {
    push(policiesByReport, int(p, 'report_id'), tlsPolicyOf(p, detailsByPolicy.get(int(p, 'id')) ?? []));
  }
  return reportRows.map((row) => ({
    id: int(row, 'id'),
    report: tlsReportOf(row, policiesByReport.get(int(row, 'id')) ?? []),
    origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member') },
    receivedAt: int(row, 'received_at'),
  }));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
