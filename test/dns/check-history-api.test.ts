/**
 * The web app records every fresh DNS check in the database: the Domains list still knows "checked N min ago"
 * after a restart, and GET /api/dns/:domain/history tells when the records changed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebChecker } from '../../server/http/web-checker.ts';
import { startFakeDns, txt, type FakeDns, type Zone } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy, ZONE } from '../fixtures/dns/zone.ts';
import { startWebFixture, type WebFixture } from '../http/web-fixture.ts';

let dns: FakeDns;
let dir: string;
let dbUrl: string;
let web: WebFixture;
const zone: Zone = { ...ZONE, '_dmarc.example.com': [txt('v=DMARC1; p=none; rua=mailto:d@example.com')] };

beforeAll(async () => {
  dns = await startFakeDns(zone);
  dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-check-history-'));
  dbUrl = `sqlite:${join(dir, 'web.db')}`;
  web = await startWebFixture({ dbUrl, checker: createWebChecker({ servers: [dns.address], timeoutMs: 2000, fetchPolicy: fakeFetchPolicy }) });
});
afterAll(async () => {
  await web?.close();
  await dns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('DNS check history over the API', () => {
  it('records a fresh check once, not the answers served from the cache', async () => {
    const api = web.client();
    // usually one run shared by both requests (both answer cached: false), else the second is served from the cache
    const [a, b] = await Promise.all([api.get('/api/dns/good.test'), api.get('/api/dns/good.test')]);
    expect(b.json().check.checked_at).toBe(a.json().check.checked_at);
    expect((await api.get('/api/dns/good.test')).json().cached).toBe(true);
    const h = (await api.get('/api/dns/Good.Test/history')).json();
    expect(h.domain).toBe('good.test');
    expect(h.periods).toHaveLength(1);
    expect(h.periods[0]).toMatchObject({ checks: 1, errors: 0, warnings: 0, changes: [] });
    expect(h.periods[0].firstCheckedAt).toBe(Math.floor(Date.parse(a.json().check.checked_at) / 1000));
  });

  it('starts a new period when a record changes, saying which and how', async () => {
    const api = web.client();
    await api.session();
    zone['_dmarc.good.test'] = [txt('v=DMARC1; p=none; rua=mailto:dmarc@good.test')];
    const r = await api.post('/api/dns/good.test/check');
    expect(r.status).toBe(200);
    const h = (await api.get('/api/dns/good.test/history')).json();
    expect(h.periods).toHaveLength(2);
    expect(h.periods[0].warnings).toBeGreaterThan(0);
    expect(h.periods[0].changes).toEqual([
      {
        type: 'dmarc',
        name: '_dmarc.good.test',
        before: { value: 'v=DMARC1; p=reject; rua=mailto:dmarc@good.test', status: 'pass' },
        after: { value: 'v=DMARC1; p=none; rua=mailto:dmarc@good.test', status: 'warn' },
      },
      // the same BIMI record, now warning that DMARC is not enforced
      { type: 'bimi', name: 'default._bimi.good.test', before: { value: expect.stringContaining('v=BIMI1'), status: 'pass' }, after: { value: expect.stringContaining('v=BIMI1'), status: 'warn' } },
    ]);
    expect(h.periods[1].changes).toEqual([]);
  });

  it('still knows when a report domain was last checked after a restart', async () => {
    const checked = (await web.client().get('/api/dns/example.com')).json().check;
    await web.close();
    web = await startWebFixture({ dbUrl, samples: false, checker: createWebChecker({ servers: [dns.address], timeoutMs: 2000, fetchPolicy: fakeFetchPolicy }) });
    const list = (await web.client().get('/api/dns')).json();
    const entry = list.domains.find((d: { domain: string }) => d.domain === 'example.com');
    expect(entry.lastCheck).toMatchObject({ domain: 'example.com', checkedAt: checked.checked_at.replace(/\.\d{3}Z$/, '.000Z') });
    expect(entry.lastCheck.warnings).toBeGreaterThan(0);
  });

  it('refuses a history request for what is not a domain', async () => {
    const r = await web.client().get('/api/dns/not..valid/history');
    expect(r.status).toBe(400);
    expect(r.json().error.code).toBe('invalid-domain');
  });
});
