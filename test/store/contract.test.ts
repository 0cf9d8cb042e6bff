/**
 * One contract suite for every store dialect: SQLite (file and :memory:) and PostgreSQL (when a server is
 * available; see test/helpers/postgres.ts — skipped loudly, or failed when CI=true, without one).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AggregateRecord } from '../../server/domain/report-types.ts';
import { FatalError } from '../../server/errors.ts';
import { appliedVersions, applyMigrations } from '../../server/store/migrate.ts';
import { MIGRATIONS } from '../../server/store/migrations/index.ts';
import type { Migration } from '../../server/store/migrations/migration.ts';
import { openDriver, openStore } from '../../server/store/open-store.ts';
import type { QuarantineInput, ReportStore, SaveOutcome } from '../../server/store/report-store.ts';
import { describePostgresUnavailable, getTestPostgres } from '../helpers/postgres.ts';
import {
  batches,
  collect,
  fullFailure,
  fullHeader,
  fullRecord,
  fullTls,
  nullFailure,
  nullHeader,
  nullRecord,
} from './store-fixtures.ts';

interface Target {
  name: string;
  /** data survives close/re-open and can be shared by two store instances */
  persistent: boolean;
  freshUrl(): Promise<string>;
}

const tmp = mkdtempSync(join(tmpdir(), 'dmarc-lens-store-'));
let fileNo = 0;
const TARGETS: Target[] = [
  { name: 'sqlite (file)', persistent: true, freshUrl: async () => `sqlite:${join(tmp, `store-${++fileNo}.db`)}` },
  { name: 'sqlite (:memory:)', persistent: false, freshUrl: async () => 'sqlite::memory:' },
];
const postgres = await getTestPostgres();
/** tests that only mean something for a database that outlives its connection (not :memory:): not defined at all there, so no skip */
const onlyPersistent = (target: { persistent: boolean }) => (name: string, fn: () => Promise<void>) => {
  if (target.persistent) it(name, fn);
};
if (postgres) TARGETS.push({ name: `postgres (${postgres.source})`, persistent: true, freshUrl: () => postgres.newDatabase() });
else describePostgresUnavailable('store contract');

