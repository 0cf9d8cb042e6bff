import { FatalError } from '../errors.ts';
import { parseDbUrl, redactDbUrl } from './db-url.ts';
import type { Driver } from './driver.ts';
import { applyMigrations } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { ReportStore } from './report-store.ts';
import { openSqliteDriver } from './sqlite-driver.ts';
import { createSqlReportStore, type Clock } from './sql-report-store.ts';

export interface OpenStoreOptions {
  /** epoch seconds "now" used for received_at / resolved_at (tests) */
  now?: Clock;
  /** SQLite: commits reach the disk before they return (see SqliteOptions); PostgreSQL commits always do */
  durable?: boolean;
}

/**
 * 'sqlite:PATH' (PATH may be relative; 'sqlite::memory:' for tests) or 'postgres://…' / 'postgresql://…'.
 * Applies pending migrations. Throws FatalError('database-unreachable' | 'bad-db-url' | 'migration-failed', message)
 * with a message naming the URL without its password.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ReportStore> {
  const driver = await openDriver(url, { durable: options.durable });
  const shown = redactDbUrl(url);
  try {
    await applyMigrations(driver, MIGRATIONS);
  } catch (err) {
    await driver.close().catch(() => {});
    if (err instanceof FatalError) throw new FatalError(err.code, `database ${shown}: ${err.message}`, { cause: err });
    throw new FatalError('migration-failed', `cannot migrate database ${shown}: ${describe(err)}`, { cause: err });
  }
  return createSqlReportStore(driver, options.now);
}

/** The connection alone, without migrations (for openStore, tests and maintenance tools). */
export async function openDriver(url: string, options: { durable?: boolean } = {}): Promise<Driver> {
  const target = parseDbUrl(url);
  try {
    if (target.dialect === 'sqlite') return await openSqliteDriver(target.path, { durable: options.durable === true });
    // loaded only for PostgreSQL: pg and what it pulls in cost SQLite users a tenth of a second at every start
    const { openPostgresDriver } = await import('./postgres-driver.ts');
    return await openPostgresDriver(target.url);
  } catch (err) {
    throw new FatalError('database-unreachable', `cannot open database ${redactDbUrl(url)}: ${describe(err)}`, { cause: err });
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e) => describe(e)).join('; ');
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message || String(code ?? err.name);
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(err);
}
