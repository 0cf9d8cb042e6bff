import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedChecker } from '../../server/dns/check-cache.ts';
import { InvalidDomainError, type DnsLookup, type DomainCheck } from '../../server/dns/check-types.ts';
import { createResolver } from '../../server/dns/resolver.ts';
import { startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy } from '../fixtures/dns/zone.ts';

let dns: FakeDns;

beforeAll(async () => {
  dns = await startFakeDns({
    '_dmarc.a.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject; rua=mailto:d@a.test', ttl: 7200 }],
    'a.test': [{ type: 'TXT', data: 'v=spf1 -all', ttl: 7200 }, { type: 'MX', priority: 0, exchange: '.', ttl: 7200 }],
    's1._domainkey.a.test': [txt('v=DKIM1; p=')],
    '_dmarc.b.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject; rua=mailto:d@b.test', ttl: 120 }],
    'b.test': [{ type: 'TXT', data: 'v=spf1 -all', ttl: 7200 }, { type: 'MX', priority: 0, exchange: '.', ttl: 7200 }],
  });
});
afterAll(async () => {
  await dns.stop();
});

/** A clock the test moves, and a lookup that counts how many checks really ran (one MX query each). */
function setup(options: Partial<ConstructorParameters<typeof CachedChecker>[0]> = {}) {
  let now = Date.parse('2026-11-25T12:00:00Z');
  const clock = { advance: (s: number) => (now += s * 1000), now: () => new Date(now) };
  // the resolver's own cache is off, so TTLs come straight from the server's answers
  const inner = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2, cache: false, negativeTtlSec: 900 });
  let runs = 0;
  const lookup: DnsLookup = {
    txt: (n) => inner.txt(n),
    mx: (n) => {
      if (n === 'a.test') runs++;
      return inner.mx(n);
    },
    a: (n) => inner.a(n),
    aaaa: (n) => inner.aaaa(n),
  };
  const checker = new CachedChecker({ lookup, fetchPolicy: fakeFetchPolicy, now: clock.now, ...options });
  return { checker, clock, runs: () => runs };
}

describe('CachedChecker', () => {
  it('serves a result until the smallest TTL of its answers runs out', async () => {
    const { checker, clock, runs } = setup();
    const first = await checker.check('a.test');
    expect(first.cached).toBe(false);
    // the NXDOMAIN answers (e.g. _mta-sts.a.test) are the shortest: 900 s
    expect(first.expiresAt).toBe('2026-11-25T12:15:00.000Z');
    expect(first.check.checked_at).toBe('2026-11-25T12:00:00.000Z');
    clock.advance(899);
    const second = await checker.check('A.test.');
    expect(second).toMatchObject({ cached: true, expiresAt: first.expiresAt });
    expect(second.check).toBe(first.check);
    clock.advance(2);
    expect((await checker.check('a.test')).cached).toBe(false);
    expect(runs()).toBe(2);
  });

  it('takes the TTL of TXT records from the answers themselves', async () => {
    const { checker } = setup();
    // _dmarc.b.test has a TTL of 120 s, shorter than everything else (7200 s, and 900 s for the NXDOMAIN answers)
    expect((await checker.check('b.test')).expiresAt).toBe('2026-11-25T12:02:00.000Z');
  });

  it('bounds the TTL to [minTtl, maxTtl]', async () => {
    const short = setup({ minTtlSec: 10, maxTtlSec: 30 });
    expect((await short.checker.check('a.test')).expiresAt).toBe('2026-11-25T12:00:30.000Z');
    const long = setup({ minTtlSec: 1800, maxTtlSec: 3600 });
    expect((await long.checker.check('a.test')).expiresAt).toBe('2026-11-25T12:30:00.000Z');
  });

  it('shares one run between concurrent requests and keeps selector sets apart', async () => {
    const { checker, runs } = setup();
    const [x, y] = await Promise.all([checker.check('a.test'), checker.check('a.test')]);
    expect(x.check).toBe(y.check);
    expect(runs()).toBe(1);
    const withSelector = await checker.check('a.test', { selectors: ['s1'] });
    expect(withSelector.cached).toBe(false);
    expect(withSelector.check.records.some((r) => r.name === 's1._domainkey.a.test')).toBe(true);
    expect((await checker.check('a.test', { selectors: ['S1'] })).cached).toBe(true);
    expect(runs()).toBe(2);
  });

  it('keeps results for different reported policies apart', async () => {
    const { checker, runs } = setup();
    await checker.check('a.test');
    const withPolicy = await checker.check('a.test', { reportedPolicy: { p: 'none', since: '2026-01-01T00:00:00Z' } });
    expect(withPolicy.cached).toBe(false);
    expect((await checker.check('a.test', { reportedPolicy: { p: 'none', since: '2026-01-01T00:00:00Z' } })).cached).toBe(true);
    expect(runs()).toBe(2);
  });

  it('re-runs on force and after invalidate', async () => {
    const { checker, runs } = setup();
    await checker.check('a.test');
    expect((await checker.check('a.test', { force: true })).cached).toBe(false);
    checker.invalidate('a.test');
    expect((await checker.check('a.test')).cached).toBe(false);
    expect(runs()).toBe(3);
  });

  it('saves fresh results to the history, and a failing history does not fail the check', async () => {
    const saved: DomainCheck[] = [];
    const { checker } = setup({ history: { save: async (c) => void saved.push(c) } });
    await checker.check('a.test');
    await checker.check('a.test');
    expect(saved).toHaveLength(1);
    expect(saved[0]?.domain).toBe('a.test');
    const errors: unknown[] = [];
    const failing = setup({ history: { save: async () => Promise.reject(new Error('disk full')) }, onHistoryError: (e) => errors.push(e) });
    expect((await failing.checker.check('a.test')).check.domain).toBe('a.test');
    expect(errors).toHaveLength(1);
  });

  it('keeps at most maxEntries results', async () => {
    const { checker, runs } = setup({ maxEntries: 1 });
    await checker.check('a.test');
    await checker.check('a.test', { selectors: ['s1'] });
    expect((await checker.check('a.test')).cached).toBe(false);
    expect(runs()).toBe(3);
  });

  it('rejects names that are not domains', async () => {
    const { checker } = setup();
    await expect(checker.check('not a domain')).rejects.toBeInstanceOf(InvalidDomainError);
  });
});
