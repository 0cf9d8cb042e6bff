import type { Capabilities, SqlValue } from './driver.ts';

/** a remainder of up to this many rows is written by one statement of its exact size */
export const EXACT_INSERT_ROWS = 64;

/**
 * How many rows each INSERT of a multi-row write carries: full statements of the preferred size, then the
 * remainder in one statement when it is small (most reports and rollups: one statement, not three or four),
 * else split into powers of two — so an engine caches at most EXACT_INSERT_ROWS + a dozen statement shapes per
 * table.
 */
export function planInsertChunks(rowCount: number, columnCount: number, maxParameters: number, rowsPerInsert: number): number[] {
  const full = Math.max(1, Math.min(rowsPerInsert, Math.floor(maxParameters / Math.max(1, columnCount))));
  const sizes: number[] = [];
  let left = rowCount;
  while (left >= full) {
    sizes.push(full);
    left -= full;
  }
  if (left > 0 && left <= EXACT_INSERT_ROWS) return [...sizes, left];
  for (let size = 1 << 30; left > 0; size >>= 1) {
    if (size <= left) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

const sqlCache = new Map<string, string>();

/** `INSERT INTO t (a, b) VALUES (?, ?), (?, ?)` for `rowCount` rows */
export function multiRowInsertSql(table: string, columns: readonly string[], rowCount: number): string {
  const key = `${table}(${columns.join(',')})${rowCount}`;
  let sql = sqlCache.get(key);
  if (sql === undefined) {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rowCount }, () => tuple).join(', ')}`;
    if (sqlCache.size < 500) sqlCache.set(key, sql);
  }
  return sql;
}

/** Runs the rows in flat `values` as multi-row INSERTs through `run(sql, params)`. */
export async function runInsertMany(
  run: (sql: string, params: SqlValue[]) => Promise<unknown>,
  table: string,
  columns: readonly string[],
  values: readonly SqlValue[],
  caps: Pick<Capabilities, 'maxParameters' | 'rowsPerInsert'>,
): Promise<void> {
  const width = columns.length;
  if (width === 0 || values.length % width !== 0) {
    throw new Error(`insert into ${table}: ${values.length} values do not make whole rows of ${width} columns`);
  }
  let at = 0;
  for (const size of planInsertChunks(values.length / width, width, caps.maxParameters, caps.rowsPerInsert)) {
    const end = at + size * width;
    await run(multiRowInsertSql(table, columns, size), values.slice(at, end));
    at = end;
  }
}
