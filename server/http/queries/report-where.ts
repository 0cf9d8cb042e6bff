/** The WHERE clause of the aggregate report list and its reporter chart: same filters, same rows. */
import { keyText } from '../../store/report-keys.ts';
import { Where } from '../../store/sql-build.ts';
import { containsPattern } from './stored-rows.ts';

export interface ReportFilter {
  domain?: string;
  from?: number;
  to?: number;
  /** reporter organization, exact (case-insensitive) */
  org?: string;
  /** text found in the reporter, report id or domain */
  q?: string;
}

export function reportWhere(f: ReportFilter): Where {
  const where = new Where();
  if (f.domain !== undefined) where.add('key_domain = ?', keyText(f.domain));
  if (f.from !== undefined) where.add('period_end >= ?', f.from);
  if (f.to !== undefined) where.add('period_begin <= ?', f.to);
  if (f.org !== undefined) where.add('key_org = ?', keyText(f.org));
  if (f.q !== undefined && keyText(f.q) !== '') {
    const like = containsPattern(keyText(f.q));
    where.add(`(key_org LIKE ? ESCAPE '\\' OR key_report_id LIKE ? ESCAPE '\\' OR key_domain LIKE ? ESCAPE '\\')`, like, like, like);
  }
  return where;
}
