/** The TLS report list: newest report first, one row per policy (the CLI export's row shape plus the report id). */
import { tlsRows } from '../../export/shapes.ts';
import type { Driver } from '../../store/driver.ts';
import { int } from '../../store/row-decode.ts';
import { decodeCursor, encodeCursor } from '../filters.ts';
import type { TablePage } from '../table-response.ts';
import { loadTlsReports } from './load-tls-reports.ts';
import { tlsWhere, type TlsFilter } from './tls-where.ts';

export const TLS_COLUMNS = [
  'id', 'organization_name', 'begin_date', 'end_date', 'report_id', 'policy_domain', 'policy_type', 'mx_host_patterns',
  'successful_session_count', 'failed_session_count', 'failure_result_types',
] as const;

/** `limit` counts reports; a report with several policies gives several rows */
export async function searchTls(driver: Driver, f: TlsFilter, cursor: string | null, limit: number): Promise<TablePage> {
  const where = tlsWhere(f);
  const after = decodeCursor(cursor);
  if (after) where.add('(period_begin, id) < (?, ?)', after[0], after[1]);
  const rows = await driver.query(`SELECT * FROM tls_reports ${where} ORDER BY period_begin DESC, id DESC LIMIT ${limit + 1}`, where.params);
  const page = rows.slice(0, limit);
  let total: number | null = null;
  if (cursor === null) {
    const count = tlsWhere(f);
    const [c] = await driver.query(`SELECT count(*) AS n FROM tls_reports ${count}`, count.params);
    total = int(c!, 'n');
  }
  const reports = await loadTlsReports(driver, page);
  const last = page.at(-1);
  return {
    rows: reports.flatMap((t) => tlsRows(t).map((row) => ({ id: t.id, ...row }))),
    next: rows.length > limit && last ? encodeCursor(int(last, 'period_begin'), int(last, 'id')) : null,
    total,
  };
}
