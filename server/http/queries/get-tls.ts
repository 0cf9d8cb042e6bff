/** One TLS report with its policies and failure details, or null. */
import type { Driver } from '../../store/driver.ts';
import type { StoredTls } from '../../store/report-store.ts';
import { loadTlsReports } from './load-tls-reports.ts';

export async function getTls(driver: Driver, id: number): Promise<StoredTls | null> {
  const rows = await driver.query('SELECT * FROM tls_reports WHERE id = ?', [id]);
  const [report] = await loadTlsReports(driver, rows);
  return report ?? null;
}
