/** The Domains view's API: live DNS checks over a real DNS server on loopback, cached, re-run on POST. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAnalytics } from '../../server/http/load-analytics.ts';
import { createWebChecker } from '../../server/http/web-checker.ts';
import { startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy, ZONE } from '../fixtures/dns/zone.ts';
import { startWebFixture, type WebFixture } from './web-fixture.ts';

describe('DNS check API', () => {
  let dns: FakeDns;
  let web: WebFixture;
  beforeAll(async () => {
    dns = await startFakeDns({
      ...ZONE,
      // a domain of the sample reports, with a weak record
      '_dmarc.example.com': [txt('v=DMARC1; p=none')],
      'example.com': [txt('v=spf1 +all')],
      // a selector the sample reports show for example.com, with an empty (revoked) key
      'google._domainkey.example.com': [txt('v=DKIM1; k=rsa; p=')],
    });
    web = await startWebFixture({
      analytics: (db) => webAnalytics(db),
      checker: createWebChecker({ servers: [dns.address], timeoutMs: 1000, fetchPolicy: fakeFetchPolicy }),
    });
  });
  afterAll(async () => {
    await web?.close();
    await dns?.stop();
  });

  it('checks a domain live, then answers from the cache until the TTL runs out', async () => {
    const api = web.client();
    const first = (await api.get('/api/dns/good.test')).json();
    expect(first.cached).toBe(false);
    expect(first.check.domain).toBe('good.test');
    const dmarc = first.check.records.find((r: any) => r.type === 'dmarc');
    expect(dmarc.value).toBe('v=DMARC1; p=reject; rua=mailto:dmarc@good.test');
    expect(dmarc.status).toBe('pass');
    expect(first.check.records.map((r: any) => r.type)).toEqual(expect.arrayContaining(['dmarc', 'spf', 'mx', 'mta-sts', 'tls-rpt']));
    expect(Math.abs(first.now - Date.parse(first.check.checked_at) / 1000)).toBeLessThan(60);
    const queries = dns.queries.length;
    const second = (await api.get('/api/dns/GOOD.test.')).json();
    expect(second.cached).toBe(true);
    expect(second.check.checked_at).toBe(first.check.checked_at);
    expect(dns.queries.length).toBe(queries);
  });

  it('shows findings with severity and fix, and the list of report domains with their newest check', async () => {
    const api = web.client();
    const before = (await api.get('/api/dns')).json();
    expect(before.available).toBe(true);
    const entry = before.domains.find((d: any) => d.domain === 'example.com');
    expect(entry.lastCheck).toBeNull();
    const check = (await api.get('/api/dns/example.com')).json().check;
    const findings = check.records.flatMap((r: any) => r.findings);
    const errors = findings.filter((f: any) => f.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(findings.some((f: any) => typeof f.fix === 'string' && f.fix.length > 0)).toBe(true);
    const after = (await api.get('/api/dns')).json().domains.find((d: any) => d.domain === 'example.com');
    expect(after.lastCheck).toMatchObject({ domain: 'example.com', errors: errors.length });
  });

  it('checks the DKIM selectors seen in reports, and the selector table shows their key status', async () => {
    const api = web.client();
    const before = (await api.get('/api/selectors?domain=example.com&selector=google')).json().rows;
    expect(before.length).toBeGreaterThan(0);
    const check = (await api.get('/api/dns/example.com')).json().check;
    const key = check.records.find((r: any) => r.type === 'dkim' && r.name === 'google._domainkey.example.com');
    expect(key).toBeDefined();
    expect(key.status).not.toBe('pass');
    const after = (await api.get('/api/selectors?domain=example.com&selector=google')).json().rows;
    const own = after.find((r: any) => r.signing_domain === 'example.com');
    expect(own.key_status).toBe(key.status);
    expect(typeof own.key_detail).toBe('string');
  });

  it('re-checks on POST (CSRF-protected), bypassing the cache', async () => {
    const api = web.client();
    await api.get('/api/dns/seed.test');
    expect((await api.post('/api/dns/seed.test/check')).status).toBe(403);
    await api.session();
    const queries = dns.queries.length;
    const r = await api.post('/api/dns/seed.test/check');
    expect(r.status).toBe(200);
    expect(r.json().cached).toBe(false);
    expect(dns.queries.length).toBeGreaterThan(queries);
  });

  it('refuses what is not a domain name', async () => {
    const api = web.client();
    for (const bad of ['not..valid', '%3Cscript%3E', 'a%20b.test', 'x'.repeat(300)]) {
      const r = await api.get(`/api/dns/${bad}`);
      expect(r.status).toBe(400);
      expect(r.json().error.code).toBe('invalid-domain');
    }
  });
});

describe('DNS check API without a checker', () => {
  it('says the checks are unavailable', async () => {
    const web = await startWebFixture({ samples: false });
    try {
      const r = await web.client().get('/api/dns/good.test');
      expect(r.status).toBe(503);
      expect(r.json().error.code).toBe('checks-unavailable');
      expect((await web.client().get('/api/dns')).json().available).toBe(false);
    } finally {
      await web.close();
    }
  });
});
