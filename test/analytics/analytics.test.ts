/**
 * The Analytics contract over the database, on SQLite and PostgreSQL: every view's figures equal what the pure
 * domain rules give from the raw records, filters by domain and date work, and the operator's approvals and
 * services change the classification.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAnalytics } from '../../server/analytics/analytics.ts';
import { dayFilter } from '../../server/analytics/analytics-filter.ts';
import { authRows, sourceAuthRows } from '../../server/analytics/rollup-queries.ts';
import { InvalidApproval } from '../../server/analytics/sender-context.ts';
import { groupsFromRollups } from '../../server/analytics/source-groups.ts';
import { addRecordToGroups, evaluateRecord, type SourceGroup } from '../../server/domain/classify.ts';
import type { AggregateHeader, AggregateRecord } from '../../server/domain/report-types.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { analyticsTargets, batches, header, randomRecords, record, D0, DAY, OFFLINE, origin } from './rollup-fixtures.ts';

const TARGETS = await analyticsTargets('analytics');

type Report = { header: AggregateHeader; records: AggregateRecord[] };

function corpus(): Report[] {
  return [
    { header: header('jan-10', D0, D0 + DAY - 1, { p: 'none' }), records: randomRecords(11, 200) },
    { header: header('jan-11-12', D0 + DAY + 3600, D0 + 3 * DAY - 1, { p: 'quarantine', pct: 50 }), records: randomRecords(12, 200) },
    { header: header('feb-week', D0 + 25 * DAY, D0 + 32 * DAY - 1, { adkim: 's' }, 'second.test'), records: randomRecords(13, 150) },
    { header: header('other', D0, D0 + DAY - 1, { domain: 'other.test', p: 'reject' }), records: randomRecords(14, 50) },
  ];
}

/** the SourceGroups the pure rules give from the raw records */
function directGroups(reports: Report[]): Map<string, SourceGroup> {
  const groups = new Map<string, SourceGroup>();
  for (const r of reports) for (const rec of r.records) addRecordToGroups(groups, r.header, { ...rec, sourceIp: rec.sourceIp?.trim() || null });
  return groups;
}

const comparable = (g: SourceGroup) => ({
  key: [g.policyDomain, g.sourceIp, g.dkimDomain, g.dkimSelector],
  messages: g.messages,
  dkimAlignedPass: g.dkimAlignedPass,
  spfAlignedPass: g.spfAlignedPass,
  dmarcPass: g.dmarcPass,
  forwardEvidenceNoDkim: g.forwardEvidenceNoDkim,
  spfOnlyNoDkim: g.spfOnlyNoDkim,
  neitherNoDkim: g.neitherNoDkim,
  arcEvidence: g.arcEvidence,
  overrideReasons: g.overrideReasons,
  keyResults: g.keyResults,
  dkimPassDomains: [...g.dkimPassDomains].sort(),
  headerFromDomains: [...g.headerFromDomains].sort(),
});

