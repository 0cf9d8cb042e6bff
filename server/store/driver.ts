/**
 * The tiny seam between the one SQL implementation of ReportStore and a database engine.
 * SQL is written once with `?` placeholders; a driver translates it if its engine wants another style.
 * Differences are expressed as data (column types, capability flags), never as `if (dialect === …)` in callers.
 */
export type SqlValue = string | number | bigint | Buffer | null;
export type Row = Record<string, unknown>;

/** What runs inside a transaction (writes) — and, for `query`, reads outside one. */
export interface SqlRunner {
  /** one statement with `?` placeholders; returns its rows (none for a statement without RETURNING) */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** one or more statements without parameters (DDL) */
  exec(sql: string): Promise<void>;
  /**
   * Inserts many rows with multi-row INSERTs that stay within the parameter limit. `values` holds the rows one
   * after another, each in `columns` order (flat, so a large write makes no array per row).
   */
  insertMany(table: string, columns: readonly string[], values: readonly SqlValue[]): Promise<void>;
}

/** Column type names a migration interpolates, so one schema text serves every dialect. */
export interface ColumnTypes {
  /** auto-increment 64-bit primary key column definition */
  id: string;
  /** 64-bit integer */
  bigint: string;
  bytes: string;
  /** read back with Boolean(); written as 0/1 */
  bool: string;
  /** JSON stored as text */
  json: string;
  /** appended after a table definition whose rows are clustered by their composite primary key */
  clusteredSuffix: string;
}

export interface Capabilities {
  /** most bound parameters one statement may carry */
  maxParameters: number;
  /** rows per multi-row INSERT that the engine handles best */
  rowsPerInsert: number;
  /** statement that makes concurrent migration runs wait for each other, or null when the write transaction already does */
  migrationLock: string | null;
  /** appended to a text expression so ORDER BY sorts by code point, as JavaScript does ('' when it already does) */
  codePointOrder: string;
}

export interface Driver {
  readonly dialect: 'sqlite' | 'postgres';
  readonly types: ColumnTypes;
  readonly caps: Capabilities;
  /** a read outside any transaction; it never sees another transaction's uncommitted rows */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** runs `fn` in one write transaction: committed when it resolves, rolled back (and rethrown) when it throws */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
