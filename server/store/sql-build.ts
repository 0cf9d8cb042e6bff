import type { Row, SqlValue } from './driver.ts';

/** `INSERT INTO table (cols…) VALUES (?…)` for one row given as a column → value object. */
export function insertRowSql(table: string, values: Record<string, SqlValue>): { sql: string; params: SqlValue[] } {
  const columns = Object.keys(values);
  return {
    sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    params: Object.values(values),
  };
}

/** Conditions joined with AND, collected together with their parameters. */
export class Where {
  readonly #parts: string[] = [];
  readonly params: SqlValue[] = [];

  add(condition: string, ...params: SqlValue[]): this {
    this.#parts.push(condition);
    this.params.push(...params);
    return this;
  }

  toString(): string {
    return this.#parts.length === 0 ? '' : `WHERE ${this.#parts.join(' AND ')}`;
  }
}

export const PAGE_SIZE = 200;

/**
 * Streams rows ordered by (`at`, id) a page at a time (keyset paging: no long-lived cursor, no OFFSET).
 * `fetch(after)` returns the next page of up to PAGE_SIZE rows after the given (at, id), or the first page for null.
 */
export async function* keysetPages(
  fetch: (after: readonly [number, number] | null) => Promise<Row[]>,
  atColumn: string,
): AsyncGenerator<Row> {
  let after: readonly [number, number] | null = null;
  for (;;) {
    const rows = await fetch(after);
    yield* rows;
    const last = rows.at(-1);
    if (rows.length < PAGE_SIZE || !last) return;
    after = [Number(last[atColumn]), Number(last.id)];
  }
}
