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
/** prepared statements kept per connection: the multi-row INSERT shapes of several tables (insert-many.ts) fit */
const STATEMENT_CACHE_SIZE = 512;
/** a group commit ends after this many transactions or this long after its BEGIN, even while more are queued */
const GROUP_MAX_TRANSACTIONS = 64;
const GROUP_MAX_MS = 250;

/**
 * Write transactions of all stores of this process on one file take turns here: better-sqlite3 is synchronous,
 * so a second connection waiting inside SQLite for the lock would block the very event loop the first one needs.
 */
const fileMutexes = new Map<string, Shared>();

/** what all drivers of one file share: the write mutex, how many drivers use it, how many transactions queue on it */
interface Shared {
  mutex: AsyncMutex;
  users: number;
  queued: number;
  /** the driver whose group commit is open (its COMMIT may be deferred: see commitSoon) */
  groupOwner: SqliteDriver | null;
}

/** the write lock held by the current async context (a transaction body, and the iterables it consumes) */
const heldLock = new AsyncLocalStorage<AsyncMutex>();

type Connection = Database.Database;

export interface SqliteOptions {
  /**
   * Every commit reaches the disk before it returns (synchronous = FULL), so it survives a power cut too, not
   * only a crash of the process (WAL with NORMAL). For the IMAP poller, which moves or deletes the mail once
   * its reports are committed; each group commit costs one fsync then.
   */
  durable?: boolean;
}

export async function openSqliteDriver(file: string, options: SqliteOptions = {}): Promise<Driver> {
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
      writer.pragma(options.durable ? 'synchronous = FULL' : 'synchronous = NORMAL');
      writer.pragma('foreign_keys = ON');
      // 4 MiB of page cache: writes append mostly; more only grew the memory of a 200,000-record ingest
      writer.pragma('cache_size = -4096');
      // the journals of savepoints and statements in memory, not in temporary files: each member of a group
      // commit (a SAVEPOINT) opened, wrote and deleted one, which doubled the bytes written by an ingest
      writer.pragma('temp_store = MEMORY');
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
    shared = { mutex: new AsyncMutex(), users: 0, queued: 0, groupOwner: null };
    if (!memory) fileMutexes.set(path, shared);
  }
  shared.users++;
  return new SqliteDriver(writer, reader, shared, () => {
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
  readonly #shared: Shared;
  readonly #onClose: () => void;
  readonly #statements = new WeakMap<Connection, Map<string, Database.Statement>>();
  readonly #tx: SqlRunner;
  /** the open group commit (see transaction) */
  #group: CommitGroup | null = null;
  /** transactions of this driver waiting for or holding the mutex */
  #queued = 0;
  #closed = false;

  constructor(writer: Connection, reader: Connection | null, shared: Shared, onClose: () => void) {
    this.#writer = writer;
    this.#reader = reader;
    this.#shared = shared;
    this.#mutex = shared.mutex;
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
    return this.#mutex.run(async () => {
      // the one connection of an in-memory database: a read must not see a group's rows before they are committed
      this.#commitGroup();
      return this.#run(this.#writer, sql, params);
    });
  }

  /**
   * Group commit: transactions that queue up while one runs (ingest keeps several inputs in flight) join its
   * database transaction, each inside a SAVEPOINT (a failing one rolls back alone), and one COMMIT ends the
   * group. Each caller's promise resolves only after that COMMIT — never earlier — so "committed when it
   * resolves" holds, and the many small reports of a batch cost one commit (WAL pages written once) instead
   * of one each. A group ends one turn of the event loop after nobody waits any more (so a transaction that
   * becomes ready meanwhile still joins), when another driver of the file needs the write lock, or at
   * GROUP_MAX_TRANSACTIONS / GROUP_MAX_MS.
   */
  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    this.#refuseNested();
    this.#queued++;
    this.#shared.queued++;
    let done: Promise<void>;
    let result: T;
    try {
      result = await this.#mutex.run(() => heldLock.run(this.#mutex, async () => {
        const db = this.#writer;
        if (!this.#group) {
          // another driver of this file whose commit was deferred still holds the write lock: end its group
          const owner = this.#shared.groupOwner;
          if (owner && owner !== this) owner.#commitGroup();
          await retryWhileBusy(() => db.exec('BEGIN IMMEDIATE'));
          this.#group = new CommitGroup();
          this.#shared.groupOwner = this;
        }
        const group = this.#group;
        done = group.done;
        db.exec('SAVEPOINT dl_tx');
        try {
          const value = await fn(this.#tx);
          db.exec('RELEASE dl_tx');
          group.size++;
          return value;
        } catch (err) {
          if (db.inTransaction) {
            db.exec('ROLLBACK TO dl_tx');
            db.exec('RELEASE dl_tx');
          } else {
            // SQLite rolled the whole transaction back (e.g. disk full): the group's earlier members are lost too
            this.#group = null;
            if (this.#shared.groupOwner === this) this.#shared.groupOwner = null;
            group.fail(err);
          }
          throw err;
        } finally {
          // commit now (callers resolve after it) when a transaction of another driver on the same file waits
          // (its connection could not begin while this one holds the write lock) or the group is big or old
          // enough; when no other transaction of this driver waits, a moment later (commitSoon)
          if (this.#group === group) {
            const otherDriverWaits = this.#shared.queued !== this.#queued;
            if (otherDriverWaits || group.size >= GROUP_MAX_TRANSACTIONS || group.age() >= GROUP_MAX_MS) this.#commitGroup();
            else if (this.#queued === 1) this.#commitSoon(group);
          }
        }
      }));
    } finally {
      this.#queued--;
      this.#shared.queued--;
    }
    await done!;
    return result;
  }

  /**
   * Nobody queues behind the last transaction yet: the group is committed a moment later, so the transactions
   * that become ready meanwhile (other inputs still being read and parsed) join it rather than each paying for
   * a commit of its own.
   */
  #commitSoon(group: CommitGroup): void {
    if (group.commitScheduled) return;
    group.commitScheduled = true;
    setImmediate(() => void this.#mutex.run(async () => {
      if (this.#group === group) this.#commitGroup();
    }));
  }

  /** commits the open group, if any (holding the mutex), and settles its callers */
  #commitGroup(): void {
    const group = this.#group;
    if (!group) return;
    this.#group = null;
    if (this.#shared.groupOwner === this) this.#shared.groupOwner = null;
    const db = this.#writer;
    try {
      db.exec('COMMIT');
      group.commit();
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      group.fail(err);
    }
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
      this.#commitGroup();
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

/** The callers of one group commit: settled together when its COMMIT succeeds or fails. */
class CommitGroup {
  size = 0;
  commitScheduled = false;
  readonly #began = Date.now();
  readonly done: Promise<void>;
  commit!: () => void;
  fail!: (err: unknown) => void;
  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.commit = resolve;
      this.fail = reject;
    });
    // a group whose callers all failed on their own has nobody awaiting `done`
    this.done.catch(() => {});
  }
  age(): number {
    return Date.now() - this.#began;
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
