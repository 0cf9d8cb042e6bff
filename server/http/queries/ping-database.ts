/** The health check's database round trip. */
import type { Driver } from '../../store/driver.ts';

export async function pingDatabase(driver: Driver): Promise<void> {
  const [row] = await driver.query('SELECT 1 AS ok');
  if (!row || Number(row.ok) !== 1) throw new Error('the database did not answer SELECT 1');
}
