import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, parseResolverSpec } from '../../server/dns/resolver.ts';
import { a, cname, mx, startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';
import { KEYS } from '../fixtures/dns/zone.ts';

let dns: FakeDns;

beforeAll(async () => {
  dns = await startFakeDns({
    'example.test': [txt('v=spf1 -all'), mx(10, 'mx.example.test'), { type: 'A', address: '192.0.2.1', ttl: 42 }],
    'split.example.test': [txt('v=DKIM1; p=abc', 'def', 'ghi')],
    'big._domainkey.example.test': [txt(`v=DKIM1; k=rsa; p=${KEYS.rsa4096}`)],
    'alias.example.test': [cname('example.test')],
    '*._report._dmarc.dest.test': [txt('v=DMARC1')],
    'dest.test': [a('192.0.2.9')],
    'sub.empty.test': [a('192.0.2.2')],
    'servfail.test': 'SERVFAIL',
    'refused.test': 'REFUSED',
    'notimp.test': 'NOTIMP',
    'drop.test': 'DROP',
    'null.test': [mx(0, '.')],
    'ttl.example.test': [{ type: 'TXT', data: 'v=spf1 -all', ttl: 42 }, { type: 'MX', priority: 10, exchange: 'mx.example.test', ttl: 77 }],
    'via-alias.example.test': [{ type: 'CNAME', target: 'ttl.example.test', ttl: 20 }],
    'soa.test': [{ type: 'SOA', minimum: 30, ttl: 3600 }, a('192.0.2.3')],
  });
});
afterAll(async () => {
  await dns.stop();
});

const resolver = (extra: Parameters<typeof createResolver>[0] = {}) => createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2, ...extra });

