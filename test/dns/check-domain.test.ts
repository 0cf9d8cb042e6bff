import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDomain, normalizeDomain, type CheckOptions } from '../../server/dns/check-domain.ts';
import { InvalidDomainError, type DnsLookup, type DomainCheck, type RecordCheck } from '../../server/dns/check-types.ts';
import { createResolver, type CachingResolver } from '../../server/dns/resolver.ts';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy, ZONE } from '../fixtures/dns/zone.ts';
import { ZONE_ADDITIONS } from './zone-additions.ts';

let dns: FakeDns;
let resolver: CachingResolver;
const NOW = new Date('2026-11-25T12:00:00Z');

beforeAll(async () => {
  dns = await startFakeDns({ ...ZONE, ...ZONE_ADDITIONS });
  resolver = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2 });
});
afterAll(async () => {
  await dns.stop();
});

const check = (domain: string, extra: Partial<CheckOptions> = {}) => checkDomain(domain, { resolver, fetchPolicy: fakeFetchPolicy, now: () => NOW, ...extra });
const record = (c: DomainCheck, name: string): RecordCheck => {
  const r = c.records.find((x) => x.name === name);
  if (!r) throw new Error(`no record ${name} in ${c.records.map((x) => x.name).join(', ')}`);
  return r;
};
const codesOf = (r: RecordCheck) => r.findings.map((f) => f.code);

