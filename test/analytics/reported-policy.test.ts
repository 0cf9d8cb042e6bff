/**
 * "p=none for long" is fed from the stored reports: the policy their newest report was published with, and
 * since when the reports show it without a break — read from a real database (SQLite and PostgreSQL), and used
 * by the web app's DNS check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebChecker } from '../../server/http/web-checker.ts';
import { createStoreSelectorSource } from '../../server/store/analytics-selector-source.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { fakeFetchPolicy, ZONE } from '../fixtures/dns/zone.ts';
import { startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';
import { startWebFixture, type WebFixture } from '../http/web-fixture.ts';
import { analyticsTargets, batches, D0, DAY, header, origin, record } from './rollup-fixtures.ts';

const targets = await analyticsTargets('reported policy');

/** one daily report per day from `fromDay` to `toDay` (day numbers after D0), each published with `p` */
async function daily(db: Database, domain: string, p: string, fromDay: number, toDay: number, org = 'reporter.test'): Promise<void> {
  for (let day = fromDay; day <= toDay; day++) {
    const h = header(`${domain}-${p}-${day}`, D0 + day * DAY, D0 + (day + 1) * DAY - 1, { domain, p }, org);
    expect((await db.reports.saveAggregate(h, batches([record(0)], 1), origin)).outcome).toBe('stored');
  }
}

describe.each(targets)('reported policy on $name', (target) => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase(await target.freshUrl());
    // reject for ten days, then none for forty (the newest run), another reporter agreeing
    await daily(db, 'moved.test', 'reject', 0, 9);
    await daily(db, 'moved.test', 'none', 10, 49);
    await daily(db, 'moved.test', 'NONE ', 30, 49, 'other.test');
    await daily(db, 'steady.test', 'quarantine', 5, 7);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('gives the newest policy and the start of its unbroken run', async () => {
    const source = createStoreSelectorSource(db.driver);
    expect(await source.reportedPolicyFor('Moved.Test')).toEqual({ p: 'none', since: new Date((D0 + 10 * DAY) * 1000).toISOString() });
    expect(await source.reportedPolicyFor('steady.test')).toEqual({ p: 'quarantine', since: new Date((D0 + 5 * DAY) * 1000).toISOString() });
  });

  it('knows nothing of a domain without reports', async () => {
    expect(await createStoreSelectorSource(db.driver).reportedPolicyFor('unknown.test')).toBeNull();
  });
});

describe('the web app’s DNS check uses the reported policy', () => {
  let dns: FakeDns;
  let web: WebFixture;
  beforeAll(async () => {
    dns = await startFakeDns({
      ...ZONE,
      '_dmarc.longnone.test': [txt('v=DMARC1; p=none; rua=mailto:d@longnone.test')],
      '_dmarc.newnone.test': [txt('v=DMARC1; p=none; rua=mailto:d@newnone.test')],
    });
    web = await startWebFixture({ samples: false, checker: createWebChecker({ servers: [dns.address], timeoutMs: 2000, fetchPolicy: fakeFetchPolicy }) });
    // reports of 60 days ago up to yesterday for one domain, of the last 3 days for the other
    const today = Math.floor(Date.now() / 1000 / DAY) * DAY;
    for (const [domain, days] of [['longnone.test', 60], ['newnone.test', 3]] as const) {
      for (let i = days; i >= 1; i--) {
        const h = header(`${domain}-${i}`, today - i * DAY, today - (i - 1) * DAY - 1, { domain, p: 'none' });
        await web.db.reports.saveAggregate(h, batches([record(0)], 1), origin);
      }
    }
  });
  afterAll(async () => {
    await web?.close();
    await dns?.stop();
  });

  const codes = async (domain: string): Promise<string[]> => {
    const check = (await web.client().get(`/api/dns/${domain}`)).json().check as { records: { type: string; findings: { code: string }[] }[] };
    return check.records.filter((r) => r.type === 'dmarc').flatMap((r) => r.findings.map((f) => f.code));
  };

  it('warns when the reports have shown p=none for weeks', async () => {
    expect(await codes('longnone.test')).toContain('dmarc-policy-none-long');
  });

  it('does not when p=none is recent', async () => {
    const found = await codes('newnone.test');
    expect(found.some((c) => c.startsWith('dmarc-policy-none'))).toBe(true);
    expect(found).not.toContain('dmarc-policy-none-long');
  });
});
