/** The WHERE clause (over tls_reports) of the TLS report list and its chart. */
import { keyText } from '../../store/report-keys.ts';
import { Where } from '../../store/sql-build.ts';

export interface TlsFilter {
  /** a policy domain of the report */
  domain?: string;
  from?: number;
  to?: number;
}

export function tlsWhere(f: TlsFilter, table = 'tls_reports'): Where {
  const where = new Where();
  if (f.domain !== undefined) {
    where.add(`EXISTS (SELECT 1 FROM tls_policies dp WHERE dp.report_id = ${table}.id AND dp.key_domain = ?)`, keyText(f.domain));
  }
  if (f.from !== undefined) where.add(`${table}.period_end >= ?`, f.from);
  if (f.to !== undefined) where.add(`${table}.period_begin <= ?`, f.to);
  return where;
}
