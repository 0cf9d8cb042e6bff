/**
 * The analytics side of the store, on every dialect (SQLite file and PostgreSQL when available): daily rollups
 * maintained at ingest equal a direct computation from the raw records (multi-day pro-rating, totals exact), the
 * backfill of databases stored before the rollups existed, Origin.mailAuth round trips, the enrichment cache
 * TTL, the DNS check history, approved sources and the selector source of `check --db`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DomainCheck } from '../../server/dns/check-types.ts';
import type { MailAuthVerdict } from '../../server/domain/report-types.ts';
import type { Enrichment } from '../../server/enrich/enrichment.ts';
import { deleteApproval, listApprovals, saveApproval } from '../../server/store/analytics-approved-store.ts';
import { createStoreSelectorSource } from '../../server/store/analytics-selector-source.ts';
import { createCheckHistoryStore } from '../../server/store/check-history-store.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { createEnrichmentCacheStore } from '../../server/store/enrichment-cache-store.ts';
import { applyMigrations } from '../../server/store/migrate.ts';
import { MIGRATIONS } from '../../server/store/migrations/index.ts';
import { openDriver } from '../../server/store/open-store.ts';
import { insertRowSql } from '../../server/store/sql-build.ts';
import { describePostgresUnavailable, getTestPostgres } from '../helpers/postgres.ts';
import { batches, entries, expectedRollups, header, randomRecords, record, storedRollups, total } from '../analytics/rollup-fixtures.ts';
import { fullFailure, fullTls } from './store-fixtures.ts';

interface Target {
  name: string;
  freshUrl(): Promise<string>;
}

const tmp = mkdtempSync(join(tmpdir(), 'dmarc-lens-rollup-'));
let fileNo = 0;
const TARGETS: Target[] = [{ name: 'sqlite', freshUrl: async () => `sqlite:${join(tmp, `r-${++fileNo}.db`)}` }];
const postgres = await getTestPostgres();
if (postgres) TARGETS.push({ name: `postgres (${postgres.source})`, freshUrl: () => postgres.newDatabase() });
else describePostgresUnavailable('analytics rollups');

afterAll(async () => {
  await postgres?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const DAY = 86_400;
const D0 = 1_700_006_400; // 2023-11-15T00:00:00Z
const origin = { input: '/in/report.xml', member: null };

/** reports with every period shape pro-rating distinguishes */
function corpus() {
  return [
    { header: header('one-day', D0, D0 + DAY - 1), records: randomRecords(1, 300) },
    { header: header('unaligned-24h', D0 + 80_000, D0 + 80_000 + DAY - 1), records: randomRecords(2, 300) },
    { header: header('week', D0 - 3 * DAY + 3600, D0 + 4 * DAY - 1, { adkim: 's', aspf: 's' }), records: randomRecords(3, 200) },
    { header: header('instant', D0 + 5000, D0 + 5000), records: randomRecords(4, 50) },
    { header: header('reversed', D0 + DAY, D0 + 100), records: randomRecords(5, 50) },
    { header: header('too-long', D0 - 400 * DAY, D0), records: randomRecords(6, 30) },
    { header: header('no-policy-domain', D0, D0 + 2 * DAY - 1, { domain: null }), records: randomRecords(7, 60) },
    { header: header('other-domain', D0, D0 + DAY - 1, { domain: 'Other.TEST.' }, 'second.test'), records: randomRecords(8, 80) },
  ];
}

async function ingest(db: Database, reports: ReturnType<typeof corpus>, batch = 37) {
  for (const r of reports) expect((await db.reports.saveAggregate(r.header, batches(r.records, batch), origin)).outcome).toBe('stored');
}

