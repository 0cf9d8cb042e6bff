/** The WHERE clause of the quarantine list and its chart. */
import { Where } from '../../store/sql-build.ts';

export interface QuarantineFilter {
  /** time received, epoch seconds, inclusive */
  from?: number;
  to?: number;
  reason?: string;
  /** only rows no reprocess has accounted for yet */
  unresolved?: boolean;
}

export function quarantineWhere(f: QuarantineFilter): Where {
  const where = new Where();
  if (f.from !== undefined) where.add('received_at >= ?', f.from);
  if (f.to !== undefined) where.add('received_at <= ?', f.to);
  if (f.reason !== undefined) where.add('code = ?', f.reason);
  if (f.unresolved) where.add('resolved_at IS NULL');
  return where;
}
