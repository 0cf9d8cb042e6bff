/** One aggregate report with all its records, or null. */
import type { Driver } from '../../store/driver.ts';
import type { StoredAggregate } from '../../store/report-store.ts';
import { int, text, textOrNull } from '../../store/row-decode.ts';
import { aggregateHeaderOf, aggregateRecordOf } from './stored-rows.ts';

export async function getReport(driver: Driver, id: number): Promise<StoredAggregate | null> {
  const [row] = await driver.query('SELECT * FROM aggregate_reports WHERE id = ?', [id]);
  if (!row) return null;
  const records = await driver.query('SELECT * FROM aggregate_records WHERE report_id = ? ORDER BY ordinal', [id]);
  return {
    id: int(row, 'id'),
    header: aggregateHeaderOf(row),
    origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member') },
    receivedAt: int(row, 'received_at'),
    records: records.map(aggregateRecordOf),
  };
}
