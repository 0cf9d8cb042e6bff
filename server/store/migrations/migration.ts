import type { Capabilities, ColumnTypes, SqlRunner } from '../driver.ts';

/**
 * One numbered schema step. `sql` receives the dialect's column types, so one text serves SQLite and PostgreSQL.
 * To add a step: create `NNN-what-it-does.ts` exporting a Migration with the next version, and list it in index.ts.
 */
export interface Migration {
  version: number;
  name: string;
  sql(t: ColumnTypes): string;
  /**
   * Optional data step run after `sql`, in the same transaction (e.g. a backfill computed in TypeScript).
   * It may only use `tx` (the migration's own transaction).
   */
  run?(tx: SqlRunner, engine: { types: ColumnTypes; caps: Capabilities }): Promise<void>;
}
