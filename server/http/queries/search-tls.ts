/**
 * The TLS report list: newest report first, one row per policy (the CLI export's row shape plus the report id);
 * optional free-text search.
 */
import { tlsRows } from '../../export/shapes.ts';
import { keyText } from '../../store/report-keys.ts';
import type { Where } from '../../store/sql-build.ts';
import type { Driver } from '../../store/driver.ts';
import { int } from '../../store/row-decode.ts';
import { DATE_RANGE, decodeCursor, encodeCursor, rangeOf } from '../filters.ts';
import { text } from '../request-schema.ts';
import type { TablePage } from '../table-response.ts';
import { loadTlsReports } from './load-tls-reports.ts';
import { containsPattern } from './stored-rows.ts';
import { tlsWhere, type TlsFilter } from './tls-where.ts';

/** the list's parameters: the date range and domain, and `q` (text in the reporter, report id, policy domain or MX) */
export const TLS_LIST_FILTERS = { ...DATE_RANGE, q: text({ max: 200 }) };

export interface TlsListFilter extends TlsFilter {
  q?: string;
}

export function tlsListFilter(p: Record<string, unknown>): TlsListFilter {
  return { ...rangeOf(p), ...(typeof p.q === 'string' ? { q: p.q } : {}) };
}

/** tlsWhere plus the text search: an escaped LIKE over the lower-cased reporter, report id and the policies' domains / MX patterns */
export function tlsListWhere(f: TlsListFilter): Where {
  const where = tlsWhere(f);
  const needle = f.q === undefined ? '' : keyText(f.q).slice(0, 200);
  if (needle !== '') {
    const like = containsPattern(needle);
    where.add(
      `(key_org LIKE ? ESCAPE '\\' OR key_report_id LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM tls_policies qp WHERE qp.report_id = tls_reports.id AND (qp.key_domain LIKE ? ESCAPE '\\' OR lower(qp.mx_host) LIKE ? ESCAPE '\\')))`,
      like, like, like, like,
    );
  }
  return where;
}

export const TLS_COLUMNS = [
  'id', 'organization_name', 'begin_date', 'end_date', 'report_id', 'policy_domain', 'policy_type', 'mx_host_patterns',
  'successful_session_count', 'failed_session_count', 'failure_result_types',
] as const;

/** `limit` counts reports; a report with several policies gives several rows */
export async function searchTls(driver: Driver, f: TlsListFilter, cursor: string | null, limit: number): Promise<TablePage> {
  const where = tlsListWhere(f);
  const after = decodeCursor(cursor);
  if (after) where.add('(period_begin, id) < (?, ?)', after[0], after[1]);
  const rows = await driver.query(`SELECT * FROM tls_reports ${where} ORDER BY period_begin DESC, id DESC LIMIT ${limit + 1}`, where.params);
  const page = rows.slice(0, limit);
  let total: number | null = null;
  if (cursor === null) {
    const count = tlsListWhere(f);
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