describe('resolver against a loopback DNS server', () => {
  it('returns TXT records with their strings kept apart, MX and A with TTL', async () => {
    const r = resolver();
    expect(await r.txt('split.example.test')).toMatchObject({ ok: true, value: [['v=DKIM1; p=abc', 'def', 'ghi']] });
    expect(await r.mx('example.test')).toMatchObject({ ok: true, value: [{ priority: 10, exchange: 'mx.example.test' }] });
    expect(await r.a('example.test')).toEqual({ ok: true, value: ['192.0.2.1'], ttl: 42 });
    expect(await r.mx('null.test')).toMatchObject({ ok: true, value: [{ priority: 0, exchange: '' }] });
  });

  it('tells NXDOMAIN from NODATA, including empty non-terminals', async () => {
    const r = resolver();
    expect(await r.txt('nothing.example.test')).toMatchObject({ ok: false, error: 'NXDOMAIN' });
    expect(await r.txt('dest.test')).toMatchObject({ ok: false, error: 'NODATA' });
    expect(await r.txt('empty.test')).toMatchObject({ ok: false, error: 'NODATA' });
  });

  it('maps SERVFAIL, REFUSED, other rcodes, a silent server and a closed port to values', async () => {
    const r = resolver();
    expect(await r.txt('servfail.test')).toMatchObject({ ok: false, error: 'SERVFAIL', ttl: 0 });
    expect(await r.txt('refused.test')).toMatchObject({ ok: false, error: 'REFUSED' });
    expect(await r.txt('notimp.test')).toMatchObject({ ok: false, error: 'ERROR' });
    expect(await resolver({ timeoutMs: 300, tries: 1 }).txt('drop.test')).toMatchObject({ ok: false, error: 'TIMEOUT' });
    const closed = createResolver({ servers: ['127.0.0.1:1'], timeoutMs: 300, tries: 1 });
    expect(await closed.txt('example.test')).toMatchObject({ ok: false, error: 'ERROR' });
    expect(await r.txt('bad name with spaces')).toMatchObject({ ok: false, error: 'ERROR' });
  });

  it('follows CNAMEs and wildcards', async () => {
    const r = resolver();
    expect(await r.txt('alias.example.test')).toMatchObject({ ok: true, value: [['v=spf1 -all']] });
    expect(await r.txt('anything.test._report._dmarc.dest.test')).toMatchObject({ ok: true, value: [['v=DMARC1']] });
  });

  it('gets an answer larger than 512 bytes by retrying over TCP on the same port', async () => {
    const r = resolver();
    const answer = await r.txt('big._domainkey.example.test');
    expect(answer.ok).toBe(true);
    if (answer.ok) expect(answer.value[0]?.join('')).toBe(`v=DKIM1; k=rsa; p=${KEYS.rsa4096}`);
    expect(dns.queries.some((q) => q.name === 'big._domainkey.example.test' && q.transport === 'tcp')).toBe(true);
  });

  it('caches answers for their TTL, coalesces identical lookups and never caches failures', async () => {
    let clock = 1_000_000;
    const r = resolver({ now: () => clock });
    const [x, y] = await Promise.all([r.a('example.test'), r.a('example.test')]);
    expect(x).toEqual(y);
    expect(r.networkLookups).toBe(1);
    clock += 40_000;
    expect(await r.a('example.test')).toMatchObject({ ok: true, ttl: 2 });
    expect(r.networkLookups).toBe(1);
    clock += 3_000;
    await r.a('example.test');
    expect(r.networkLookups).toBe(2);
    await r.txt('servfail.test');
    await r.txt('servfail.test');
    expect(r.networkLookups).toBe(4);
    await r.txt('nothing.example.test');
    await r.txt('nothing.example.test');
    expect(r.networkLookups).toBe(5);
  });

  it('honours the TTL of TXT and MX answers, the smallest along a CNAME chain', async () => {
    const r = resolver();
    expect(await r.txt('ttl.example.test')).toEqual({ ok: true, value: [['v=spf1 -all']], ttl: 42 });
    expect(await r.mx('ttl.example.test')).toEqual({ ok: true, value: [{ priority: 10, exchange: 'mx.example.test' }], ttl: 77 });
    expect(await r.txt('via-alias.example.test')).toMatchObject({ ok: true, value: [['v=spf1 -all']], ttl: 20 });
    let clock = 5_000_000;
    const cached = resolver({ now: () => clock });
    await cached.txt('ttl.example.test');
    clock += 41_000;
    expect(await cached.txt('ttl.example.test')).toMatchObject({ ok: true, ttl: 1 });
    expect(cached.networkLookups).toBe(1);
    clock += 2_000;
    await cached.txt('ttl.example.test');
    expect(cached.networkLookups).toBe(2);
  });

  it("caches NXDOMAIN and NODATA for the zone's negative TTL (SOA) when it is shorter than the configured one", async () => {
    expect(await resolver().txt('nothing.soa.test')).toMatchObject({ ok: false, error: 'NXDOMAIN', ttl: 30 });
    expect(await resolver().txt('soa.test')).toMatchObject({ ok: false, error: 'NODATA', ttl: 30 });
    expect(await resolver({ negativeTtlSec: 10 }).mx('soa.test')).toMatchObject({ ok: false, error: 'NODATA', ttl: 10 });
    expect(await resolver().txt('nothing.example.test')).toMatchObject({ ok: false, error: 'NXDOMAIN', ttl: 60 });
  });

  it('keeps the cache bounded', async () => {
    const r = resolver({ maxCacheEntries: 2 });
    await r.txt('example.test');
    await r.mx('example.test');
    await r.a('example.test');
    await r.txt('example.test'); // evicted as the oldest, so it goes to the network again
    expect(r.networkLookups).toBe(4);
  });
});

describe('parseResolverSpec', () => {
  it('accepts IPv4 and IPv6 with or without a port, comma-separated', () => {
    expect(parseResolverSpec('127.0.0.1:5353, 192.0.2.1,[::1]:53,2001:db8::1')).toEqual(['127.0.0.1:5353', '192.0.2.1', '[::1]:53', '2001:db8::1']);
  });
  it('rejects names, bad addresses and bad ports', () => {
    expect(() => parseResolverSpec('dns.google')).toThrow(/not an IP address/);
    expect(() => parseResolverSpec('300.1.1.1')).toThrow(/not an IP address/);
    expect(() => parseResolverSpec('127.0.0.1:70000')).toThrow(/bad port/);
    expect(() => parseResolverSpec(' , ')).toThrow(/no resolver/);
  });
});

describe('--resolver parsing is the same for DNS checks and enrichment', () => {
  it('accepts and refuses the same specs, with the same servers', async () => {
    const { parseResolverSpec: enrichParse } = await import('../../server/enrich/resolver.ts');
    const specs = ['127.0.0.1', '127.0.0.1:5353', '[::1]:53', '::1', 'fe80::1%eth0', '127.0.0.1:99999', 'localhost', '', '1.2.3.4,5.6.7.8:54', 'x:53'];
    for (const spec of specs) {
      let dns: string[] | null;
      try {
        dns = parseResolverSpec(spec);
      } catch {
        dns = null;
      }
      expect({ spec, servers: enrichParse(spec) }).toEqual({ spec, servers: dns });
    }
    expect(parseResolverSpec('127.0.0.1:5353')).toEqual(['127.0.0.1:5353']);
  });
});
