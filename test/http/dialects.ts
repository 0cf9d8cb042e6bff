/**
 * The database engines a suite runs against: SQLite always, PostgreSQL when one is available (a fresh database
 * per fixture); otherwise a loud skip (a failure with CI=true) from test/helpers/postgres.ts.
 */
import { describePostgresUnavailable, getTestPostgres } from '../helpers/postgres.ts';

export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** a database URL for one fixture (undefined: the fixture makes a temp SQLite file) */
  newUrl(): Promise<string | undefined>;
}

export async function webDialects(suite: string): Promise<{ dialects: Dialect[]; cleanup(): Promise<void> }> {
  const dialects: Dialect[] = [{ name: 'sqlite', newUrl: async () => undefined }];
  const pg = await getTestPostgres();
  if (!pg) {
    describePostgresUnavailable(suite);
    return { dialects, cleanup: async () => {} };
  }
  dialects.push({ name: 'postgres', newUrl: () => pg.newDatabase() });
  return { dialects, cleanup: () => pg.cleanup() };
}
