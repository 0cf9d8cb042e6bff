/**
 * Readiness from verdict facts (GroupSet.verdictFacts, no full SourceGroup per failing group) against readiness
 * from fully classified sources (the path it replaced), on SQLite and PostgreSQL over seeded random reports:
 * every field of every group's facts equals its full group, and the answers are equal for every domain and
 * window, with recognized services (blockers and their fixes), approved sources and SPF-only sources present.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAnalytics } from '../../server/analytics/analytics.ts';
import type { DayFilter } from '../../server/analytics/analytics-filter.ts';
import { distinctDomains, newestPolicy } from '../../server/analytics/rollup-queries.ts';
import { SourceIndex } from '../../server/analytics/source-index.ts';
import { assessReadiness, readinessSourceOf, type Readiness, type ReadinessSource } from '../../server/domain/readiness.ts';
import type { AggregateHeader, AggregateRecord } from '../../server/domain/report-types.ts';
import type { SenderConfig } from '../../server/enrich/known-senders.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { analyticsTargets, batches, header, randomRecords, D0, DAY, OFFLINE, origin } from './rollup-fixtures.ts';

const TARGETS = await analyticsTargets('readiness facts');

type Report = { header: AggregateHeader; records: AggregateRecord[] };

const REPORTS: Report[] = [
  { header: header('r-1', D0, D0 + DAY - 1, { p: 'none' }), records: randomRecords(41, 300) },
  { header: header('r-2', D0 + DAY, D0 + 2 * DAY - 1, { p: 'quarantine', pct: 50 }, 'second.test'), records: randomRecords(42, 300) },
  { header: header('r-3', D0 + 3 * DAY + 7200, D0 + 6 * DAY - 1, { p: 'reject' }), records: randomRecords(43, 200) },
  { header: header('o-1', D0, D0 + DAY - 1, { domain: 'other.test' }), records: randomRecords(44, 150) },
  { header: header('o-2', D0 + 2 * DAY, D0 + 3 * DAY - 1, { domain: 'other.test' }, 'third.test'), records: randomRecords(45, 150) },
];
/** stored after the index is loaded, so a domain's pairs and groups are no longer numbered contiguously */
const LATER: Report[] = [
  { header: header('r-9', D0 + 8 * DAY, D0 + 9 * DAY - 1), records: randomRecords(46, 120) },
  { header: header('o-9', D0 + 8 * DAY, D0 + 9 * DAY - 1, { domain: 'other.test' }), records: randomRecords(47, 120) },
];

const SENDERS: SenderConfig = { approved: [{ ip: '203.0.113.9' }] };

/** readiness as it was computed before verdict facts: every source fully classified, failing ones in list order */
async function referenceReadiness(db: Database, analytics: ReturnType<typeof createAnalytics>, domain: string, to: number, days: number): Promise<Readiness> {
  const endDay = Math.floor(to / DAY) * DAY;
  const sources = await analytics.classifiedSources({ domain, from: endDay - (days - 1) * DAY, to: endDay });
  const rows: ReadinessSource[] = [];
  for (const s of sources) {
    if (s.group.dkimAlignedPass < s.group.messages) rows.push(readinessSourceOf(s.group, s.classification, s.enrichment?.ptr ?? null));
  }
  for (const s of sources) {
    if (s.group.dkimAlignedPass >= s.group.messages) {
      rows.push({ sourceIp: s.group.sourceIp, service: null, legitimate: false, verdict: 'compliant', messages: s.group.messages, dmarcFail: 0, forwarded: 0, fix: null, label: null });
    }
  }
  const policy = await newestPolicy(db.driver, domain, endDay + DAY - 1);
  return assessReadiness(domain, { p: policy?.p ?? null, sp: policy?.sp ?? null, np: policy?.np ?? null, pct: policy?.pct ?? null, testing: policy?.testing ?? null }, rows, days);
}

for (const target of TARGETS) {
  describe(target.name, () => {
    const open: Database[] = [];
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });
    const store = async (db: Database, reports: Report[]) => {
      for (const r of reports) expect((await db.reports.saveAggregate(r.header, batches(r.records, 50), origin)).outcome).toBe('stored');
    };

    it('gives each group the verdict facts of its full SourceGroup, for every filter, before and after new reports', async () => {
      const db = await openDatabase(await target.freshUrl());
      open.push(db);
      await store(db, REPORTS);
      const index = new SourceIndex(db.driver);
      const check = async () => {
        await index.refresh();
        const filters: DayFilter[] = [{}, { domain: 'example.com' }, { domain: 'other.test', fromDay: D0 + DAY }, { domain: 'example.com', fromDay: D0 + DAY, toDay: D0 + 4 * DAY }, { domain: 'nowhere.test' }];
        let compared = 0;
        let listed = 0;
        for (const f of filters) {
          const set = index.groups(f);
          for (const g of set.ids()) {
            const full = set.group(g);
            const facts = set.verdictFacts(g);
            expect(facts).toEqual({
              sourceIp: full.sourceIp, messages: full.messages, dmarcPass: full.dmarcPass, dkimAlignedPass: full.dkimAlignedPass,
              forwardEvidenceNoDkim: full.forwardEvidenceNoDkim, spfOnlyNoDkim: full.spfOnlyNoDkim, neitherNoDkim: full.neitherNoDkim, dkimPassDomains: full.dkimPassDomains,
            });
            expect(set.messages(g)).toBe(full.messages);
            compared++;
            if (full.dkimPassDomains.length > 1) listed++;
          }
        }
        expect(compared).toBeGreaterThan(50);
        // the order of passing DKIM domains (which service matches first) is exercised
        expect(listed).toBeGreaterThan(0);
      };
      await check();
      await store(db, LATER);
      await check();
    });

    it('answers readiness as the fully classified sources do, for every domain and window', async () => {
      const db = await openDatabase(await target.freshUrl());
      open.push(db);
      await store(db, REPORTS);
      const analytics = createAnalytics(db, { offline: OFFLINE, senders: SENDERS, now: () => D0 + 30 * DAY });
      const compare = async () => {
        let blockers = 0;
        let spfOnly = 0;
        let legitimate = 0;
        for (const [to, days] of [[D0 + 9 * DAY, 30], [D0 + 2 * DAY, 2], [D0 + 4 * DAY, 1], [D0 + 40 * DAY, 3660]] as const) {
          const answers = await analytics.readiness({ to, days });
          expect(answers.map((r) => r.domain)).toEqual(await distinctDomains(db.driver));
          for (const r of answers) {
            expect(r).toEqual(await referenceReadiness(db, analytics, r.domain, to, days));
            blockers += r.blockers.length;
            spfOnly += r.spfOnly.length;
            legitimate += r.whatIf.reject.legitimate;
          }
        }
        // the comparison covers what only legitimate sources produce (fix texts) and the SPF-only list
        expect(blockers).toBeGreaterThan(0);
        expect(spfOnly).toBeGreaterThan(0);
        expect(legitimate).toBeGreaterThan(0);
      };
      await compare();
      await store(db, LATER);
      await compare();
    });
  });
}
