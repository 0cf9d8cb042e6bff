import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichIp, enrichIps } from '../../server/enrich/enrich-ips.ts';
import { DEFAULT_TTLS, MemoryEnrichmentCache, ttlFor, type Enrichment } from '../../server/enrich/enrichment.ts';
import { createResolver, parseResolverSpec, resolverServersFrom } from '../../server/enrich/resolver.ts';
import { startPtrDns, type PtrDns } from '../helpers/ptr-dns.ts';

let dns: PtrDns;

beforeAll(async () => {
  dns = await startPtrDns(
    {
      ptr: {
        '192.0.2.1': ['mail.example.test'],
        '192.0.2.2': ['liar.example.test'],
        '192.0.2.3': 'NXDOMAIN',
        '192.0.2.4': 'DROP',
        '192.0.2.5': 'SERVFAIL',
        '192.0.2.6': ['gone.example.test'],
        '192.0.2.7': ['other.example.test', 'o1.ptr.sendgrid.net'],
        '2001:db8::25': ['v6.example.test'],
        '198.51.100.9': ['slow.example.test'],
      },
      a: {
        'mail.example.test': ['192.0.2.1'],
        'liar.example.test': ['203.0.113.50'],
        'other.example.test': ['203.0.113.51'],
        'o1.ptr.sendgrid.net': ['192.0.2.7'],
        'slow.example.test': 'DROP',
      },
      aaaa: { 'v6.example.test': ['2001:db8:0:0::25'] },
    },
    { logNames: true },
  );
});

afterAll(async () => {
  await dns.stop();
});

const opts = () => ({ servers: [dns.address], timeoutMs: 300, tries: 1, asn: { lookup: () => null }, country: { lookup: () => null } });

describe('reverse DNS against a loopback server', () => {
  it('finds a PTR name and forward-confirms it', async () => {
    const e = await enrichIp('192.0.2.1', opts());
    expect(e).toMatchObject({ ip: '192.0.2.1', ptr: 'mail.example.test', forwardConfirmed: true, baseDomain: 'example.test', dnsError: null });
  });

  it('reports a PTR whose name does not resolve back as not confirmed', async () => {
    const e = await enrichIp('192.0.2.2', opts());
    expect(e).toMatchObject({ ptr: 'liar.example.test', forwardConfirmed: false, dnsError: null });
  });

  it('reports a PTR whose name does not exist as not confirmed', async () => {
    const e = await enrichIp('192.0.2.6', opts());
    expect(e).toMatchObject({ ptr: 'gone.example.test', forwardConfirmed: false });
  });

  it('uses the confirmed name when an address has several PTR names', async () => {
    const e = await enrichIp('192.0.2.7', opts());
    expect(e).toMatchObject({ ptr: 'o1.ptr.sendgrid.net', forwardConfirmed: true, baseDomain: 'sendgrid.net' });
  });

  it('confirms IPv6 with AAAA and canonical address text', async () => {
    const e = await enrichIp('2001:DB8:0::25', opts());
    expect(e).toMatchObject({ ip: '2001:db8::25', ptr: 'v6.example.test', forwardConfirmed: true });
  });

  it('records NXDOMAIN, SERVFAIL and timeout as error kinds, never throwing', async () => {
    expect((await enrichIp('192.0.2.3', opts())).dnsError).toBe('nxdomain');
    expect((await enrichIp('192.0.2.5', opts())).dnsError).toBe('servfail');
    const t = await enrichIp('192.0.2.4', opts());
    expect(t).toMatchObject({ ptr: null, forwardConfirmed: null, dnsError: 'timeout' });
  });

  it('leaves confirmation unknown when the forward look-up times out', async () => {
    const e = await enrichIp('198.51.100.9', opts());
    expect(e).toMatchObject({ ptr: 'slow.example.test', forwardConfirmed: null, dnsError: null });
  });

  it('turns a bad IP into a bad-ip result without asking the server', async () => {
    const before = dns.total();
    const e = await enrichIp('not-an-ip', opts());
    expect(e.dnsError).toBe('bad-ip');
    expect(dns.total()).toBe(before);
  });
});