describe('checkDomain', () => {
  it('passes a correctly configured domain, with every record in a fixed order', async () => {
    const c = await check('Good.Test.', { selectors: ['s2048', 'ed'] });
    expect(c.domain).toBe('good.test');
    expect(c.checked_at).toBe('2026-11-25T12:00:00.000Z');
    expect(c.records.map((r) => r.type)).toEqual(['dmarc', 'spf', 'dkim', 'dkim', 'mx', 'mta-sts', 'mta-sts', 'tls-rpt', 'bimi']);
    for (const r of c.records) expect({ name: r.name, status: r.status }).toEqual({ name: r.name, status: 'pass' });
    expect(c.records.flatMap((r) => r.findings).every((f) => f.severity === 'info')).toBe(true);
    expect(record(c, 'good.test').value).toBe('v=spf1 ip4:192.0.2.0/24 mx -all');
    expect(record(c, 'https://mta-sts.good.test/.well-known/mta-sts.txt').value).toContain('mode: enforce');
  });

  it("checks the seed author's zone: p=none, !10m, deprecated tags, external destinations, t=y keys, ADSP/SSP", async () => {
    const c = await check('seed.test', { selectors: ['mailchimp', 'sendgrid', 'google', 'old'] });
    const dmarc = record(c, '_dmarc.seed.test');
    expect(codesOf(dmarc)).toEqual(expect.arrayContaining(['dmarc-policy-none', 'dmarc-size-limit', 'dmarc-deprecated-tag', 'dmarc-ruf-requested']));
    expect(dmarc.findings.find((f) => f.code === 'dmarc-size-limit')?.message).toContain('10 MiB');
    expect(record(c, 'seed.test._report._dmarc.vendor-ok.test')).toMatchObject({ type: 'report-auth', status: 'pass', value: 'v=DMARC1' });
    const missing = record(c, 'seed.test._report._dmarc.vendor-missing.test');
    expect(missing).toMatchObject({ type: 'report-auth', status: 'fail' });
    expect(missing.findings[0]?.fix).toBe('seed.test._report._dmarc.vendor-missing.test TXT "v=DMARC1" (published by the operator of vendor-missing.test)');
    expect(codesOf(record(c, 'mailchimp._domainkey.seed.test'))).toEqual(['dkim-testing', 'dkim-key-weak', 'dkim-key-size']);
    expect(codesOf(record(c, 'sendgrid._domainkey.seed.test'))).toEqual(['dkim-testing', 'dkim-key-size']);
    expect(codesOf(record(c, 'google._domainkey.seed.test'))).toEqual(['dkim-revoked']);
    expect(record(c, 'old._domainkey.seed.test').status).toBe('fail');
    expect(codesOf(record(c, '_adsp._domainkey.seed.test'))).toEqual(['adsp-obsolete']);
    expect(codesOf(record(c, '_ssp._domainkey.seed.test'))).toEqual(['ssp-obsolete']);
    expect(codesOf(record(c, 'default._bimi.seed.test'))).toContain('bimi-dmarc-not-enforced');
  });

  it('fails an external rua destination that has not authorized the domain, and asks nothing of an internal one', async () => {
    const c = await check('rua-noauth.test');
    expect(c.records.filter((r) => r.type === 'report-auth').map((r) => r.name)).toEqual(['rua-noauth.test._report._dmarc.vendor-missing.test']);
    const auth = record(c, 'rua-noauth.test._report._dmarc.vendor-missing.test');
    expect(auth).toMatchObject({ status: 'fail', value: null });
    expect(codesOf(auth)).toEqual(['report-auth-missing']);
    expect(auth.findings[0]?.message).toContain('mailto:agg@vendor-missing.test');
    expect(auth.findings[0]?.message).toContain('does not exist (NXDOMAIN)');
  });

  it('flags p=none that the stored reports show for 30 days or more, and counts the days of a newer one', async () => {
    const none = (c: DomainCheck) => record(c, '_dmarc.nonelong.test').findings.filter((f) => f.code.startsWith('dmarc-policy-none'));
    const long = none(await check('nonelong.test', { reportedPolicy: { p: 'none', since: '2026-08-01T00:00:00Z' } }));
    expect(long.map((f) => f.code)).toEqual(['dmarc-policy-none-long']);
    expect(long[0]).toMatchObject({ severity: 'warning', fix: '_dmarc.nonelong.test TXT "v=DMARC1; p=quarantine; rua=mailto:d@nonelong.test"' });
    expect(long[0]?.message).toContain('p=none for 116 days: the stored reports show p=none since 2026-08-01');
    const recent = none(await check('nonelong.test', { reportedPolicy: { p: 'none', since: '2026-11-10T00:00:00Z' } }));
    expect(recent.map((f) => f.code)).toEqual(['dmarc-policy-none']);
    expect(recent[0]?.message).toContain('for 15 days so far');
    // reports that showed another policy, or no reports at all, say nothing about how long p=none has been there
    for (const reportedPolicy of [{ p: 'reject', since: '2020-01-01T00:00:00Z' }, null]) {
      const other = none(await check('nonelong.test', { reportedPolicy }));
      expect(other.map((f) => f.code)).toEqual(['dmarc-policy-none']);
      expect(other[0]?.message).not.toContain('so far');
    }
  });

  it('counts the DNS message overhead when judging whether the TXT answer fits in 512 bytes of UDP', async () => {
    const spf = (await check('udpsize.test')).records.find((r) => r.type === 'spf')!;
    expect(spf.value).toHaveLength(434);
    expect(codesOf(spf)).not.toContain('spf-record-too-long');
    expect(spf.findings.find((f) => f.code === 'spf-large-txt-answer')?.message).toContain('(2 records) is 551 bytes');
    const good = (await check('good.test')).records.find((r) => r.type === 'spf')!;
    expect(codesOf(good)).not.toContain('spf-large-txt-answer');
  });

  it('tells a domain that does not exist (NXDOMAIN) from one without MX (NODATA)', async () => {
    const gone = await check('doesnotexist.test');
    expect(codesOf(gone.records.find((r) => r.type === 'mx')!)).toEqual(['domain-not-found']);
    const nomx = (await check('nomx.test')).records.find((r) => r.type === 'mx')!;
    expect(codesOf(nomx)).toEqual(['mx-missing']);
    expect(nomx.findings[0]?.message).toContain('NODATA');
    const dmarc = (await check('nodmarc.test')).records[0]!;
    expect(dmarc.findings[0]?.message).toContain('_dmarc.nodmarc.test does not exist (NXDOMAIN)');
  });

  it('turns SERVFAIL, REFUSED and a silent server into findings instead of throwing', async () => {
    const sf = await check('servfail.test');
    expect(sf.records.find((r) => r.type === 'dmarc')?.findings.map((f) => f.code)).toEqual(['dns-servfail']);
    expect(sf.records.find((r) => r.type === 'spf')?.findings.map((f) => f.code)).toEqual(['dns-servfail']);
    expect(sf.records.find((r) => r.type === 'mx')?.status).toBe('fail');
    const refused = await check('refused.test');
    expect(refused.records.find((r) => r.type === 'mx')?.findings.map((f) => f.code)).toEqual(['dns-refused']);
    const slow = await check('timeout.test', { resolver: createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 }) });
    expect(slow.records.find((r) => r.type === 'dmarc')?.findings.map((f) => f.code)).toEqual(['dns-timeout']);
    expect(slow.records.find((r) => r.type === 'mx')?.status).toBe('pass');
  });

  it('falls back to a parent policy and says when RFC 7489 and RFC 9989 receivers disagree', async () => {
    const sub = await check('sub.inherit.test');
    expect(sub.records[0]).toMatchObject({ name: '_dmarc.inherit.test', status: 'pass' });
    expect(codesOf(sub.records[0]!)).toContain('dmarc-inherited');
    const deep = await check('x.deep.orgwalk.test');
    expect(deep.records[0]?.name).toBe('_dmarc.deep.orgwalk.test');
    expect(deep.records[0]?.findings.find((f) => f.code === 'dmarc-discovery-differs')?.message).toContain('look only at _dmarc.orgwalk.test');
    const psd = await check('a.b.psd.test');
    expect(psd.records[0]?.findings.find((f) => f.code === 'dmarc-discovery-differs')?.message).toContain('b.psd.test by the DNS tree walk');
  });

  it('tells which report source IPs the SPF record authorizes', async () => {
    const c = await check('cover.test', {
      reportSources: [
        { ip: '192.0.2.5', spfPassed: true },
        { ip: '192.0.2.200', spfPassed: false },
        { ip: '203.0.113.9', spfPassed: false },
        { ip: '198.51.100.7', spfPassed: true },
        { ip: '198.51.100.7', spfPassed: true },
        { ip: '2001:db8::1', spfPassed: true },
      ],
    });
    const spf = c.records.find((r) => r.type === 'spf')!;
    const msg = (code: string) => spf.findings.find((f) => f.code === code)?.message ?? '';
    expect(msg('spf-sources-covered')).toContain('3 of 5 source IPs');
    expect(msg('spf-sources-not-covered')).toContain('203.0.113.9 (fail)');
    expect(msg('spf-passed-source-not-covered')).toContain('198.51.100.7 (fail)');
    expect(msg('spf-failed-source-now-covered')).toContain('192.0.2.200');
    expect(spf.status).toBe('warn');
  });

  it('explains a syntax error caused by joining a split SPF record without spaces', async () => {
    const spf = (await check('splitspf.test')).records.find((r) => r.type === 'spf')!;
    expect(spf.value).toBe('v=spf1 ip4:192.0.2.1ip4:192.0.2.2 -all');
    expect(spf.findings.find((f) => f.code === 'spf-syntax')?.message).toContain('split into 2 strings, which receivers join without a space');
  });

  it('reports an unreachable or invalid MTA-STS policy', async () => {
    const c = await check('sts-unreach.test');
    const policy = c.records.find((r) => r.name.startsWith('https://'))!;
    expect(policy.findings[0]).toMatchObject({ code: 'mta-sts-policy-unreachable' });
    expect(policy.findings[0]?.message).toContain('ENOTFOUND');
    const notFound = await check('sts-404.test');
    expect(notFound.records.find((r) => r.name.startsWith('https://'))?.findings[0]?.message).toContain('HTTP status 404');
  });

  it('rejects names that are not domains and accepts IDNs', async () => {
    await expect(check('not a domain')).rejects.toBeInstanceOf(InvalidDomainError);
    await expect(check('user@example.com')).rejects.toBeInstanceOf(InvalidDomainError);
    expect(normalizeDomain('Bücher.Example.')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('-bad-.example')).toBeNull();
    expect(normalizeDomain('a'.repeat(64) + '.example')).toBeNull();
  });

  it('survives a lookup implementation that throws', async () => {
    const broken: DnsLookup = {
      txt: () => Promise.reject(new Error('boom')),
      mx: () => Promise.reject(new Error('boom')),
      a: () => Promise.reject(new Error('boom')),
      aaaa: () => Promise.reject(new Error('boom')),
    };
    const c = await checkDomain('good.test', { resolver: broken, fetchPolicy: fakeFetchPolicy });
    expect(c.records.length).toBeGreaterThan(0);
    expect(c.records.every((r) => r.findings.some((f) => f.code === 'dns-error'))).toBe(true);
  });
});
