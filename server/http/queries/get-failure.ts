/** One failure report, or null. */
import type { Driver } from '../../store/driver.ts';
import type { StoredFailure } from '../../store/report-store.ts';
import { storedFailureOf } from './stored-rows.ts';

export async function getFailure(driver: Driver, id: number): Promise<StoredFailure | null> {
  const [row] = await driver.query('SELECT * FROM failure_reports WHERE id = ?', [id]);
  return row ? storedFailureOf(row) : null;
}
