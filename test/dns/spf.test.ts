import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type CachingResolver } from '../../server/dns/resolver.ts';
import { checkHost } from '../../server/dns/spf-eval.ts';
import { walkSpf } from '../../server/dns/spf-lookups.ts';
import { expandMacros } from '../../server/dns/spf-macro.ts';
import { analyzeTopSpf, parseSpf } from '../../server/dns/spf-record.ts';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns.ts';
import { ZONE } from '../fixtures/dns/zone.ts';
import { ZONE_ADDITIONS } from './zone-additions.ts';

let dns: FakeDns;
let lookup: CachingResolver;

beforeAll(async () => {
  dns = await startFakeDns({ ...ZONE, ...ZONE_ADDITIONS });
  lookup = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2 });
});
afterAll(async () => {
  await dns.stop();
});

const recordOf = (name: string) => {
  const entry = ZONE[name];
  if (!Array.isArray(entry) || entry[0]?.type !== 'TXT') throw new Error(`no TXT for ${name} in the zone`);
  const data = entry[0].data;
  return Array.isArray(data) ? data.join('') : data;
};

describe('parseSpf', () => {
  it('parses qualifiers, targets, dual CIDR and modifiers', () => {
    const p = parseSpf('v=spf1 -a:mail.example.com/24//64 ~mx ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net exists:%{i}.x.example.com redirect=example.org exp=explain.example.com ?all');
    expect(p.problems).toEqual([]);
    expect(p.redirect).toBe('example.org');
    expect(p.terms[0]).toMatchObject({ qualifier: '-', name: 'a', domainSpec: 'mail.example.com', cidr4: 24, cidr6: 64 });
    expect(p.terms[1]).toMatchObject({ qualifier: '~', name: 'mx' });
    expect(p.terms[2]).toMatchObject({ name: 'ip4', ip: '192.0.2.0', cidr4: 24 });
    expect(p.terms[3]).toMatchObject({ name: 'ip6', ip: '2001:db8::', cidr6: 32 });
  });

  it('reports every malformed term', () => {
    const p = parseSpf('v=spf1 ip4:999.1.1.1 ip4:192.0.2.0/33 ip6:192.0.2.1 foo:bar include include:nodot all:x redirect=a.test redirect=b.test -all');
    expect(p.problems).toHaveLength(8);
  });

  it('judges the all mechanism and term order of the top record', () => {
    const codes = (text: string) => analyzeTopSpf('example.com', text, parseSpf(text)).map((f) => f.code);
    expect(codes('v=spf1 mx ?all')).toContain('spf-neutral-all');
    expect(codes('v=spf1 mx')).toContain('spf-no-all');
    expect(codes('v=spf1 redirect=_spf.example.com')).toEqual([]);
    expect(codes('v=spf1 -all mx redirect=x.example.com')).toEqual(['spf-terms-after-all', 'spf-redirect-with-all']);
    const fix = analyzeTopSpf('example.com', 'v=spf1 mx ?all a', parseSpf('v=spf1 mx ?all a'))[0]?.fix;
    expect(fix).toBe('example.com TXT "v=spf1 mx ~all"');
    const redirect = analyzeTopSpf('example.com', 'v=spf1 mx -all redirect=x.example.com', parseSpf('v=spf1 mx -all redirect=x.example.com')).find((f) => f.code === 'spf-redirect-with-all');
    expect(redirect?.fix).toBe('example.com TXT "v=spf1 mx -all"');
  });
});

describe('SPF macros', () => {
  it('expands i, ir, d, v, l, o and transformers', () => {
    const ctx = { ip: ipaddr.parse('192.0.2.3'), domain: 'example.com', sender: 'strong-bad@email.example.com', helo: 'mx.example.com' };
    expect(expandMacros('%{i}._spf.%{d}', ctx)).toBe('192.0.2.3._spf.example.com');
    expect(expandMacros('%{ir}.%{v}._spf.%{d2}', ctx)).toBe('3.2.0.192.in-addr._spf.example.com');
    expect(expandMacros('%{l-}.%{o}', ctx)).toBe('strong.bad.email.example.com');
    expect(expandMacros('%{lr-}', ctx)).toBe('bad.strong');
    expect(expandMacros('%%%_%-', ctx)).toBe('% %20');
    const v6 = { ...ctx, ip: ipaddr.parse('2001:db8::cb01') };
    expect(expandMacros('%{ir}.%{v}', v6)).toBe('1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6');
  });
});

