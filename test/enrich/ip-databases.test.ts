import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AsnDatabase, sharedAsnDatabase } from '../../server/enrich/asn-db.ts';
import { sharedCountryDatabase } from '../../server/enrich/country-db.ts';
import { ipInCidr, normalizeIp, parseIp, reverseName } from '../../server/enrich/ip-address.ts';

describe('ASN and country from the installed offline databases', () => {
  const asn = sharedAsnDatabase();
  const country = sharedCountryDatabase();

  it.each([
    ['8.8.8.8', 15169, /google/i, 'US'],
    ['2001:4860:4860::8888', 15169, /google/i, 'US'],
    ['::ffff:8.8.4.4', 15169, /google/i, 'US'],
    ['1.1.1.1', 13335, /cloudflare/i, null],
    ['2606:4700:4700::1111', 13335, /cloudflare/i, null],
  ])('%s → AS%i', (ip, n, org, cc) => {
    const a = asn.lookup(ip);
    expect(a?.asn).toBe(n);
    expect(a?.org).toMatch(org);
    const c = country.lookup(ip);
    expect(c).toMatch(/^[A-Z]{2}$/);
    if (cc) expect(c).toBe(cc);
  });

  it('has nothing for private, documentation or bad addresses', () => {
    for (const ip of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '2001:db8::1', 'nonsense', '1.2.3', '']) {
      expect(asn.lookup(ip)).toBeNull();
    }
    expect(country.lookup('10.0.0.1')).toBeNull();
    expect(country.lookup('garbage')).toBeNull();
  });

  it('holds the tables in bounded typed arrays', () => {
    asn.preload();
    const s = asn.stats();
    expect(s.ipv4Ranges).toBeGreaterThan(100_000);
    expect(s.ipv6Ranges).toBeGreaterThan(10_000);
    expect(s.orgs).toBeLessThan(s.ipv4Ranges + s.ipv6Ranges);
    expect(s.bytes).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('ASN CSV loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asn-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const n = (ip: string) => parseIp(ip)!;
  const v6num = (ip: string) => {
    const p = n(ip);
    if (p.kind !== 'ipv6') throw new Error('v6 expected');
    return ((p.hi << 64n) | p.lo).toString();
  };

  it('reads quoted names, skips malformed lines, sorts unsorted input and finds the most specific of nested ranges', () => {
    const v4 = join(dir, 'v4.csv');
    const v6 = join(dir, 'v6.csv');
    const num = (ip: string) => (n(ip).kind === 'ipv4' ? String((n(ip) as { v4: number }).v4) : '');
    writeFileSync(
      v4,
      [
        `${num('9.0.0.0')},${num('9.0.0.255')},300,"Quote ""Inc"", Ltd"`,
        `${num('5.0.0.0')},${num('5.0.255.255')},100,Wide Net`,
        'garbage line',
        `x,y,z,bad`,
        `${num('5.0.1.0')},${num('5.0.1.255')},200,Inner\r`,
        `${num('5.0.1.128')},${num('5.0.3.0')},250,Straddles`,
        '',
      ].join('\n'),
    );
    writeFileSync(v6, `${v6num('2001:db8::')},${v6num('2001:db8::ffff')},64500,Doc Net\n`);
    const db = new AsnDatabase({ ipv4: v4, ipv6: v6 });
    expect(db.lookup('9.0.0.7')).toEqual({ asn: 300, org: 'Quote "Inc", Ltd' });
    expect(db.lookup('5.0.0.9')).toEqual({ asn: 100, org: 'Wide Net' });
    expect(db.lookup('5.0.1.9')).toEqual({ asn: 200, org: 'Inner' });
    expect(db.lookup('5.0.1.200')).toEqual({ asn: 250, org: 'Straddles' });
    expect(db.lookup('5.0.3.1')).toEqual({ asn: 100, org: 'Wide Net' });
    // past the nested range, the enclosing one applies again
    expect(db.lookup('5.0.4.9')).toEqual({ asn: 100, org: 'Wide Net' });
    expect(db.lookup('5.1.0.0')).toBeNull();
    expect(db.lookup('9.0.1.0')).toBeNull();
    expect(db.lookup('2001:db8::42')).toEqual({ asn: 64500, org: 'Doc Net' });
    expect(db.lookup('2001:db8::1:0')).toBeNull();
    expect(db.stats()).toMatchObject({ ipv4Ranges: 4, ipv6Ranges: 1 });
  });
});

describe('IP address helpers', () => {
  it('normalizes and rejects', () => {
    expect(normalizeIp(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(normalizeIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    for (const bad of ['1.2.3', '01.2.3.4', 'fe80::1%eth0', '300.1.1.1', 'x']) expect(normalizeIp(bad)).toBeNull();
  });

  it('builds reverse names', () => {
    expect(reverseName(parseIp('192.0.2.1')!)).toBe('1.2.0.192.in-addr.arpa');
    expect(reverseName(parseIp('2001:db8::1')!)).toBe(`1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
  });

  it('matches CIDR ranges of the same family only', () => {
    expect(ipInCidr('192.0.2.200', '192.0.2.0/24')).toBe(true);
    expect(ipInCidr('192.0.3.1', '192.0.2.0/24')).toBe(false);
    expect(ipInCidr('2001:db8::5', '2001:db8::/32')).toBe(true);
    expect(ipInCidr('192.0.2.1', '2001:db8::/32')).toBe(false);
    expect(ipInCidr('192.0.2.1', '192.0.2.1')).toBe(true);
    expect(ipInCidr('192.0.2.1', 'bogus/8')).toBe(false);
  });
});