afterAll(async () => {
  await postgres?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const origin = { input: '/reports/in/example.xml.gz', member: 'gunzip' };
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

for (const target of TARGETS) {
  describe(target.name, () => {
    const persistentIt = onlyPersistent(target);
    const clock = { t: 1_800_000_000 };
    const open: ReportStore[] = [];
    const openAt = async (url: string) => {
      const store = await openStore(url, { now: () => clock.t });
      open.push(store);
      return store;
    };
    const fresh = async () => openAt(await target.freshUrl());
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
    });

    it('round-trips every field of an aggregate report and its records', async () => {
      const store = await fresh();
      expect(store.dialect).toBe(target.name.startsWith('postgres') ? 'postgres' : 'sqlite');
      const header = fullHeader();
      const records = [fullRecord(0), fullRecord(1), nullRecord(2), fullRecord(3), fullRecord(5)];
      const saved = await store.saveAggregate(header, batches(records, 2), origin);
      expect(saved.outcome).toBe('stored');
      const bare = nullHeader();
      const savedBare = await store.saveAggregate(bare, batches([], 1), { input: '-', member: null });
      const listed = await collect(store.listAggregates({}));
      expect(listed).toEqual([
        { id: savedBare.id, header: bare, origin: { input: '-', member: null }, receivedAt: clock.t, records: [] },
        { id: saved.id, header, origin, receivedAt: clock.t, records },
      ]);
    });

    it('writes the errors that grew while the record batches arrived', async () => {
      const store = await fresh();
      const header = fullHeader({ errors: ['first'] });
      async function* growing(): AsyncGenerator<AggregateRecord[]> {
        yield [fullRecord(0)];
        header.errors.push('repaired: record 1');
        yield [fullRecord(1)];
        header.errors.push('repaired: trailing garbage');
      }
      await store.saveAggregate(header, growing(), origin);
      const [stored] = await collect(store.listAggregates({}));
      expect(stored?.header.errors).toEqual(['first', 'repaired: record 1', 'repaired: trailing garbage']);
    });

    it('treats the same key with other case and whitespace as a duplicate and drains its records', async () => {
      const store = await fresh();
      const first = await store.saveAggregate(fullHeader(), batches([fullRecord(0), fullRecord(1)], 1), origin);
      let drained = false;
      async function* again(): AsyncGenerator<AggregateRecord[]> {
        yield [fullRecord(0)];
        yield [fullRecord(1), fullRecord(2)];
        drained = true;
      }
      const header = fullHeader({ orgName: '  EXAMPLE   reporter inc. ', reportId: ' RPT-0001-äö\t' });
      header.policy.domain = 'Example.COM ';
      const second = await store.saveAggregate(header, again(), { input: 'other', member: null });
      expect(second).toEqual({ outcome: 'duplicate', id: first.id });
      expect(drained).toBe(true);
      // null and empty org name share a key; another period is another report
      const bare = await store.saveAggregate(nullHeader(), batches([], 1), origin);
      expect(await store.saveAggregate(nullHeader({ orgName: '' }), batches([], 1), origin)).toEqual({ outcome: 'duplicate', id: bare.id });
      // epochs are whole seconds on every engine: a fraction is dropped, not a new key
      expect(await store.saveAggregate(fullHeader({ begin: fullHeader().begin + 0.75 }), batches([], 1), origin)).toEqual({ outcome: 'duplicate', id: first.id });
      const later = await store.saveAggregate(fullHeader({ end: fullHeader().end + 1 }), batches([fullRecord(0)], 1), origin);
      expect(later.outcome).toBe('stored');
      expect(await store.counts()).toMatchObject({ aggregate: 3, records: 3 });
      const [stored] = await collect(store.listAggregates({ domain: 'example.com' }));
      expect(stored?.records).toHaveLength(2);
    });

    it('rolls back everything when the records iterable throws mid-way', async () => {
      const store = await fresh();
      async function* failing(): AsyncGenerator<AggregateRecord[]> {
        yield Array.from({ length: 3000 }, (_, i) => fullRecord(i));
        throw new Error('parser gave up at record 3000');
      }
      await expect(store.saveAggregate(fullHeader(), failing(), origin)).rejects.toThrow('parser gave up at record 3000');
      expect(await store.counts()).toMatchObject({ aggregate: 0, records: 0 });
      expect(await collect(store.listAggregates({}))).toEqual([]);
      // the key is free again
      const retry = await store.saveAggregate(fullHeader(), batches([fullRecord(0)], 1), origin);
      expect(retry.outcome).toBe('stored');
    });

    it('propagates a record the database refuses, storing nothing', async () => {
      const store = await fresh();
      const twice = [fullRecord(0), fullRecord(0)]; // same ordinal twice violates the primary key
      await expect(store.saveAggregate(fullHeader(), batches(twice, 2), origin)).rejects.toThrow();
      expect(await store.counts()).toMatchObject({ aggregate: 0, records: 0 });
    });

    it('answers (never hangs on) a store call made from inside the records iterable', async () => {
      const store = await fresh();
      const answers: string[] = [];
      // a first batch as large as what is read before the write transaction begins (1,000 records, or more): the call
      // below then comes from inside the transaction
      const first = Array.from({ length: 2000 }, (_, i) => fullRecord(i));
      async function* reentrant(): AsyncGenerator<AggregateRecord[]> {
        yield first;
        const q = { origin, type: null, code: 'empty', detail: '', bytes: Buffer.alloc(1), truncated: false, sha256: 'c'.repeat(64) } as const;
        answers.push(await store.saveQuarantine(q).then(() => 'saved', (e: Error) => e.message));
        answers.push(await store.counts().then(() => 'counted', (e: Error) => e.message));
        yield [fullRecord(2000)];
      }
      expect((await store.saveAggregate(fullHeader(), reentrant(), origin)).outcome).toBe('stored');
      // SQLite has one writer: a nested write is refused with a clear error. PostgreSQL runs it on another connection.
      for (const answer of answers) expect(answer).toMatch(/^(saved|counted)$|deadlock/);
      if (store.dialect === 'sqlite') expect(answers[0]).toMatch(/deadlock/);
      // outside the transaction everything works again
      expect((await store.saveQuarantine({ origin, type: null, code: 'empty', detail: '', bytes: Buffer.alloc(2), truncated: false, sha256: 'd'.repeat(64) })).isNew).toBe(true);
      expect(await store.counts()).toMatchObject({ aggregate: 1, records: 2001 });
    });

    it('reads a small report before its write transaction: a store call from its records iterable just works', async () => {
      const store = await fresh();
      const answers: string[] = [];
      async function* reentrant(): AsyncGenerator<AggregateRecord[]> {
        yield [fullRecord(0)];
        const q = { origin, type: null, code: 'empty', detail: '', bytes: Buffer.alloc(3), truncated: false, sha256: 'e'.repeat(64) } as const;
        answers.push(await store.saveQuarantine(q).then(() => 'saved', (e: Error) => e.message));
        yield [fullRecord(1)];
      }
      expect((await store.saveAggregate(fullHeader(), reentrant(), origin)).outcome).toBe('stored');
      expect(answers).toEqual(['saved']);
      expect(await store.counts()).toMatchObject({ aggregate: 1, records: 2 });
    });

    it('round-trips a 20,000-record report sent in batches', async () => {
      const store = await fresh();
      const records = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 3 ? nullRecord(i) : fullRecord(i)));
      const saved = await store.saveAggregate(fullHeader(), batches(records, 733), origin);
      expect(saved.outcome).toBe('stored');
      const [stored] = await collect(store.listAggregates({}));
      expect(stored?.records.length).toBe(20_000);
      expect(stored?.records).toEqual(records);
      expect(await store.counts()).toMatchObject({ aggregate: 1, records: 20_000 });
    });

    it('round-trips every field of failure reports and dedups them by key', async () => {
      const store = await fresh();
      const full = fullFailure();
      const bare = nullFailure();
      const a = await store.saveFailure(full, origin, 'key-a');
      clock.t += 10;
      const b = await store.saveFailure(bare, { input: 'imap://acct/INBOX/7', member: null }, 'key-b');
      expect(await store.saveFailure(fullFailure({ sourceIp: '10.0.0.1' }), origin, 'key-a')).toEqual({ outcome: 'duplicate', id: a.id });
      const listed = await collect(store.listFailures({}));
      // ordered by arrival date; the one without takes its received time
      expect(listed).toEqual([
        { id: a.id, report: full, origin, receivedAt: clock.t - 10 },
        { id: b.id, report: bare, origin: { input: 'imap://acct/INBOX/7', member: null }, receivedAt: clock.t },
      ]);
      clock.t -= 10;
    });

    it('round-trips every field of TLS reports and dedups them case-insensitively', async () => {
      const store = await fresh();
      const report = fullTls();
      const saved = await store.saveTls(report, origin);
      expect(saved.outcome).toBe('stored');
      const again = await store.saveTls(fullTls({ orgName: 'GOOGLE INC.', reportId: ` ${report.reportId.toUpperCase()}` }), origin);
      expect(again).toEqual({ outcome: 'duplicate', id: saved.id });
      const empty = fullTls({ reportId: 'no-policies', contactInfo: null, policies: [] });
      const savedEmpty = await store.saveTls(empty, origin);
      expect(await collect(store.listTls({}))).toEqual([
        { id: saved.id, report, origin, receivedAt: clock.t },
        { id: savedEmpty.id, report: empty, origin, receivedAt: clock.t },
      ]);
    });

    it('keeps quarantined bytes exactly, once per (sha256, member, code), and marks them resolved', async () => {
      const store = await fresh();
      const bytes = Buffer.from([0x00, 0x1f, 0x8b, 0x00, 0xff, 0xfe, 0x00, ...Buffer.from('<feedback>\u0000')]);
      const q: QuarantineInput = {
        origin: { input: '/in/bad.zip', member: 'a.xml' },
        type: 'aggregate',
        code: 'bad-xml',
        detail: 'unclosed tag at 1:40',
        bytes,
        truncated: false,
        sha256: 'a'.repeat(64),
      };
      const first = await store.saveQuarantine(q);
      expect(first.isNew).toBe(true);
      expect(await store.saveQuarantine({ ...q, detail: 'other words', origin: { input: '/elsewhere', member: 'a.xml' } })).toEqual({
        id: first.id,
        isNew: false,
      });
      const otherCode = await store.saveQuarantine({ ...q, code: 'schema' });
      const noMember = await store.saveQuarantine({ ...q, origin: { input: '/in/bad.xml', member: null }, type: null, truncated: true, bytes: Buffer.alloc(0) });
      expect(await store.saveQuarantine({ ...q, origin: { input: '/again.xml', member: null } })).toEqual({ id: noMember.id, isNew: false });
      expect(new Set([first.id, otherCode.id, noMember.id]).size).toBe(3);

      expect(await store.getQuarantineBytes(first.id)).toEqual(bytes);
      expect(await store.getQuarantineBytes(noMember.id)).toEqual(Buffer.alloc(0));
      expect(await store.getQuarantineBytes(999_999)).toBeNull();

      clock.t += 60;
      await store.markQuarantineResolved(first.id);
      clock.t += 60;
      await store.markQuarantineResolved(first.id); // the first resolution time stays
      const rows = await collect(store.listQuarantine({}));
      expect(rows).toEqual([
        { id: first.id, input: '/in/bad.zip', member: 'a.xml', type: 'aggregate', code: 'bad-xml', detail: 'unclosed tag at 1:40', sha256: q.sha256, size: bytes.length, truncated: false, receivedAt: clock.t - 120, resolvedAt: clock.t - 60 },
        { id: otherCode.id, input: '/in/bad.zip', member: 'a.xml', type: 'aggregate', code: 'schema', detail: 'unclosed tag at 1:40', sha256: q.sha256, size: bytes.length, truncated: false, receivedAt: clock.t - 120, resolvedAt: null },
        { id: noMember.id, input: '/in/bad.xml', member: null, type: null, code: 'bad-xml', detail: 'unclosed tag at 1:40', sha256: q.sha256, size: 0, truncated: true, receivedAt: clock.t - 120, resolvedAt: null },
      ]);
      expect((await collect(store.listQuarantine({ unresolvedOnly: true }))).map((r) => r.id)).toEqual([otherCode.id, noMember.id]);
      clock.t -= 120;
    });

    it('filters every list by domain (case-insensitive) and by period, inclusively', async () => {
      const store = await fresh();
      const day = 86_400;
      const t0 = 1_700_000_000;
      const agg = async (domain: string | null, begin: number, end: number) => {
        const header = fullHeader({ reportId: `r-${domain}-${begin}-${end}`, begin, end });
        header.policy.domain = domain;
        return (await store.saveAggregate(header, batches([fullRecord(0)], 1), origin)).id;
      };
      const a1 = await agg('example.com', t0, t0 + day - 1);
      const b1 = await agg('other.org', t0 + day, t0 + 2 * day - 1);
      const a2 = await agg('EXAMPLE.com', t0 + 2 * day, t0 + 9 * day); // a week-long report
      const n1 = await agg(null, t0, t0);
      const ids = async (filter: Parameters<ReportStore['listAggregates']>[0]) =>
        (await collect(store.listAggregates(filter))).map((r) => r.id);
      expect(await ids({})).toEqual([a1, n1, b1, a2]); // by begin, then id
      expect(await ids({ domain: 'Example.Com' })).toEqual([a1, a2]);
      expect(await ids({ from: t0 + day - 1 })).toEqual([a1, b1, a2]); // ends exactly at `from`
      expect(await ids({ to: t0 + day })).toEqual([a1, n1, b1]); // b1 begins exactly at `to`
      expect(await ids({ from: t0 + 5 * day, to: t0 + 6 * day })).toEqual([a2]); // inside the week
      expect(await ids({ domain: 'example.com', from: t0 + day, to: t0 + 2 * day - 1 })).toEqual([]);

      await store.saveFailure(fullFailure({ arrivalDate: t0 + 10, reportedDomain: 'Example.com' }), origin, 'f1');
      await store.saveFailure(fullFailure({ arrivalDate: t0 + day, reportedDomain: 'other.org' }), origin, 'f2');
      await store.saveFailure(nullFailure(), origin, 'f3'); // no arrival date: received at clock.t
      const failures = async (filter: Parameters<ReportStore['listFailures']>[0]) =>
        (await collect(store.listFailures(filter))).map((f) => f.report.reportedDomain);
      expect(await failures({ domain: 'EXAMPLE.COM' })).toEqual(['Example.com']);
      expect(await failures({ from: t0 + 10, to: t0 + day })).toEqual(['Example.com', 'other.org']);
      expect(await failures({ from: t0 + 11 })).toEqual(['other.org', null]);
      expect(await failures({ to: t0 + 9 })).toEqual([]);

      await store.saveTls(fullTls(), origin); // policies example.com and Mail.Example.org
      await store.saveTls(fullTls({ reportId: 'later', begin: t0 + 5 * day, end: t0 + 6 * day, policies: [] }), origin);
      const tls = async (filter: Parameters<ReportStore['listTls']>[0]) =>
        (await collect(store.listTls(filter))).map((r) => r.report.reportId);
      expect(await tls({ domain: 'mail.example.ORG' })).toEqual([fullTls().reportId]);
      expect(await tls({ domain: 'nowhere.test' })).toEqual([]);
      expect(await tls({ from: t0 + 6 * day })).toEqual(['later']);
      expect(await tls({ to: t0 + 5 * day - 1 })).toEqual([fullTls().reportId]);

      const q = (n: number): QuarantineInput => ({
        origin: { input: `/q/${n}`, member: null },
        type: null,
        code: 'empty',
        detail: '',
        bytes: Buffer.from([n]),
        truncated: false,
        sha256: String(n).repeat(64).slice(0, 64),
      });
      const q1 = await store.saveQuarantine(q(1));
      clock.t += 100;
      const q2 = await store.saveQuarantine(q(2));
      clock.t += 100;
      const q3 = await store.saveQuarantine(q(3));
      const quarantined = async (filter: Parameters<ReportStore['listQuarantine']>[0]) =>
        (await collect(store.listQuarantine(filter))).map((r) => r.id);
      expect(await quarantined({ from: clock.t - 100 })).toEqual([q2.id, q3.id]);
      expect(await quarantined({ to: clock.t - 100 })).toEqual([q1.id, q2.id]);
      expect(await quarantined({ from: clock.t - 150, to: clock.t - 50 })).toEqual([q2.id]);
      clock.t -= 200;
    });

    it('streams long lists in order across pages', async () => {
      const store = await fresh();
      const saved: number[] = [];
      // 450 reports, more than two pages; begins out of insertion order and some equal
      for (let i = 0; i < 450; i++) {
        const begin = 1_700_000_000 + ((i * 7) % 50) * 3600;
        const { id } = await store.saveAggregate(fullHeader({ reportId: `page-${i}`, begin, end: begin + 3599 }), batches([], 1), origin);
        saved.push(id);
      }
      const listed = await collect(store.listAggregates({}));
      expect(listed).toHaveLength(450);
      const keys = listed.map((r) => [r.header.begin, r.id] as const);
      const sorted = [...keys].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      expect(keys).toEqual(sorted);
      expect(new Set(listed.map((r) => r.id))).toEqual(new Set(saved));
    });

    it('counts every kind of row', async () => {
      const store = await fresh();
      expect(await store.counts()).toEqual({ aggregate: 0, records: 0, failure: 0, tls: 0, quarantine: 0 });
      await store.saveAggregate(fullHeader(), batches([fullRecord(0), fullRecord(1), fullRecord(2)], 2), origin);
      await store.saveAggregate(nullHeader(), batches([nullRecord(0)], 2), origin);
      await store.saveFailure(fullFailure(), origin, 'k');
      await store.saveTls(fullTls(), origin);
      await store.saveQuarantine({ origin, type: 'tls', code: 'bad-json', detail: 'x', bytes: Buffer.from('{'), truncated: false, sha256: 'b'.repeat(64) });
      expect(await store.counts()).toEqual({ aggregate: 2, records: 4, failure: 1, tls: 1, quarantine: 1 });
    });

    it('applies each migration once, in order; a failed one leaves nothing; a newer schema is refused', async () => {
      const driver = await openDriver(await target.freshUrl());
      try {
        const all = MIGRATIONS.map((m) => m.version);
        expect(await applyMigrations(driver, MIGRATIONS)).toEqual(all);
        expect(await applyMigrations(driver, MIGRATIONS)).toEqual([]);
        const extra: Migration = {
          version: MIGRATIONS.length + 1,
          name: 'test-extra',
          sql: (t) => `CREATE TABLE test_extra (id ${t.id}, payload ${t.bytes}, flag ${t.bool}, at ${t.bigint})`,
        };
        expect(await applyMigrations(driver, [...MIGRATIONS, extra])).toEqual([extra.version]);
        expect(await appliedVersions(driver)).toEqual([...all, extra.version]);

        const broken: Migration = {
          version: extra.version + 1,
          name: 'broken',
          sql: () => 'CREATE TABLE half_done (x INTEGER); CREATE TABLE half_done (x INTEGER);',
        };
        const failed = await applyMigrations(driver, [...MIGRATIONS, extra, broken]).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(FatalError);
        expect((failed as FatalError).code).toBe('migration-failed');
        expect((failed as FatalError).message).toContain('broken');
        expect(await appliedVersions(driver)).toEqual([...all, extra.version]);
        await expect(driver.query('SELECT * FROM half_done')).rejects.toThrow();

        const older = await applyMigrations(driver, MIGRATIONS).catch((e: unknown) => e);
        expect(older).toBeInstanceOf(FatalError);
        expect((older as FatalError).code).toBe('migration-failed');
        expect((older as FatalError).message).toMatch(/newer/);
      } finally {
        await driver.close();
      }
    });

    persistentIt('migrates a fresh database once when two stores open it at the same time', async () => {
      const url = await target.freshUrl();
      const [a, b] = await Promise.all([openAt(url), openAt(url)]);
      await a.saveTls(fullTls(), origin);
      expect(await b.counts()).toMatchObject({ tls: 1 });
      const driver = await openDriver(url);
      try {
        expect(await appliedVersions(driver)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await driver.close();
      }
    });

    persistentIt('keeps data and dedup across a restart, and re-opening applies no migration twice', async () => {
      const url = await target.freshUrl();
      const first = await openAt(url);
      const saved = await first.saveAggregate(fullHeader(), batches([fullRecord(0)], 1), origin);
      await first.saveTls(fullTls(), origin);
      await first.close();
      const second = await openAt(url);
      const third = await openAt(url); // two instances open at once, both past their migrations
      expect(await second.saveAggregate(fullHeader({ reportId: 'RPT-0001-äö' }), batches([fullRecord(0)], 1), origin)).toEqual({
        outcome: 'duplicate',
        id: saved.id,
      });
      expect((await third.saveTls(fullTls(), origin)).outcome).toBe('duplicate');
      expect(await third.counts()).toMatchObject({ aggregate: 1, records: 1, tls: 1 });
    });

    persistentIt('stores a report saved concurrently by two store instances exactly once', async () => {
      const url = await target.freshUrl();
      const [a, b] = [await openAt(url), await openAt(url)];
      const records = Array.from({ length: 1500 }, (_, i) => fullRecord(i));
      const outcomes = await Promise.all([
        a.saveAggregate(fullHeader(), batches(records, 100, 5), origin),
        b.saveAggregate(fullHeader({ orgName: 'example reporter inc.' }), batches(records, 100, 5), { input: 'b', member: null }),
      ]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'stored']);
      expect(outcomes[0]?.id).toBe(outcomes[1]?.id);
      expect(await a.counts()).toMatchObject({ aggregate: 1, records: 1500 });
      const [stored] = await collect(b.listAggregates({}));
      expect(stored?.records).toEqual(records);
    });

    persistentIt('stores a report saved concurrently by two processes exactly once', async () => {
      const url = await target.freshUrl();
      (await openAt(url)).counts(); // migrated before the children race
      const outcomes = await Promise.all([saveInChild(url), saveInChild(url)]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'stored']);
      expect(outcomes[0]?.id).toBe(outcomes[1]?.id);
      const store = await openAt(url);
      expect(await store.counts()).toMatchObject({ aggregate: 1, records: 400 });
    });
  });
}

/** Saves the full fixture report with 400 records in slow batches from a separate Node process. */
async function saveInChild(url: string): Promise<SaveOutcome> {
  const script = `
    const { openStore } = await import(${JSON.stringify(join(repoRoot, 'server/store/open-store.ts'))});
    const f = await import(${JSON.stringify(join(repoRoot, 'test/store/store-fixtures.ts'))});
    const store = await openStore(process.env.STORE_URL);
    const records = Array.from({ length: 400 }, (_, i) => f.fullRecord(i));
    const outcome = await store.saveAggregate(f.fullHeader(), f.batches(records, 20, 25), { input: 'child', member: String(process.pid) });
    await store.close();
    process.stdout.write(JSON.stringify(outcome));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, STORE_URL: url },
  });
  return JSON.parse(stdout) as SaveOutcome;
}