describe('the 10-lookup walk through includes', () => {
  it('counts 11 lookups through nested includes, with the per-term breakdown', async () => {
    const walk = await walkSpf('spf11.test', recordOf('spf11.test'), lookup);
    expect(walk.totalLookups).toBe(11);
    const f = walk.findings.find((x) => x.code === 'spf-too-many-lookups');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('include:_spf1.spf11.test: 7 (a:mail.spf11.test: 1, mx:spf11.test: 1, include:_spf3.spf11.test: 4 (a:mail.spf11.test: 1, a:mail2.spf11.test: 1, mx:spf11.test: 1))');
    expect(f?.message).toContain('include:_spf2.spf11.test: 4');
    expect(walk.root.terms.map((t) => t.lookups)).toEqual([7, 4]);
  });

  it('counts void lookups and flags more than two', async () => {
    const walk = await walkSpf('void.test', recordOf('void.test'), lookup);
    expect(walk.voidLookups).toHaveLength(4);
    expect(walk.findings.filter((f) => f.code === 'spf-void-lookup')).toHaveLength(4);
    expect(walk.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['spf-too-many-void-lookups', 'spf-include-no-record']));
  });

  it('detects loops and stops', async () => {
    const walk = await walkSpf('loop.test', recordOf('loop.test'), lookup);
    const loop = walk.findings.find((f) => f.code === 'spf-loop');
    expect(loop?.message).toContain('loop.test → a.loop.test → loop.test');
    expect(walk.totalLookups).toBe(2);
  });

  it('reports +all and ptr anywhere in the tree, and missing redirect targets', async () => {
    const codes = async (d: string) => (await walkSpf(d, recordOf(d), lookup)).findings.map((f) => f.code);
    expect(await codes('passall.test')).toContain('spf-pass-all');
    expect(await codes('ptr.test')).toContain('spf-ptr');
    expect(await codes('redirect-missing.test')).toContain('spf-redirect-no-record');
    expect(await codes('mxmany.test')).toContain('spf-mx-too-many');
    expect(await codes('syntax.test')).toContain('spf-syntax');
  });

  it('never queries more than its bound, even for a record of 60 includes', async () => {
    const many = `v=spf1 ${Array.from({ length: 80 }, (_, i) => `include:n${i}.nowhere.test`).join(' ')} -all`;
    const before = dns.queries.length;
    const walk = await walkSpf('many.test', many, lookup);
    expect(walk.totalLookups).toBe(80);
    expect(dns.queries.length - before).toBeLessThanOrEqual(60);
  });
});

describe('check_host for report source IPs', () => {
  it('evaluates ip4, ip6 through include, exists with a macro, and the default', async () => {
    expect(await checkHost('192.0.2.5', 'cover.test', lookup)).toBe('pass');
    expect(await checkHost('2001:db8::1', 'cover.test', lookup)).toBe('pass');
    expect(await checkHost('192.0.2.200', 'cover.test', lookup)).toBe('pass');
    expect(await checkHost('203.0.113.9', 'cover.test', lookup)).toBe('fail');
    expect(await checkHost('::ffff:192.0.2.5', 'cover.test', lookup)).toBe('pass');
  });

  it('evaluates a, mx, include and redirect', async () => {
    expect(await checkHost('192.0.2.10', 'good.test', lookup)).toBe('pass'); // via ip4
    expect(await checkHost('198.51.100.1', 'seed.test', lookup)).toBe('pass'); // via include
    expect(await checkHost('192.0.2.20', 'seed.test', lookup)).toBe('pass'); // via mx
    expect(await checkHost('203.0.113.1', 'seed.test', lookup)).toBe('softfail');
    expect(await checkHost('192.0.2.1', 'afterall.test', lookup)).toBe('fail');
    expect(await checkHost('192.0.2.1', 'noall.test', lookup)).toBe('pass');
    expect(await checkHost('192.0.2.2', 'noall.test', lookup)).toBe('neutral');
  });

  it('matches a, a with a prefix, mx with an IPv6 prefix, include, and falls through to redirect', async () => {
    expect(await checkHost('192.0.2.77', 'eval.test', lookup)).toBe('pass'); // a
    expect(await checkHost('192.0.2.78', 'eval.test', lookup)).toBe('softfail'); // nothing matches: redirect's ~all
    expect(await checkHost('198.51.100.30', 'eval.test', lookup)).toBe('pass'); // a:web.eval.test/28
    expect(await checkHost('198.51.100.40', 'eval.test', lookup)).toBe('softfail');
    expect(await checkHost('2001:db8:5::abcd', 'eval.test', lookup)).toBe('pass'); // mx//64
    expect(await checkHost('2001:db8:6::1', 'eval.test', lookup)).toBe('softfail');
    expect(await checkHost('203.0.113.5', 'eval.test', lookup)).toBe('pass'); // include
    expect(await checkHost('203.0.113.100', 'eval.test', lookup)).toBe('pass'); // include fails, redirect passes
    expect(await checkHost('203.0.113.1', 'redirect-missing.test', lookup)).toBe('permerror');
  });

  it('returns permerror for too many lookups, loops and voids, temperror for DNS failures, none without a record', async () => {
    expect(await checkHost('203.0.113.1', 'spf11.test', lookup)).toBe('permerror');
    expect(await checkHost('203.0.113.1', 'loop.test', lookup)).toBe('permerror');
    expect(await checkHost('203.0.113.1', 'void.test', lookup)).toBe('permerror');
    expect(await checkHost('203.0.113.1', 'multispf.test', lookup)).toBe('permerror');
    expect(await checkHost('203.0.113.1', 'servfail.test', lookup)).toBe('temperror');
    expect(await checkHost('203.0.113.1', 'nomx.test', lookup)).toBe('none');
    expect(await checkHost('not an ip', 'good.test', lookup)).toBe('permerror');
  });
});
