/** The analytics endpoints (overview, timeline, readiness, sources, selectors, monthly summary) on every engine. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAnalytics } from '../../server/http/load-analytics.ts';
import { webDialects } from './dialects.ts';
import { allRows, expectCsvEqualsJson as csvEqualsJson, startWebFixture, type TestClient, type WebFixture } from './web-fixture.ts';

const { dialects, cleanup } = await webDialects('analytics API');
afterAll(cleanup);

type Row = Record<string, any>;
const sum = (rows: Row[], key: string) => rows.reduce((n, r) => n + Number(r[key]), 0);

for (const dialect of dialects)
  describe(`analytics API (${dialect.name})`, () => {
    let web: WebFixture;
    let api: TestClient;
    beforeAll(async () => {
      web = await startWebFixture({ dbUrl: await dialect.newUrl(), analytics: (db) => webAnalytics(db) });
      api = web.client();
      await api.session();
    });
    afterAll(() => web?.close());

    const expectCsvEqualsJson = (path: string, params: Record<string, string> = {}) => csvEqualsJson(api, path, params) as Promise<Row[]>;

    it('lists the domains largest first, with totals that add up to the timeline', async () => {
      const domains = await expectCsvEqualsJson('/api/overview/domains');
      expect(domains.length).toBeGreaterThan(10);
      expect(domains.map((d) => d.messages)).toEqual([...domains.map((d) => d.messages)].sort((a, b) => b - a));
      const timeline = await expectCsvEqualsJson('/api/overview/timeline');
      expect(sum(timeline, 'messages')).toBe(sum(domains, 'messages'));
      expect(sum(timeline, 'dmarc_pass')).toBe(sum(domains, 'dmarc_pass'));
      for (const d of domains) expect(d.dmarc_pass + d.dmarc_fail).toBe(d.messages);
      const meta = (await api.get('/api/meta')).json();
      expect(meta.features).toEqual({ analytics: true, dnsChecks: false });
      expect(new Set(meta.domains.map((d: Row) => d.domain))).toEqual(new Set(domains.map((d) => d.domain)));
    });

    it('narrows every figure by domain and date range', async () => {
      const one = await expectCsvEqualsJson('/api/overview/domains', { domain: 'example.com' });
      expect(one.map((d) => d.domain)).toEqual(['example.com']);
      const days = await expectCsvEqualsJson('/api/overview/timeline', { domain: 'example.com', from: '2024-01-01', to: '2024-12-31' });
      expect(days.length).toBeGreaterThan(0);
      for (const d of days) expect(d.day >= '2024-01-01' && d.day <= '2024-12-31').toBe(true);
      const all = await allRows(api, '/api/overview/timeline', { domain: 'example.com' }, 1000);
      expect(sum(days, 'messages')).toBeLessThan(sum(all, 'messages'));
      const ranged = (await api.get('/api/overview/domains?from=2024-01-01&to=2024-12-31')).json().rows as Row[];
      expect(ranged.find((d) => d.domain === 'example.com')!.messages).toBe(sum(days, 'messages'));
    });

    it('sums the management summary per domain per month to the same totals', async () => {
      const months = await expectCsvEqualsJson('/api/summary');
      const domains = (await api.get('/api/overview/domains?limit=1000')).json().rows as Row[];
      expect(sum(months, 'messages')).toBe(sum(domains, 'messages'));
      for (const m of months) expect(m.month).toMatch(/^\d{4}-\d{2}$/);
      const r = await api.get('/api/summary.csv');
      expect(r.headers.get('content-disposition')).toBe('attachment; filename="dmarc-lens-monthly-summary.csv"');
      expect(r.text.split('\r\n')[0]).toBe('domain,month,messages,dmarc_pass,pass_rate,failing_sources');
    });

    it('gives the readiness verdict of a domain', async () => {
      const r = (await api.get('/api/overview/readiness?domain=example.com&days=366')).json().readiness as Row[];
      expect(r.map((x) => x.domain)).toEqual(['example.com']);
      expect(typeof r[0]!.nextStep).toBe('string');
      expect(r[0]!.whatIf.reject.policy).toBe('reject');
      expect((await api.get('/api/overview/readiness?days=0')).status).toBe(400);
    });

    it('classifies the sources and filters them by verdict, search and order; the chart adds up', async () => {
      const all = await expectCsvEqualsJson('/api/sources');
      const chart = (await api.get('/api/sources/chart')).json().byVerdict as Row[];
      expect(chart.map((c) => c.verdict)).toEqual(['compliant', 'forwarded', 'unsigned-vendor', 'spf-only', 'failing']);
      for (const c of chart) {
        const of = all.filter((s) => s.verdict === c.verdict);
        expect({ v: c.verdict, messages: c.messages, sources: c.sources }).toEqual({ v: c.verdict, messages: sum(of, 'messages'), sources: of.length });
      }
      const failing = await expectCsvEqualsJson('/api/sources', { verdict: 'failing', domain: 'example.com' });
      expect(failing.length).toBeGreaterThan(0);
      expect(failing.every((s) => s.verdict === 'failing' && s.domain === 'example.com')).toBe(true);
      const worst = (await api.get('/api/sources?sort=failing&limit=5')).json().rows as Row[];
      expect(worst.map((s) => s.dmarc_fail)).toEqual([...worst.map((s) => s.dmarc_fail)].sort((a, b) => b - a));
      expect(worst[0]!.dmarc_fail).toBe(Math.max(...all.map((s) => s.dmarc_fail)));
      const google = await expectCsvEqualsJson('/api/sources', { q: 'google' });
      expect(google.length).toBeGreaterThan(0);
      expect(google.length).toBeLessThan(all.length);
    });

    it('approves a source (CSRF-protected, validated), after which it counts as approved', async () => {
      const target = (await api.get('/api/sources?verdict=failing&limit=1')).json().rows[0] as Row;
      expect((await api.post('/api/sources/approve', { ip: target.ip }, { csrf: false })).status).toBe(403);
      for (const bad of [{}, { ip: 'not-an-ip' }, { cidr: '10.0.0.0/99' }, { ip: target.ip, color: 'red' }, { note: 'x' }, { ip: 5 }]) {
        const r = await api.post('/api/sources/approve', bad);
        expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
        expect(r.json().error.code).toBe('bad-parameter');
      }
      expect((await api.post('/api/sources/approve', { ip: target.ip, note: 'our own relay' })).status).toBe(204);
      const after = (await allRows(api, '/api/sources', { q: target.ip }, 1000)).filter((s) => s.ip === target.ip);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((s) => s.approved === true)).toBe(true);
    });

    it('lists DKIM selectors with their figures and DNS key status; filters by selector and problems', async () => {
      const all = await expectCsvEqualsJson('/api/selectors');
      expect(all.length).toBeGreaterThan(3);
      for (const s of all) {
        expect(s.key_status).toBe('not checked');
        expect(s.pass).toBeLessThanOrEqual(s.messages);
      }
      const name = all[0]!.selector as string;
      const one = await expectCsvEqualsJson('/api/selectors', { selector: name.toUpperCase() });
      expect(one.length).toBeGreaterThan(0);
      expect(one.every((s) => s.selector.toLowerCase() === name.toLowerCase())).toBe(true);
      const problems = await expectCsvEqualsJson('/api/selectors', { problems: 'true' });
      expect(problems.every((s) => s.stale || s.failing)).toBe(true);
      expect(problems.length).toBe(all.filter((s) => s.stale || s.failing).length);
    });

    it('refuses bad parameters with the error envelope', async () => {
      for (const path of ['/api/sources?verdict=bogus', '/api/sources?sort=random', '/api/selectors?problems=maybe', '/api/overview/domains?to=2024-02-30', '/api/summary?domain=', '/api/overview/timeline?limit=0', '/api/sources.csv?limit=3']) {
        const r = await api.get(path);
        if (path.endsWith('domain=')) {
          // an empty parameter is no filter
          expect(r.status).toBe(200);
          continue;
        }
        expect({ path, status: r.status }).toEqual({ path, status: 400 });
        expect(r.json().error.code).toBe('bad-parameter');
      }
    });
  });

describe('analytics API without the analytics module', () => {
  it('answers 503 analytics-unavailable', async () => {
    const web = await startWebFixture({ samples: false });
    try {
      for (const path of ['/api/overview/domains', '/api/sources', '/api/selectors', '/api/summary.csv', '/api/overview/readiness']) {
        const r = await web.client().get(path);
        expect({ path, status: r.status, code: r.json().error.code }).toEqual({ path, status: 503, code: 'analytics-unavailable' });
      }
    } finally {
      await web.close();
    }
  });
});
