/** The aggregate report list: newest first, one row per report with its DMARC pass count. */
import { isoDate } from '../../export/shapes.ts';
import type { Driver } from '../../store/driver.ts';
import { int, textOrNull } from '../../store/row-decode.ts';
import type { TablePage, TableRow } from '../table-response.ts';
import { decodeCursor, encodeCursor } from '../filters.ts';
import { reportWhere, type ReportFilter } from './report-where.ts';
import { placeholders } from './stored-rows.ts';

export const REPORT_COLUMNS = [
  'id', 'org_name', 'report_id', 'domain', 'begin_date', 'end_date', 'p', 'records', 'messages', 'dmarc_pass', 'pass_rate', 'repairs',
] as const;

export async function searchReports(driver: Driver, f: ReportFilter, cursor: string | null, limit: number): Promise<TablePage> {
  const where = reportWhere(f);
  const countWhere = cursor === null ? reportWhere(f) : null;
  const after = decodeCursor(cursor);
  if (after) where.add('(period_begin, id) < (?, ?)', after[0], after[1]);
  const rows = await driver.query(
    `SELECT id, org_name, report_id, policy_domain, period_begin, period_end, policy_p, record_count, message_count, errors
     FROM aggregate_reports ${where} ORDER BY period_begin DESC, id DESC LIMIT ${limit + 1}`,
    where.params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const ids = page.map((r) => int(r, 'id'));
  const pass = new Map<number, number>();
  if (ids.length > 0) {
    const sums = await driver.query(
      `SELECT report_id, sum(message_count) AS pass FROM aggregate_records
       WHERE report_id IN (${placeholders(ids.length)}) AND (dkim_eval = 'pass' OR spf_eval = 'pass') GROUP BY report_id`,
      ids,
    );
    for (const s of sums) pass.set(int(s, 'report_id'), int(s, 'pass'));
  }
  let total: number | null = null;
  if (countWhere) {
    const [c] = await driver.query(`SELECT count(*) AS n FROM aggregate_reports ${countWhere}`, countWhere.params);
    total = int(c!, 'n');
  }
  const last = page.at(-1);
  return {
    rows: page.map((r): TableRow => {
      const messages = int(r, 'message_count');
      const dmarcPass = pass.get(int(r, 'id')) ?? 0;
      return {
        id: int(r, 'id'),
        org_name: textOrNull(r, 'org_name'),
        report_id: textOrNull(r, 'report_id'),
        domain: textOrNull(r, 'policy_domain'),
        begin_date: isoDate(int(r, 'period_begin')),
        end_date: isoDate(int(r, 'period_end')),
        p: textOrNull(r, 'policy_p'),
        records: int(r, 'record_count'),
        messages,
        dmarc_pass: dmarcPass,
        pass_rate: messages > 0 ? round4(dmarcPass / messages) : null,
        repairs: (JSON.parse(String(r.errors)) as unknown[]).length,
      };
    }),
    next: more && last ? encodeCursor(int(last, 'period_begin'), int(last, 'id')) : null,
    total,
  };
}

export function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