describe('enrichIps', () => {
  it('a fresh cache entry avoids a second query; an expired one is looked up again', async () => {
    let now = 1_700_000_000;
    const cache = new MemoryEnrichmentCache({ now: () => now });
    const run = () => enrichIps(['192.0.2.1'], { ...opts(), cache, now: () => now });
    const ptrName = '1.2.0.192.in-addr.arpa';
    const before = dns.countFor(ptrName);
    const first = await run();
    expect(first).toMatchObject({ done: 1, lookedUp: 1, fromCache: 0 });
    expect(dns.countFor(ptrName)).toBe(before + 1);
    const second = await run();
    expect(second).toMatchObject({ done: 1, lookedUp: 0, fromCache: 1 });
    expect(dns.countFor(ptrName)).toBe(before + 1);
    now += 8 * 86400; // past the 7-day TTL of a found name
    const third = await run();
    expect(third.lookedUp).toBe(1);
    expect(dns.countFor(ptrName)).toBe(before + 2);
  });

  it('caches failures with a shorter TTL than answers', async () => {
    let now = 1_700_000_000;
    const cache = new MemoryEnrichmentCache({ now: () => now });
    await enrichIps(['192.0.2.3', '192.0.2.1'], { ...opts(), cache, now: () => now });
    now += 2 * 86400; // past the 1-day negative TTL, within the 7-day positive one
    const s = await enrichIps(['192.0.2.3', '192.0.2.1'], { ...opts(), cache, now: () => now });
    expect(s).toMatchObject({ lookedUp: 1, fromCache: 1 });
  });

  it('a PTR name whose forward confirmation timed out is kept only for the transient TTL', async () => {
    let now = 1_700_000_000;
    const cache = new MemoryEnrichmentCache({ now: () => now });
    const run = () => enrichIps(['198.51.100.9', '192.0.2.1'], { ...opts(), cache, now: () => now });
    const first = await run();
    expect(first.lookedUp).toBe(2);
    expect(await cache.get('198.51.100.9')).toMatchObject({ ptr: 'slow.example.test', forwardConfirmed: null });
    now += 2 * 3600; // past the 1-hour transient TTL, well within the 7-day TTL of a confirmed name
    const second = await run();
    expect(second).toMatchObject({ lookedUp: 1, fromCache: 1 });
    expect((await cache.get('192.0.2.1'))?.forwardConfirmed).toBe(true);
  });

  it('deduplicates, reports progress and results, counts errors by kind, and never throws', async () => {
    const results: Enrichment[] = [];
    const progress: number[] = [];
    const s = await enrichIps(['192.0.2.1', '192.0.2.3', 'garbage', '192.0.2.1', '::ffff:192.0.2.1', '192.0.2.5'], {
      ...opts(),
      onResult: (e) => void results.push(e),
      onProgress: (p) => progress.push(p.done),
      progressEvery: 2,
    });
    expect(s).toMatchObject({ done: 4, duplicates: 2, errors: 3 });
    expect(s.errorsByKind).toEqual({ nxdomain: 1, 'bad-ip': 1, servfail: 1 });
    expect(results.map((r) => r.ip).sort()).toEqual(['192.0.2.1', '192.0.2.3', '192.0.2.5', 'garbage']);
    expect(progress).toEqual([2, 4]);
  });

  it('keeps at most `concurrency` look-ups in flight', async () => {
    const slow = await startPtrDns({ synthesize: true, delayMs: 20 });
    try {
      const ips = Array.from({ length: 60 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
      const s = await enrichIps(ips, { servers: [slow.address], timeoutMs: 2000, concurrency: 4, asn: { lookup: () => null }, country: { lookup: () => null } });
      expect(s.done).toBe(60);
      expect(s.errors).toBe(0);
      expect(s.peakConcurrency).toBe(4);
      expect(slow.peakOutstanding).toBeLessThanOrEqual(4);
      expect(slow.counts.PTR).toBe(60);
      expect(slow.counts.A).toBe(60);
    } finally {
      await slow.stop();
    }
  });

  it('loads the offline databases before the first DNS query, and not at all when everything is cached', async () => {
    const fresh = await startPtrDns({ synthesize: true });
    try {
      const loads: number[] = [];
      const asn = { lookup: () => null, preload: () => void loads.push(fresh.total()) };
      const country = { lookup: () => null, preload: () => void loads.push(fresh.total()) };
      const cache = new MemoryEnrichmentCache();
      const ips = Array.from({ length: 40 }, (_, i) => `10.2.0.${i}`);
      const s = await enrichIps(ips, { servers: [fresh.address], timeoutMs: 2000, concurrency: 8, cache, asn, country });
      expect(s).toMatchObject({ done: 40, lookedUp: 40, errors: 0 });
      // once each, while the server had received nothing: a slow load cannot turn answers into timeouts
      expect(loads).toEqual([0, 0]);
      const again = await enrichIps(ips, { servers: [fresh.address], concurrency: 8, cache, asn, country });
      expect(again.fromCache).toBe(40);
      expect(loads).toHaveLength(2);
    } finally {
      await fresh.stop();
    }
  });

  it('a failing cache does not stop enrichment', async () => {
    const broken = { get: async () => Promise.reject(new Error('db down')), put: async () => Promise.reject(new Error('db down')) };
    const s = await enrichIps(['192.0.2.1'], { ...opts(), cache: broken });
    expect(s).toMatchObject({ done: 1, lookedUp: 1, errors: 0 });
  });
});

describe('resolver configuration', () => {
  it('parses IP, IP:PORT, [IPv6]:PORT and lists', () => {
    expect(parseResolverSpec('127.0.0.1:5353')).toEqual(['127.0.0.1:5353']);
    expect(parseResolverSpec('9.9.9.9')).toEqual(['9.9.9.9']);
    expect(parseResolverSpec('[::1]:53, 127.0.0.1')).toEqual(['[::1]:53', '127.0.0.1']);
    expect(parseResolverSpec('::1')).toEqual(['::1']);
    for (const bad of ['', 'localhost:53', '127.0.0.1:0', '127.0.0.1:70000', '1.2.3:53', '[::1]:x']) expect(parseResolverSpec(bad)).toBeNull();
  });

  it('the flag wins over DMARC_LENS_RESOLVER; a bad value is an error naming it', () => {
    expect(resolverServersFrom('127.0.0.1:1', { DMARC_LENS_RESOLVER: '127.0.0.2:2' })).toEqual(['127.0.0.1:1']);
    expect(resolverServersFrom(undefined, { DMARC_LENS_RESOLVER: '127.0.0.2:2' })).toEqual(['127.0.0.2:2']);
    expect(resolverServersFrom(undefined, {})).toBeUndefined();
    expect(() => resolverServersFrom('nope', {})).toThrow(/nope/);
  });

  it('a resolver built from the env value reaches the loopback server', async () => {
    const servers = resolverServersFrom(undefined, { DMARC_LENS_RESOLVER: dns.address })!;
    const names = await createResolver({ servers, timeoutMs: 300 }).resolvePtr('1.2.0.192.in-addr.arpa');
    expect(names).toEqual(['mail.example.test']);
  });
});

describe('cache TTLs', () => {
  const base: Enrichment = { ip: '192.0.2.1', ptr: 'mail.example.test', forwardConfirmed: true, baseDomain: 'example.test', asn: null, asOrg: null, country: null, dnsError: null, enrichedAt: 0 };
  it.each([
    ['a confirmed name', base, DEFAULT_TTLS.found],
    ['a name that does not resolve back', { ...base, forwardConfirmed: false }, DEFAULT_TTLS.found],
    ['a name whose confirmation is unknown', { ...base, forwardConfirmed: null }, DEFAULT_TTLS.transient],
    ['NXDOMAIN', { ...base, ptr: null, forwardConfirmed: null, dnsError: 'nxdomain' }, DEFAULT_TTLS.negative],
    ['a timeout', { ...base, ptr: null, forwardConfirmed: null, dnsError: 'timeout' }, DEFAULT_TTLS.transient],
  ] as [string, Enrichment, number][])('%s', (_name, e, ttl) => {
    expect(ttlFor(e)).toBe(ttl);
  });
});
