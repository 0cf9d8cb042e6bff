/**
 * The in-memory source index (server/analytics/source-index.ts) against the rollup SQL it replaces, on SQLite
 * and PostgreSQL: the same SourceGroups in the same order for every filter, kept up to date as reports arrive
 * (new days, days already indexed, multi-day reports) and reloaded when reports disappear; the Sources table
 * paged by sourceTable() equals the full classified list filtered and paged in memory; the failing-source counts
 * equal the SQL count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAnalytics } from '../../server/analytics/analytics.ts';
import type { DayFilter } from '../../server/analytics/analytics-filter.ts';
import { authRows, distinctDomains, failingSourceCounts, sourceAuthRows } from '../../server/analytics/rollup-queries.ts';
import { groupsFromRollups } from '../../server/analytics/source-groups.ts';
import { SourceIndex } from '../../server/analytics/source-index.ts';
import { byFailing, sourceMatches, type SourceTableFilter } from '../../server/analytics/source-table.ts';
import type { SourceGroup } from '../../server/domain/classify.ts';
import type { AggregateHeader, AggregateRecord } from '../../server/domain/report-types.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { analyticsTargets, batches, header, randomRecords, D0, DAY, OFFLINE, origin } from './rollup-fixtures.ts';

const TARGETS = await analyticsTargets('source index');

type Report = { header: AggregateHeader; records: AggregateRecord[] };

const first: Report[] = [
  { header: header('a-1', D0, D0 + DAY - 1, { p: 'none' }), records: randomRecords(21, 180) },
  { header: header('a-2', D0 + DAY, D0 + 2 * DAY - 1, { p: 'none' }, 'second.test'), records: randomRecords(22, 180) },
  { header: header('a-3', D0 + 3 * DAY + 7200, D0 + 5 * DAY - 1, { p: 'quarantine' }), records: randomRecords(23, 120) },
  { header: header('o-1', D0, D0 + DAY - 1, { domain: 'other.test' }), records: randomRecords(24, 60) },
];
const later: Report[] = [
  // a day already indexed (its rollup rows are upserted), a new day, a week-long report and a new domain
  { header: header('a-1b', D0, D0 + DAY - 1, {}, 'third.test'), records: randomRecords(25, 150) },
  { header: header('a-9', D0 + 9 * DAY, D0 + 10 * DAY - 1), records: randomRecords(26, 100) },
  { header: header('a-week', D0 + 12 * DAY, D0 + 19 * DAY - 1), records: randomRecords(27, 80) },
  { header: header('n-1', D0 + DAY, D0 + 2 * DAY - 1, { domain: 'new.test' }), records: randomRecords(28, 40) },
];

/** the groups as the rollup SQL gives them, in the Sources list order (largest first, then domain, IP, signature) */
async function sqlGroups(db: Database, f: DayFilter): Promise<SourceGroup[]> {
  const out: SourceGroup[] = [];
  for (const domain of f.domain !== undefined ? [f.domain] : await distinctDomains(db.driver)) {
    const rows = await sourceAuthRows(db.driver, { ...f, domain });
    rows.sort((a, b) => b.messages - a.messages || a.ip.localeCompare(b.ip) || a.authKey - b.authKey);
    const groups = [...groupsFromRollups(rows, await authRows(db.driver, domain)).values()];
    groups.sort(
      (a, b) => b.messages - a.messages || a.sourceIp.localeCompare(b.sourceIp) || (a.dkimDomain ?? '').localeCompare(b.dkimDomain ?? '')
        || (a.dkimSelector ?? '').localeCompare(b.dkimSelector ?? ''),
    );
    out.push(...groups);
  }
  return out.sort((a, b) => b.messages - a.messages);
}

const FILTERS: DayFilter[] = [
  {},
  { domain: 'example.com' },
  { domain: 'example.com', fromDay: D0 + DAY, toDay: D0 + 4 * DAY },
  { fromDay: D0 + 4 * DAY },
  { toDay: D0 },
  { domain: 'nowhere.test' },
];