for (const target of TARGETS) {
  describe(target.name, () => {
    const open: Database[] = [];
    const fresh = async (reports: Report[]) => {
      const db = await openDatabase(await target.freshUrl());
      open.push(db);
      for (const r of reports) await db.reports.saveAggregate(r.header, batches(r.records, 50), origin);
      return db;
    };
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });

    it('source groups rebuilt from the rollups equal addRecordToGroups over the raw records', async () => {
      const reports = corpus();
      const db = await fresh(reports);
      const fromRollups = new Map<string, SourceGroup>();
      for (const domain of ['example.com', 'other.test']) {
        const f = { ...dayFilter({}), domain };
        for (const [k, g] of groupsFromRollups(await sourceAuthRows(db.driver, f), await authRows(db.driver, domain))) fromRollups.set(k, g);
      }
      const direct = directGroups(reports);
      const sort = (m: Map<string, SourceGroup>) => [...m.values()].map(comparable).sort((a, b) => a.key.join().localeCompare(b.key.join()));
      expect(sort(fromRollups)).toEqual(sort(direct));
    });

    it('overview and timeline: counts per domain and per day, reports, newest policy; filters by domain and date', async () => {
      const reports = corpus();
      const db = await fresh(reports);
      const analytics = createAnalytics(db, { offline: OFFLINE });
      expect(await analytics.domains()).toEqual(['example.com', 'other.test']);
      const overview = await analytics.overview({});
      const direct = (domain: string, fromDay = -Infinity, toDay = Infinity) => {
        const t = { messages: 0, dmarcPass: 0, dkimAlignedPass: 0, spfAlignedPass: 0 };
        for (const r of reports.filter((x) => (x.header.policy.domain ?? '') === domain)) {
          for (const rec of r.records) {
            if (!(rec.count > 0)) continue;
            const a = evaluateRecord(rec, r.header.policy);
            // whole reports inside the range only (the ranges below never cut one)
            if (r.header.begin < fromDay || r.header.end > toDay + DAY) continue;
            t.messages += rec.count;
            if (a.dmarcPass) t.dmarcPass += rec.count;
            if (a.dkimAligned) t.dkimAlignedPass += rec.count;
            if (a.spfAligned) t.spfAlignedPass += rec.count;
          }
        }
        return t;
      };
      const ex = overview.find((o) => o.domain === 'example.com')!;
      expect(ex).toMatchObject({ ...direct('example.com'), reports: 3 });
      expect(ex.dmarcFail).toBe(ex.messages - ex.dmarcPass);
      expect(ex.none + ex.quarantine + ex.reject).toBeLessThanOrEqual(ex.messages);
      // the newest report (feb-week) published the default p=none with adkim=s
      expect(ex.policy).toMatchObject({ p: 'none', adkim: 's', seenAt: D0 + 32 * DAY - 1 });
      expect(ex.readinessStep.length).toBeGreaterThan(10);
      expect(overview.find((o) => o.domain === 'other.test')).toMatchObject({ ...direct('other.test'), reports: 1, policy: { p: 'reject' } });

      // January 10–12 only: the first two reports of example.com
      const jan = { domain: 'EXAMPLE.COM', from: D0, to: D0 + 2 * DAY + 5 };
      const [janOverview] = await analytics.overview(jan);
      expect(janOverview).toMatchObject({ domain: 'example.com', ...direct('example.com', D0, D0 + 2 * DAY), reports: 2, policy: { p: 'quarantine', pct: 50 } });
      const timeline = await analytics.timeline(jan);
      expect(timeline.map((p) => p.day)).toEqual(['2024-01-10', '2024-01-11', '2024-01-12']);
      expect(timeline.reduce((s, p) => s + p.messages, 0)).toBe(janOverview!.messages);
      expect(timeline.reduce((s, p) => s + p.dmarcPass, 0)).toBe(janOverview!.dmarcPass);
      // the whole range, gaps filled with empty days
      const all = await analytics.timeline({ domain: 'example.com' });
      expect(all[0]!.day).toBe('2024-01-10');
      expect(all.at(-1)!.day).toBe('2024-02-10');
      expect(all).toHaveLength(32);
      expect(all.find((p) => p.day === '2024-01-20')!.messages).toBe(0);
      expect(all.reduce((s, p) => s + p.messages, 0)).toBe(ex.messages);
      expect(await analytics.overview({ domain: 'nothing.test' })).toEqual([]);
    });

    it('sources: one classified row per (domain, IP, key signature), largest first, filtered by domain and date', async () => {
      const reports = corpus();
      const db = await fresh(reports);
      const analytics = createAnalytics(db, { offline: OFFLINE });
      const rows = await analytics.sources({});
      const direct = directGroups(reports);
      expect(rows).toHaveLength(direct.size);
      expect(rows.reduce((s, r) => s + r.messages, 0)).toBe([...direct.values()].reduce((s, g) => s + g.messages, 0));
      for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.messages).toBeGreaterThanOrEqual(rows[i]!.messages);
      for (const r of rows) {
        expect(r.dmarcPass + r.dmarcFail).toBe(r.messages);
        expect(['compliant', 'forwarded', 'unsigned-vendor', 'spf-only', 'failing']).toContain(r.verdict);
        expect(r.evidence.length).toBeGreaterThan(0);
        if (r.verdict === 'compliant') expect(r.fix).toBeNull();
        else expect(r.fix).toBeTruthy();
      }
      // the largest N only
      const top = await analytics.sources({ limit: 5 });
      expect(top.map((r) => r.messages)).toEqual(rows.slice(0, 5).map((r) => r.messages));
      expect(top.map((r) => r.verdict)).toEqual(rows.slice(0, 5).map((r) => r.verdict));
      expect(await analytics.sources({ limit: 0 })).toEqual([]);
      const other = await analytics.sources({ domain: 'other.test' });
      expect(new Set(other.map((r) => r.domain))).toEqual(new Set(['other.test']));
      const feb = await analytics.sources({ domain: 'example.com', from: D0 + 20 * DAY });
      expect(feb.reduce((s, r) => s + r.messages, 0)).toBe(reports[2]!.records.reduce((s, r) => s + (r.count > 0 ? r.count : 0), 0));
    });

    it('the operator config and approvals change who a source is and its verdict', async () => {
      const unsigned = record(0, { sourceIp: '192.0.2.77', count: 40, dkimEval: 'fail', spfEval: 'fail', dkim: [], spf: [{ domain: 'bounce.vendor.test', scope: 'mfrom', result: 'pass', humanResult: null }] });
      const db = await fresh([{ header: header('vendor', D0, D0 + DAY - 1), records: [unsigned] }]);
      const plain = createAnalytics(db, { offline: OFFLINE });
      expect((await plain.sources({}))[0]).toMatchObject({ ip: '192.0.2.77', verdict: 'failing', approved: false, service: null });

      await expect(plain.approveSource({ ip: 'not an ip' })).rejects.toBeInstanceOf(InvalidApproval);
      await expect(plain.approveSource({ note: 'nothing to approve' })).rejects.toThrow(/needs one of ip, cidr, baseDomain, service/);
      await plain.approveSource({ cidr: '192.0.2.0/24', service: 'Billing System', note: 'our invoices' });
      const approved = (await plain.sources({}))[0]!;
      expect(approved).toMatchObject({ verdict: 'unsigned-vendor', approved: true, service: { name: 'Billing System' } });
      expect(approved.fix).toMatch(/^enable custom DKIM for Billing System and publish selector 2024billingsystem$/);
      expect((await plain.approvedSources()).map((a) => a.note)).toEqual(['our invoices']);

      // an operator service matched by ASN, with the selector it asks customers to publish
      const withService = createAnalytics(db, {
        offline: { asn: { lookup: (ip) => (ip === '192.0.2.77' ? { asn: 64512, org: 'Vendor AS' } : null) }, country: { lookup: () => 'NL' } },
        senders: { services: [{ name: 'Vendor Mail', type: 'esp-transactional', asn: [64512], selector: 'vm1' }] },
      });
      await withService.removeApprovedSource((await withService.approvedSources())[0]!.id);
      expect((await withService.sources({}))[0]).toMatchObject({ verdict: 'unsigned-vendor', service: { name: 'Vendor Mail', type: 'esp-transactional' }, asn: 64512, asOrg: 'Vendor AS', country: 'NL', fix: 'enable custom DKIM for Vendor Mail and publish selector vm1' });
    });

    it('selectors: volume, pass rate, first/last seen; stale rotations and failing keys flagged', async () => {
      const sig = (selector: string, result: string) => [{ domain: 'example.com', selector, result, humanResult: null }];
      const day = (n: number) => D0 + n * DAY;
      const reports: Report[] = [];
      // 2024q1vendor signs from day 0 to day 120; 2024q2vendor takes over from day 40: 80 days of overlap
      for (let n = 0; n <= 120; n += 20) reports.push({ header: header(`q1-${n}`, day(n), day(n + 1) - 1), records: [record(0, { count: 10, dkim: sig('2024q1vendor', 'pass') })] });
      for (let n = 40; n <= 120; n += 20) reports.push({ header: header(`q2-${n}`, day(n), day(n + 1) - 1, {}, 'b.test'), records: [record(0, { count: 30, dkim: sig('2024q2vendor', 'pass') })] });
      reports.push({ header: header('broken', day(5), day(6) - 1, {}, 'c.test'), records: [record(0, { count: 7, dkimEval: 'fail', dkim: sig('gone', 'permerror') }), record(1, { count: 3, dkim: sig('gone', 'pass') })] });
      const db = await fresh(reports);
      const rows = await createAnalytics(db, { offline: OFFLINE }).selectors({ domain: 'example.com' });
      const q1 = rows.find((r) => r.selector === '2024q1vendor')!;
      expect(q1).toMatchObject({ signingDomain: 'example.com', messages: 70, pass: 70, passRate: 1, firstSeen: day(0), lastSeen: day(121) - 1, stale: true, failing: false, newerSelector: '2024q2vendor' });
      expect(q1.notes[0]).toMatch(/still signing 80 day\(s\) after 2024q2vendor started/);
      expect(rows.find((r) => r.selector === '2024q2vendor')).toMatchObject({ messages: 150, stale: false, failing: false });
      const gone = rows.find((r) => r.selector === 'gone')!;
      expect(gone).toMatchObject({ messages: 10, pass: 3, permerror: 7, failing: true, stale: false });
      expect(gone.passRate).toBeCloseTo(0.3);
      expect(gone.notes.join(' ')).toContain('gone._domainkey.example.com');
      // a date range that ends before q2 started: nothing is stale
      expect((await createAnalytics(db, { offline: OFFLINE }).selectors({ domain: 'example.com', to: day(30) })).some((r) => r.stale)).toBe(false);
    });

    it('readiness: the what-if over the last N days splits affected mail into legitimate, forwarded and unknown', async () => {
      const pass = record(0, { sourceIp: '192.0.2.1', count: 500 });
      const vendor = record(1, { sourceIp: '192.0.2.77', count: 40, dkimEval: 'fail', spfEval: 'fail', dkim: [], spf: [] });
      const forwarded = record(2, { sourceIp: '203.0.113.5', count: 12, dkimEval: 'fail', spfEval: 'fail', dkim: [], spf: [], overrideReasons: [{ type: 'forwarded', comment: null }] });
      const spoof = record(3, { sourceIp: '198.51.100.66', count: 9, dkimEval: 'fail', spfEval: 'fail', dkim: [], spf: [] });
      const old = record(4, { sourceIp: '198.51.100.99', count: 1000, dkimEval: 'fail', spfEval: 'fail', dkim: [], spf: [] });
      const db = await fresh([
        { header: header('recent', D0 + 40 * DAY, D0 + 41 * DAY - 1, { p: 'none' }), records: [pass, vendor, forwarded, spoof] },
        { header: header('long-ago', D0, D0 + DAY - 1, { p: 'none' }, 'b.test'), records: [old] },
      ]);
      const analytics = createAnalytics(db, { offline: OFFLINE });
      // before the approval the unknown source is just unknown (and the answer is not kept past the approval)
      const [before] = await analytics.readiness({ domain: 'example.com', days: 30 });
      expect(before!.whatIf.reject).toMatchObject({ affected: 61, legitimate: 0, unknown: 49 });
      expect(before!.blockers).toEqual([]);
      await analytics.approveSource({ ip: '192.0.2.77', service: 'Newsletter Tool' });
      const [r] = await analytics.readiness({ domain: 'example.com', days: 30 });
      expect(r).toMatchObject({ domain: 'example.com', days: 30, messages: 561, dmarcPass: 500 });
      expect(r!.whatIf.reject).toMatchObject({ affected: 61, legitimate: 40, forwarded: 12, unknown: 9 });
      expect(r!.blockers).toEqual([{ name: 'Newsletter Tool', sources: ['192.0.2.77'], messages: 40, fix: 'enable custom DKIM for Newsletter Tool and publish selector 2024newslettertool' }]);
      expect(r!.nextStep).toMatch(/^1 service\(s\) must sign with DKIM before p=quarantine or p=reject: Newsletter Tool \(40 message\(s\)/);
      // a window of 60 days reaches the old spoofing too
      const [wide] = await analytics.readiness({ domain: 'example.com', days: 60 });
      expect(wide!.whatIf.reject.unknown).toBe(1009);
      // ending before the recent report: only the old one
      const [early] = await analytics.readiness({ domain: 'example.com', to: D0 + 10 * DAY, days: 30 });
      expect(early).toMatchObject({ messages: 1000, blockers: [] });
      expect(await analytics.readiness({})).toHaveLength(1);
    });

    it('monthly summary: volume, pass rate and failing sources per domain and month', async () => {
      const fail = (ip: string, count: number) => record(0, { sourceIp: ip, count, dkimEval: 'fail', spfEval: 'fail', dkim: [], spf: [] });
      const db = await fresh([
        { header: header('jan', D0, D0 + DAY - 1), records: [record(0, { count: 90 }), { ...fail('198.51.100.1', 5), ordinal: 1 }, { ...fail('198.51.100.2', 5), ordinal: 2 }] },
        { header: header('feb', D0 + 30 * DAY, D0 + 31 * DAY - 1), records: [record(0, { count: 10 }), { ...fail('198.51.100.1', 10), ordinal: 1 }] },
      ]);
      expect(await createAnalytics(db, { offline: OFFLINE }).monthlySummary({})).toEqual([
        { domain: 'example.com', month: '2024-01', messages: 100, dmarcPass: 90, passRate: 0.9, failingSources: 2 },
        { domain: 'example.com', month: '2024-02', messages: 20, dmarcPass: 10, passRate: 0.5, failingSources: 1 },
      ]);
    });
  });
}