for (const target of TARGETS) {
  describe(target.name, () => {
    const open: Database[] = [];
    const fresh = async (now?: () => number) => {
      const db = await openDatabase(await target.freshUrl(), now ? { now } : {});
      open.push(db);
      return db;
    };
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });

    it('rollups written at ingest equal a direct computation from the records, totals exact, over multi-day periods', async () => {
      const db = await fresh();
      const reports = corpus();
      await ingest(db, reports);
      const expected = expectedRollups(reports);
      const stored = await storedRollups(db.driver);
      expect(entries(stored.domains)).toEqual(entries(expected.domains));
      expect(entries(stored.sources)).toEqual(entries(expected.sources));
      expect(entries(stored.selectors)).toEqual(entries(expected.selectors));
      // totals exact: every message with a positive count is counted once, on some day
      const messages = reports.flatMap((r) => r.records).reduce((s, r) => s + (r.count > 0 ? r.count : 0), 0);
      expect(total(stored.domains)).toBe(messages);
      expect(total(stored.sources)).toBe(messages);
      // the week-long report is spread over 7 days (and no other report touches D0 - 3 days)
      const days = new Set([...stored.domains.keys()].filter((k) => k.startsWith('example.com|')).map((k) => Number(k.split('|')[1])));
      for (let d = D0 - 3 * DAY; d < D0 + 4 * DAY; d += DAY) expect(days.has(d)).toBe(true);
    });

    it('records whose fields only look alike once joined (control characters in them) keep their own facts', async () => {
      const db = await fresh();
      // joined with the memo's separators both read "example.com␁fail␁pass␁␂␁ef.test"; only B passes SPF (spfEval)
      const base = { dkim: [], spf: [], headerFrom: 'example.com' };
      const a = record(0, { ...base, dkimEval: 'fail\u0001pass', spfEval: null, envelopeFrom: 'ef.test' });
      const b = record(1, { ...base, dkimEval: 'fail', spfEval: 'pass', envelopeFrom: '\u0002\u0001ef.test', sourceIp: '192.0.2.9' });
      const reports = [{ header: header('lookalike', D0, D0 + DAY - 1), records: [a, b] }];
      await ingest(db, reports);
      const stored = await storedRollups(db.driver);
      expect(entries(stored.domains)).toEqual(entries(expectedRollups(reports).domains));
      expect(entries(stored.sources)).toEqual(entries(expectedRollups(reports).sources));
    });

    it('a duplicate report adds nothing; a report that fails mid-way leaves no rollup rows', async () => {
      const db = await fresh();
      const reports = corpus().slice(0, 2);
      await ingest(db, reports);
      const before = await storedRollups(db.driver);
      expect((await db.reports.saveAggregate(reports[0]!.header, batches(reports[0]!.records, 10), origin)).outcome).toBe('duplicate');
      async function* failing() {
        yield randomRecords(9, 20);
        throw new Error('parser gave up');
      }
      await expect(db.reports.saveAggregate(header('broken', D0, D0 + DAY - 1), failing(), origin)).rejects.toThrow('parser gave up');
      expect(entries((await storedRollups(db.driver)).domains)).toEqual(entries(before.domains));
      expect(entries((await storedRollups(db.driver)).sources)).toEqual(entries(before.sources));
    });

    it('reports saved concurrently into the same rollup rows add up exactly', async () => {
      const url = await target.freshUrl();
      const a = await openDatabase(url);
      const b = await openDatabase(url);
      open.push(a, b);
      const reports = Array.from({ length: 8 }, (_, i) => ({ header: header(`c-${i}`, D0, D0 + DAY - 1, {}, `org${i % 3}.test`), records: randomRecords(100 + (i % 2), 150) }));
      await Promise.all(reports.map((r, i) => (i % 2 ? a : b).reports.saveAggregate(r.header, batches(r.records, 25), origin)));
      const stored = await storedRollups(a.driver);
      expect(entries(stored.sources)).toEqual(entries(expectedRollups(reports).sources));
      expect(entries(stored.domains)).toEqual(entries(expectedRollups(reports).domains));
    });

    it('the migration backfills rollups for reports stored before it', async () => {
      // a database as it was before migration 002: only the initial schema, with reports in it
      const source = await fresh();
      const reports = corpus();
      await ingest(source, reports);
      const oldUrl = await target.freshUrl();
      const old = await openDriver(oldUrl);
      try {
        await applyMigrations(old, MIGRATIONS.slice(0, 1));
        await old.transaction(async (tx) => {
          for (const row of await source.driver.query('SELECT * FROM aggregate_reports ORDER BY id')) {
            const { mail_auth: _m, ...v1 } = row;
            const { sql, params } = insertRowSql('aggregate_reports', v1 as never);
            await tx.query(sql, params);
          }
          for (const row of await source.driver.query('SELECT * FROM aggregate_records ORDER BY report_id, ordinal')) {
            const { auth_key: _k, ...v1 } = row;
            const { sql, params } = insertRowSql('aggregate_records', v1 as never);
            await tx.query(sql, params);
          }
        });
      } finally {
        await old.close();
      }
      const migrated = await openDatabase(oldUrl);
      open.push(migrated);
      const stored = await storedRollups(migrated.driver);
      const expected = expectedRollups(reports);
      expect(entries(stored.domains)).toEqual(entries(expected.domains));
      expect(entries(stored.sources)).toEqual(entries(expected.sources));
      expect(entries(stored.selectors)).toEqual(entries(expected.selectors));
      // and the records got their auth_key, as if ingested now
      const [missing] = await migrated.driver.query('SELECT count(*) AS n FROM aggregate_records WHERE auth_key IS NULL');
      expect(Number(missing!.n)).toBe(0);
    });

    it('round-trips Origin.mailAuth for aggregate, failure and TLS reports and quarantine rows', async () => {
      const db = await fresh();
      const mailAuth: MailAuthVerdict = { authservId: 'mx.mine.test', dkim: 'pass', dkimDomain: 'reporter.test', spf: 'none', spfDomain: null, dmarc: 'pass', fromDomain: 'reporter.test', authenticated: true };
      const byMail = { input: 'imap://acct/INBOX/1/7', member: 'r.xml', mailAuth };
      await db.reports.saveAggregate(header('mailed', D0, D0 + DAY - 1), batches([record(0)], 1), byMail);
      await db.reports.saveAggregate(header('from-file', D0, D0 + DAY - 1), batches([record(0)], 1), { input: '/f.xml', member: null, mailAuth: null });
      await db.reports.saveFailure(fullFailure(), byMail, 'k1');
      await db.reports.saveTls(fullTls(), byMail);
      await db.reports.saveQuarantine({ origin: byMail, type: null, code: 'empty', detail: '', bytes: Buffer.alloc(1), truncated: false, sha256: 'a'.repeat(64) });
      const aggregates = [];
      for await (const a of db.reports.listAggregates({})) aggregates.push(a);
      expect(aggregates.find((a) => a.header.reportId === 'mailed')!.origin).toEqual(byMail);
      expect(aggregates.find((a) => a.header.reportId === 'from-file')!.origin).toEqual({ input: '/f.xml', member: null });
      for await (const f of db.reports.listFailures({})) expect(f.origin.mailAuth).toEqual(mailAuth);
      for await (const t of db.reports.listTls({})) expect(t.origin.mailAuth).toEqual(mailAuth);
      for await (const q of db.reports.listQuarantine({})) expect(q.mailAuth).toEqual(mailAuth);
    });

    it('enrichment cache: fresh entries are served, expired ones are not (but still listed for display)', async () => {
      const clock = { t: 1_800_000_000 };
      const db = await fresh();
      const cache = createEnrichmentCacheStore(db.driver, () => clock.t);
      const e: Enrichment = { ip: '192.0.2.1', ptr: 'mail.example.test', forwardConfirmed: true, baseDomain: 'example.test', asn: 64500, asOrg: 'Example AS', country: 'DE', dnsError: null, enrichedAt: clock.t };
      expect(await cache.get('192.0.2.1')).toBeNull();
      await cache.put('192.0.2.1', e, 100);
      clock.t += 99;
      expect(await cache.get('192.0.2.1')).toEqual(e);
      clock.t += 1;
      expect(await cache.get('192.0.2.1')).toBeNull();
      expect((await cache.getMany(['192.0.2.1', '192.0.2.2'])).get('192.0.2.1')).toEqual({ enrichment: e, expiresAt: clock.t });
      expect(await cache.stats()).toEqual({ entries: 1, expired: 1 });
      // a new look-up replaces the entry
      await cache.put('192.0.2.1', { ...e, ptr: 'new.example.test' }, 50);
      expect((await cache.get('192.0.2.1'))?.ptr).toBe('new.example.test');
      expect(await cache.stats()).toEqual({ entries: 1, expired: 0 });
    });

    it('check history: one period per distinct result, newest first, with what changed', async () => {
      const db = await fresh();
      const history = createCheckHistoryStore(db.driver);
      const check = (at: string, dmarc: string, code: 'dmarc-p-none' | 'dmarc-ok' = 'dmarc-p-none'): DomainCheck => ({
        domain: 'example.com',
        checked_at: at,
        records: [
          { type: 'dmarc', name: '_dmarc.example.com', value: dmarc, status: 'warn', findings: [{ severity: 'warning', code: code as never, message: `checked ${at}` }] },
          { type: 'spf', name: 'example.com', value: 'v=spf1 -all', status: 'pass', findings: [] },
        ],
      });
      await history.save(check('2026-01-01T00:00:00Z', 'v=DMARC1; p=none'));
      await history.save(check('2026-01-02T00:00:00Z', 'v=DMARC1; p=none'));
      await history.save(check('2026-01-03T00:00:00Z', 'v=DMARC1; p=reject', 'dmarc-ok'));
      await history.save(check('2026-01-04T00:00:00Z', 'v=DMARC1; p=reject', 'dmarc-ok'));
      const periods = await history.history('EXAMPLE.com');
      expect(periods.map((p) => [p.checks, p.firstCheckedAt, p.lastCheckedAt])).toEqual([
        [2, Date.parse('2026-01-03T00:00:00Z') / 1000, Date.parse('2026-01-04T00:00:00Z') / 1000],
        [2, Date.parse('2026-01-01T00:00:00Z') / 1000, Date.parse('2026-01-02T00:00:00Z') / 1000],
      ]);
      // the newest result text is kept; the change is named record by record
      expect(periods[0]!.check.checked_at).toBe('2026-01-04T00:00:00Z');
      expect(periods[0]!.changes).toEqual([
        { type: 'dmarc', name: '_dmarc.example.com', before: { value: 'v=DMARC1; p=none', status: 'warn' }, after: { value: 'v=DMARC1; p=reject', status: 'warn' } },
      ]);
      expect(periods[1]!.changes).toEqual([]);
      expect((await history.latest('example.com'))?.lastCheckedAt).toBe(Date.parse('2026-01-04T00:00:00Z') / 1000);
      expect(await history.latest('other.test')).toBeNull();
      expect(await history.history('example.com', 1)).toHaveLength(1);
    });

    it('approved sources: stored once per entry, listed, removed', async () => {
      const db = await fresh();
      await saveApproval(db.driver, { cidr: '192.0.2.0/24', service: 'Own relay' }, 'office', 100);
      await saveApproval(db.driver, { cidr: '192.0.2.0/24', service: 'own relay' }, null, 200);
      await saveApproval(db.driver, { baseDomain: 'mailer.example' }, null, 300);
      const list = await listApprovals(db.driver);
      expect(list.map(({ id: _id, ...a }) => a)).toEqual([
        { cidr: '192.0.2.0/24', service: 'Own relay', note: 'office', createdAt: 100 },
        { baseDomain: 'mailer.example', note: null, createdAt: 300 },
      ]);
      expect(await deleteApproval(db.driver, list[0]!.id)).toBe(true);
      expect(await deleteApproval(db.driver, list[0]!.id)).toBe(false);
      expect(await listApprovals(db.driver)).toHaveLength(1);
    });

    it('selector source: the selectors seen signing for a domain (valid names, passing first) and its source IPs with SPF', async () => {
      const db = await fresh();
      const sig = (selector: string, result: string, domain = 'example.com') => ({ domain, selector, result, humanResult: null });
      await db.reports.saveAggregate(
        header('sel', D0, D0 + DAY - 1),
        batches([
          record(0, { sourceIp: '192.0.2.1', count: 50, dkim: [sig('s2024', 'pass')] }),
          record(1, { sourceIp: '192.0.2.1', count: 900, dkim: [sig('old', 'fail')] }),
          record(2, { sourceIp: '198.51.100.7', count: 5, spfEval: 'fail', dkimEval: 'fail', spf: [{ domain: 'evil.test', scope: 'mfrom', result: 'fail', humanResult: null }], dkim: [sig('bad selector!', 'permerror'), sig('vendor', 'pass', 'sendgrid.net')] }),
          record(3, { sourceIp: null, count: 3 }),
          record(4, { sourceIp: '192.0.2.1', count: 2, dkim: [sig('n1', 'pass', 'news.example.com')] }),
        ], 2),
        origin,
      );
      const source = createStoreSelectorSource(db.driver);
      expect(await source.selectorsFor('Example.com')).toEqual(['s2024', 's1', 'old']);
      // a signing domain below the policy domain is found in the policy domain's reports; a vendor's own domain
      // is not one of ours
      expect(await source.selectorsFor('news.example.com')).toEqual(['n1']);
      expect(await source.selectorsFor('sendgrid.net')).toEqual([]);
      expect(await source.selectorsFor('nothing.test')).toEqual([]);
      expect((await source.reportSourcesFor('example.com')).sort((a, b) => a.ip.localeCompare(b.ip))).toEqual([
        { ip: '192.0.2.1', spfPassed: true },
        { ip: '198.51.100.7', spfPassed: false },
      ]);
    });
  });
}
