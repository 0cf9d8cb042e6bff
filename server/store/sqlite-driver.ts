import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { AsyncMutex } from './async-mutex.ts';
import type { Driver, Row, SqlRunner, SqlValue } from './driver.ts';
import { runInsertMany } from './insert-many.ts';

/** how long a write waits for another process's write transaction before giving up */
const WRITE_LOCK_WAIT_MS = 120_000;
/** the synchronous wait inside SQLite; longer waits are async retries so the event loop keeps running */
const BUSY_TIMEOUT_MS = 100;
const STATEMENT_CACHE_SIZE = 256;

/**
 * Write transactions of all stores of this process on one file take turns here: better-sqlite3 is synchronous,
 * so a second connection waiting inside SQLite for the lock would block the very event loop the first one needs.
 */
const fileMutexes = new Map<string, { mutex: AsyncMutex; users: number }>();

/** the write lock held by the current async context (a transaction body, and the iterables it consumes) */
const heldLock = new AsyncLocalStorage<AsyncMutex>();

type Connection = Database.Database;

export async function openSqliteDriver(file: string): Promise<Driver> {
  const memory = file === ':memory:';
  const path = memory ? file : resolve(file);
  const writer = connect(path, false);
  let reader: Connection | null = null;
  try {
    await retryWhileBusy(() => {
      // default page size: a larger one speeds up huge single-report inserts but makes every per-report commit
      // write more WAL bytes, which costs more on the usual many-small-reports workload
      writer.pragma('page_size = 4096');
      writer.pragma('journal_mode = WAL');
      writer.pragma('synchronous = NORMAL');
      writer.pragma('foreign_keys = ON');
      writer.pragma('cache_size = -16384');
    });
    // A second connection reads committed data while a write transaction is open (WAL). An in-memory database
    // has only one connection, so its reads wait for the write transaction instead.
    if (!memory) reader = connect(path, true);
  } catch (err) {
    writer.close();
    throw err;
  }
  let shared = memory ? undefined : fileMutexes.get(path);
  if (!shared) {
    shared = { mutex: new AsyncMutex(), users: 0 };
    if (!memory) fileMutexes.set(path, shared);
  }
  shared.users++;
  return new SqliteDriver(writer, reader, shared.mutex, () => {
    if (shared.users-- === 1) fileMutexes.delete(path);
  });
}

function connect(path: string, readonly: boolean): Connection {
  const db = new Database(path, readonly ? { readonly: true, fileMustExist: true } : {});
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  readonly types = {
    id: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    bigint: 'INTEGER',
    bytes: 'BLOB',
    bool: 'INTEGER',
    json: 'TEXT',
    clusteredSuffix: ' WITHOUT ROWID',
  };
  // SQLite ≥ 3.32 allows 32766 parameters
  readonly caps = { maxParameters: 32_766, rowsPerInsert: 500, migrationLock: null, codePointOrder: '' };
  readonly #writer: Connection;
  readonly #reader: Connection | null;
  readonly #mutex: AsyncMutex;
  readonly #onClose: () => void;
  readonly #statements = new WeakMap<Connection, Map<string, Database.Statement>>();
  readonly #tx: SqlRunner;
  #closed = false;

  constructor(writer: Connection, reader: Connection | null, mutex: AsyncMutex, onClose: () => void) {
    this.#writer = writer;
    this.#reader = reader;
    this.#mutex = mutex;
    this.#onClose = onClose;
    this.#tx = {
      query: async (sql, params = []) => this.#run(writer, sql, params),
      exec: async (sql) => void writer.exec(sql),
      insertMany: (table, columns, values) =>
        runInsertMany(async (sql, params) => this.#run(writer, sql, params), table, columns, values, this.caps),
    };
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    const reader = this.#reader;
    if (reader) return this.#run(reader, sql, params);
    this.#refuseNested();
    return this.#mutex.run(async () => this.#run(this.#writer, sql, params));
  }

  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    this.#refuseNested();
    return this.#mutex.run(() => heldLock.run(this.#mutex, async () => {
      const db = this.#writer;
      await retryWhileBusy(() => db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.#tx);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    }));
  }

  /**
   * A store call made while this file's write lock is held by the same async flow — e.g. from inside the records
   * iterable handed to saveAggregate — would wait for itself forever. Fail loudly instead of hanging.
   */
  #refuseNested(): void {
    if (heldLock.getStore() === this.#mutex) {
      throw new Error('store called from inside one of its own write transactions (e.g. from a records iterable); this would deadlock');
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#mutex.run(async () => {
      this.#reader?.close();
      this.#writer.close();
    });
    this.#onClose();
  }

  #run(db: Connection, sql: string, params: readonly SqlValue[]): Row[] {
    const statement = this.#prepare(db, sql);
    // an array binds the anonymous parameters in order (no argument spreading of thousands of values)
    if (statement.reader) return statement.all(params) as Row[];
    statement.run(params);
    return [];
  }

  #prepare(db: Connection, sql: string): Database.Statement {
    let cache = this.#statements.get(db);
    if (!cache) this.#statements.set(db, (cache = new Map()));
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }
}

/** Runs `fn`, retrying asynchronously while another process holds the write lock. */
async function retryWhileBusy(fn: () => void): Promise<void> {
  const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    try {
      fn();
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
      await sleep(wait);
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}