for (const target of TARGETS) {
  describe(target.name, () => {
    const open: Database[] = [];
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });
    const fresh = async (reports: Report[]) => {
      const db = await openDatabase(await target.freshUrl());
      open.push(db);
      await store(db, reports);
      return db;
    };
    const store = async (db: Database, reports: Report[]) => {
      for (const r of reports) {
        const out = await db.reports.saveAggregate(r.header, batches(r.records, 40), origin);
        expect(out.outcome).toBe('stored');
      }
    };
    const expectSameGroups = async (db: Database, index: SourceIndex) => {
      await index.refresh();
      for (const f of FILTERS) {
        const set = index.groups(f);
        const want = await sqlGroups(db, f);
        const order = set.top(set.count);
        expect(order.map((g) => set.group(g)), JSON.stringify(f)).toEqual(want);
        expect(order.map((g) => set.messages(g))).toEqual(want.map((g) => g.messages));
        expect(order.map((g) => set.dmarcFail(g))).toEqual(want.map((g) => g.messages - g.dmarcPass));
        // a short head (selected, not sorted in full) is the start of the full order, by either key
        for (const n of [1, 3, 10]) {
          expect(index.groups(f).top(n)).toEqual(order.slice(0, n));
          const failing = [...order].sort((a, b) => set.dmarcFail(b) - set.dmarcFail(a) || set.messages(b) - set.messages(a) || order.indexOf(a) - order.indexOf(b));
          expect(index.groups(f).top(n, 'failing')).toEqual(failing.slice(0, n));
        }
      }
    };

    it('gives the groups of the rollup SQL for every filter, and follows new and removed reports', async () => {
      const db = await fresh(first);
      const index = new SourceIndex(db.driver);
      await expectSameGroups(db, index);
      expect(index.groups({}).count).toBeGreaterThan(50);

      const before = index.version;
      await index.refresh();
      expect(index.version).toBe(before);

      await store(db, later);
      await expectSameGroups(db, index);
      expect(index.version).toBeGreaterThan(before);
      expect(index.groups({ domain: 'new.test' }).count).toBeGreaterThan(0);

      // a report removed (retention): the index reloads
      const [gone] = await db.driver.query("SELECT id FROM aggregate_reports WHERE key_report_id = 'a-9'");
      await db.driver.transaction(async (tx) => {
        await tx.query('DELETE FROM aggregate_records WHERE report_id = ?', [Number(gone!.id)]);
        await tx.query('DELETE FROM aggregate_reports WHERE id = ?', [Number(gone!.id)]);
        await tx.query('DELETE FROM rollup_sources WHERE day = ?', [D0 + 9 * DAY]);
      });
      await expectSameGroups(db, index);
      expect(index.groups({ fromDay: D0 + 9 * DAY, toDay: D0 + 9 * DAY }).count).toBe(0);
    });

    it('counts distinct failing source IPs per domain and range as the SQL does', async () => {
      const db = await fresh([...first, ...later]);
      const index = new SourceIndex(db.driver);
      await index.refresh();
      const ranges: [number, number][] = [[D0, D0 + DAY], [D0 + 2 * DAY, D0 + 20 * DAY]];
      for (const domain of [undefined, 'example.com']) {
        const got = index.failingSourceCounts(domain, ranges);
        for (const [r, [lo, hi]] of ranges.entries()) {
          const want = await failingSourceCounts(db.driver, domain, lo, hi);
          expect(want.size).toBeGreaterThan(0);
          for (const [d, n] of want) expect(got.get(`${d}\u0000${r}`), `${d} ${r}`).toBe(n);
          expect([...got.keys()].filter((k) => k.endsWith(`\u0000${r}`)).length).toBe(want.size);
        }
      }
    });

    it('pages the Sources table like the full classified list filtered in memory', async () => {
      const db = await fresh([...first, ...later]);
      const analytics = createAnalytics(db, { offline: OFFLINE, now: () => D0 + 30 * DAY });
      const cases: SourceTableFilter[] = [
        {},
        { sort: 'failing' },
        { domain: 'example.com', from: D0 + DAY, to: D0 + 5 * DAY },
        { verdict: 'failing' },
        { verdict: 'compliant', sort: 'failing' },
        { q: '10.' },
        { q: 'no-such-text' },
      ];
      for (const c of cases) {
        const all = (await analytics.sources({ ...(c.domain ? { domain: c.domain } : {}), ...(c.from ? { from: c.from } : {}), ...(c.to ? { to: c.to } : {}) }))
          .filter((s) => sourceMatches(s, c));
        if (c.sort === 'failing') byFailing(all, (s) => s.dmarcFail, (s) => s.messages);
        const pages = [];
        let total = -1;
        for (let offset = 0; offset < all.length || offset === 0; offset += 7) {
          const page = await analytics.sourceTable(c, { offset, limit: 7 });
          total = page.total;
          pages.push(...page.rows);
        }
        expect(total, JSON.stringify(c)).toBe(all.length);
        expect(pages, JSON.stringify(c)).toEqual(all);
        const verdicts = await analytics.sourceVerdicts(c);
        const unfiltered = (await analytics.sources({})).filter((s) => sourceMatches(s, { ...c, verdict: undefined, domain: undefined }));
        if (c.domain === undefined && c.from === undefined) {
          expect(verdicts.reduce((n, v) => n + v.sources, 0)).toBe(unfiltered.length);
          expect(verdicts.reduce((n, v) => n + v.messages, 0)).toBe(unfiltered.reduce((n, s) => n + s.messages, 0));
        }
      }
      expect((await analytics.sourceTable({ verdict: 'failing' }, { offset: 0, limit: 1000 })).rows.every((s) => s.verdict === 'failing')).toBe(true);
    });

    it('warms the index once: a request arriving during the warm-up waits for the same load', async () => {
      const db = await fresh(first);
      /** the index's full-load reads (one per domain and 31-day window) */
      const loads = { n: 0 };
      const counted = (): Database => {
        const driver = new Proxy(db.driver, {
          get(t, k, r) {
            const v = Reflect.get(t, k, r) as unknown;
            if (k !== 'query' || typeof v !== 'function') return v;
            return (sql: string, ...rest: unknown[]) => {
              if (/FROM rollup_sources WHERE domain = \? AND day >= \?/.test(sql)) loads.n++;
              return (v as (...a: unknown[]) => unknown).call(t, sql, ...rest);
            };
          },
        });
        return { ...db, driver } as Database;
      };
      const alone = createAnalytics(counted(), { offline: OFFLINE });
      await alone.warm!();
      const oneLoad = loads.n;
      expect(oneLoad).toBeGreaterThan(0);
      await alone.sourceTable({}, { offset: 0, limit: 5 });
      expect(loads.n).toBe(oneLoad);

      loads.n = 0;
      const analytics = createAnalytics(counted(), { offline: OFFLINE });
      const warming = analytics.warm!();
      const [page, readiness] = await Promise.all([analytics.sourceTable({}, { offset: 0, limit: 5 }), analytics.readiness({ domain: 'example.com' }), warming]);
      expect(loads.n).toBe(oneLoad);
      expect(page.rows).toEqual((await alone.sourceTable({}, { offset: 0, limit: 5 })).rows);
      expect(readiness).toEqual(await alone.readiness({ domain: 'example.com' }));
    });
  });
}
