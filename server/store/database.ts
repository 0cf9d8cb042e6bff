/**
 * The database as a whole: the connection (driver) and the report store over it. Feature modules
 * (analytics, enrichment cache, DNS check history, web users…) build their own small stores over `driver`,
 * so the ReportStore interface stays narrow.
 */
import type { Driver } from './driver.ts';
import { openDriver } from './open-store.ts';
import { applyMigrations } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { ReportStore } from './report-store.ts';
import { createSqlReportStore, type Clock } from './sql-report-store.ts';
import { FatalError } from '../errors.ts';
import { redactDbUrl } from './db-url.ts';

export interface Database {
  readonly driver: Driver;
  readonly reports: ReportStore;
  close(): Promise<void>;
}

export async function openDatabase(url: string, options: { now?: Clock } = {}): Promise<Database> {
  const driver = await openDriver(url);
  try {
    await applyMigrations(driver, MIGRATIONS);
  } catch (err) {
    await driver.close().catch(() => {});
    throw new FatalError('migration-failed', `cannot migrate database ${redactDbUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  const reports = createSqlReportStore(driver, options.now);
  return { driver, reports, close: () => reports.close() };
}
