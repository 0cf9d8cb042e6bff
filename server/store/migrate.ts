import { FatalError } from '../errors.ts';
import type { Driver } from './driver.ts';
import type { Migration } from './migrations/migration.ts';

/**
 * Applies the migrations not yet recorded in schema_migrations, in version order, each in its own transaction.
 * Safe when several processes open the same database at once. Returns the versions applied now.
 */
export async function applyMigrations(driver: Driver, migrations: readonly Migration[]): Promise<number[]> {
  checkOrder(migrations);
  const lock = async (tx: { query(sql: string): Promise<unknown> }) => {
    if (driver.caps.migrationLock) await tx.query(driver.caps.migrationLock);
  };
  await driver.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${driver.types.bigint} NOT NULL)`,
    );
  });
  const known = await appliedVersions(driver);
  const newest = migrations.at(-1)?.version ?? 0;
  const ahead = known.filter((v) => v > newest);
  if (ahead.length > 0) {
    throw new FatalError(
      'migration-failed',
      `the database schema is at version ${Math.max(...ahead)}, newer than this dmarc-lens knows (${newest}); upgrade dmarc-lens`,
    );
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (known.includes(migration.version)) continue;
    const ran = await driver.transaction(async (tx) => {
      await lock(tx);
      // another process may have applied it while we waited for the lock
      const done = await tx.query('SELECT version FROM schema_migrations WHERE version = ?', [migration.version]);
      if (done.length > 0) return false;
      try {
        await tx.exec(migration.sql(driver.types));
        if (migration.run) await migration.run(tx, { types: driver.types, caps: driver.caps });
      } catch (err) {
        throw new FatalError(
          'migration-failed',
          `migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Math.floor(Date.now() / 1000),
      ]);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}

export async function appliedVersions(driver: Driver): Promise<number[]> {
  const rows = await driver.query('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((r) => Number(r.version));
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: position ${i + 1} holds version ${m.version} (${m.name})`);
  });
}
