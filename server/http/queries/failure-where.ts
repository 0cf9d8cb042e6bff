/** The WHERE clause of the failure report list and its chart. */
import { keyText } from '../../store/report-keys.ts';
import { Where } from '../../store/sql-build.ts';

export interface FailureFilter {
  domain?: string;
  /** arrival date (the time received when the report gave none), epoch seconds, inclusive */
  from?: number;
  to?: number;
}

export function failureWhere(f: FailureFilter): Where {
  const where = new Where();
  if (f.domain !== undefined) where.add('key_domain = ?', keyText(f.domain));
  if (f.from !== undefined) where.add('event_at >= ?', f.from);
  if (f.to !== undefined) where.add('event_at <= ?', f.to);
  return where;
}
