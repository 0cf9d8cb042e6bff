/** Messages per reporting organization (the Reports view's chart), with the list's filters. */
import type { Driver } from '../../store/driver.ts';
import { int, textOrNull } from '../../store/row-decode.ts';
import { reportWhere, type ReportFilter } from './report-where.ts';

export interface ReporterTotal {
  org: string | null;
  reports: number;
  messages: number;
}

export async function reportsByReporter(driver: Driver, f: ReportFilter, top = 12): Promise<ReporterTotal[]> {
  const where = reportWhere(f);
  const rows = await driver.query(
    `SELECT min(org_name) AS org, count(*) AS reports, CAST(coalesce(sum(message_count), 0) AS BIGINT) AS messages
     FROM aggregate_reports ${where} GROUP BY key_org ORDER BY messages DESC, org LIMIT ${top}`,
    where.params,
  );
  return rows.map((r) => ({ org: textOrNull(r, 'org'), reports: int(r, 'reports'), messages: int(r, 'messages') }));
}
