/**
 * The SQLite driver's group commit: transactions queued behind a running one share its database transaction
 * (one SAVEPOINT each) and one COMMIT. What callers rely on must hold: a transaction's promise resolves only
 * once its rows are committed (another connection sees them), a failing member rolls back alone, and drivers
 * of the same file never wait for each other forever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Driver } from '../../server/store/driver.ts';
import { openSqliteDriver } from '../../server/store/sqlite-driver.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-group-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

async function freshDriver(): Promise<{ driver: Driver; file: string }> {
  const file = join(dir, `g-${++fileNo}.db`);
  const driver = await openSqliteDriver(file);
  await driver.transaction((tx) => tx.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)'));
  return { driver, file };
}

/** what a separate connection (another process, say) sees committed */
function committedKeys(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: number }[]).map((r) => r.k);
  } finally {
    db.close();
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SQLite group commit', () => {
  it('resolves each queued transaction only once its rows are visible to another connection', async () => {
    const { driver, file } = await freshDriver();
    const seenAtResolve: Record<number, number[]> = {};
    const writes = Array.from({ length: 40 }, (_, i) =>
      driver
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, `v${i}`]);
          await tick(); // let the others queue up behind this one
        })
        .then(() => {
          seenAtResolve[i] = committedKeys(file);
        }),
    );
    await Promise.all(writes);
    for (let i = 0; i < 40; i++) expect(seenAtResolve[i]).toContain(i);
    expect(committedKeys(file)).toHaveLength(40);
    await driver.close();
  });

  it('rolls back a failing member alone; the others of its group are committed', async () => {
    const { driver, file } = await freshDriver();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        driver.transaction(async (tx) => {
          await tx.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, `v${i}`]);
          await tick();
          if (i % 4 === 1) {
            await tx.query('INSERT INTO t (k, v) VALUES (?, ?)', [1000 + i, 'written before the failure']);
            throw new Error(`member ${i} fails`);
          }
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([1, 5, 9]);
    expect(committedKeys(file)).toEqual([0, 2, 3, 4, 6, 7, 8, 10, 11]);
    await driver.close();
  });

  it('a constraint error inside a member is that member’s error only', async () => {
    const { driver, file } = await freshDriver();
    const results = await Promise.allSettled(
      [1, 2, 2, 3].map((k) =>
        driver.transaction(async (tx) => {
          await tick();
          await tx.query('INSERT INTO t (k, v) VALUES (?, ?)', [k, 'x']);
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(committedKeys(file)).toEqual([1, 2, 3]);
    await driver.close();
  });

  it('two drivers of one file interleaving transactions both finish (no one waits for the other’s open group)', async () => {
    const { driver: a, file } = await freshDriver();
    const b = await openSqliteDriver(file);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const d = i % 3 === 0 ? b : a;
      writes.push(
        d.transaction(async (tx) => {
          await tx.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x']);
          await tick();
        }),
      );
    }
    await Promise.all(writes);
    expect(committedKeys(file)).toHaveLength(30);
    // and each sees the other's rows through its own reads
    expect((await a.query('SELECT count(*) AS n FROM t'))[0]!.n).toBe(30);
    expect((await b.query('SELECT count(*) AS n FROM t'))[0]!.n).toBe(30);
    await a.close();
    await b.close();
  });

  it('a transaction begun right after another ended (same turn of the event loop) shares its commit', async () => {
    // what ingest does: the next report's transaction starts while the previous one's commit is still due
    const { driver, file } = await freshDriver();
    const settle = async () => {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    };
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      let ended = false;
      writes.push(
        driver.transaction(async (tx) => {
          await tx.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x']);
          ended = true;
        }),
      );
      // the body and the end of the transaction have run (nobody was queued behind it) before the next begins
      while (!ended) await Promise.resolve();
      await settle();
    }
    await Promise.all(writes);
    expect(committedKeys(file)).toHaveLength(20);
    // every commit appends at least the table's page to the write-ahead log: 20 commits would leave 20 frames
    const other = new Database(file);
    try {
      const [frames] = other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      expect(frames!.log).toBeLessThan(10);
    } finally {
      other.close();
    }
    await driver.close();
  });

  it('two drivers of one file: a deferred commit of one never blocks the other’s transaction', { timeout: 20_000 }, async () => {
    const { driver: a, file } = await freshDriver();
    const b = await openSqliteDriver(file);
    // a's commit is deferred to the next turn of the event loop; b's transaction, queued meanwhile, must end it
    let ended = false;
    const first = a.transaction(async (tx) => {
      await tx.query('INSERT INTO t (k, v) VALUES (1, ?)', ['a']);
      ended = true;
    });
    while (!ended) await Promise.resolve();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    const second = b.transaction((tx) => tx.query('INSERT INTO t (k, v) VALUES (2, ?)', ['b']));
    await Promise.all([first, second]);
    expect(committedKeys(file)).toEqual([1, 2]);
    await a.close();
    await b.close();
  });

  it('a durable driver (the IMAP poller’s) syncs every commit to disk; the default relies on the WAL', async () => {
    const file = join(dir, `g-${++fileNo}.db`);
    const durable = await openSqliteDriver(file, { durable: true });
    const plain = await openSqliteDriver(file);
    // PRAGMA synchronous of each one's writing connection: 2 = FULL, 1 = NORMAL
    expect(await durable.transaction((tx) => tx.query('PRAGMA synchronous'))).toEqual([{ synchronous: 2 }]);
    expect(await plain.transaction((tx) => tx.query('PRAGMA synchronous'))).toEqual([{ synchronous: 1 }]);
    await durable.close();
    await plain.close();
  });

  it('an in-memory database commits an open group before a read, so no read sees rows that are later lost', async () => {
    const driver = await openSqliteDriver(':memory:');
    await driver.transaction((tx) => tx.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)'));
    // queued in this order: first (its group stays open: second waits), the read, second
    const first = driver.transaction(async (tx) => {
      await tx.query('INSERT INTO t (k, v) VALUES (1, ?)', ['x']);
      await tick();
    });
    const read = driver.query('SELECT k FROM t ORDER BY k');
    const second = driver.transaction(async (tx) => {
      await tx.query('INSERT INTO t (k, v) VALUES (2, ?)', ['y']);
      // ends the whole database transaction, as SQLite does itself on some errors: whatever is still in it is lost
      await tx.exec('ROLLBACK');
      throw new Error('second fails');
    });
    expect(await read).toEqual([{ k: 1 }]);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toThrow('second fails');
    expect(await driver.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 1 }]);
    await driver.close();
  });
});
