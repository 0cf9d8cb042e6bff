import { describe, expect, it } from 'vitest';
import {
  addRecordToGroups,
  classifyGroup,
  evaluateRecord,
  isAligned,
  organizationalDomain,
  type SourceGroup,
  type Verdict,
} from '../../server/domain/classify.ts';
import type { AggregateRecord, PolicyPublished } from '../../server/domain/report-types.ts';
import { createSenderMatcher, type SenderConfig, type SenderFacts } from '../../server/enrich/known-senders.ts';

describe('isAligned', () => {
  it.each([
    ['example.com', 'example.com', 'r', true],
    ['example.com', 'example.com', 's', true],
    ['mail.example.com', 'example.com', 'r', true],
    ['mail.example.com', 'example.com', 's', false],
    ['example.com', 'bounce.mail.example.com', 'r', true],
    ['example.com', 'bounce.mail.example.com', 's', false],
    ['EXAMPLE.com.', 'example.COM', 's', true],
    ['example.com', 'example.net', 'r', false],
    ['example.com', 'notexample.com', 'r', false],
    ['example.co.uk', 'mail.example.co.uk', 'r', true],
    ['example.co.uk', 'other.co.uk', 'r', false],
    ['co.uk', 'example.co.uk', 'r', false],
    ['a.github.io', 'b.github.io', 'r', false],
    ['x.a.github.io', 'a.github.io', 'r', true],
    ['example.com', 'sendgrid.net', 'r', false],
    ['example.com', 'example.com', null, true],
    ['mail.example.com', 'example.com', 'S', false],
    ['mail.example.com', 'example.com', 'x', true],
    [null, 'example.com', 'r', false],
    ['example.com', '', 'r', false],
  ] as const)('%s vs %s (%s) → %s', (a, b, mode, want) => {
    expect(isAligned(a, b, mode)).toBe(want);
  });

  it('organizational domains use the public suffix list', () => {
    expect(organizationalDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(organizationalDomain('co.uk')).toBe('co.uk');
    expect(organizationalDomain('dept.example.test')).toBe('example.test');
    expect(organizationalDomain('')).toBeNull();
  });
});

const POLICY: PolicyPublished = { domain: 'example.com', adkim: null, aspf: null, p: 'none', sp: null, np: null, pct: null, fo: null, testing: null, discoveryMethod: null };

interface R {
  ip?: string;
  count?: number;
  from?: string;
  dkim?: [domain: string, selector: string | null, result: string][];
  spf?: [domain: string | null, result: string, scope?: string][];
  dkimEval?: string;
  spfEval?: string;
  reasons?: [type: string, comment?: string][];
  envelopeFrom?: string;
}

function rec(r: R): AggregateRecord {
  return {
    ordinal: 0,
    sourceIp: r.ip ?? '192.0.2.1',
    count: r.count ?? 1,
    disposition: 'none',
    dkimEval: r.dkimEval ?? null,
    spfEval: r.spfEval ?? null,
    overrideReasons: (r.reasons ?? []).map(([type, comment]) => ({ type, comment: comment ?? null })),
    headerFrom: r.from ?? 'example.com',
    envelopeFrom: r.envelopeFrom ?? null,
    envelopeTo: null,
    dkim: (r.dkim ?? []).map(([domain, selector, result]) => ({ domain, selector, result, humanResult: null })),
    spf: (r.spf ?? []).map(([domain, result, scope]) => ({ domain, result, scope: scope ?? 'mfrom', humanResult: null })),
    problems: [],
  };
}

const HEADER = { begin: 1_767_225_600, end: 1_767_311_999, policy: POLICY }; // 2026-01-01 UTC

function groupOf(records: AggregateRecord[], policy: PolicyPublished = POLICY): SourceGroup {
  const groups = new Map<string, SourceGroup>();
  for (const r of records) addRecordToGroups(groups, { ...HEADER, policy }, r);
  expect(groups.size).toBe(1);
  return [...groups.values()][0]!;
}

function classify(records: AggregateRecord[], facts: SenderFacts = {}, config: SenderConfig = {}, policy: PolicyPublished = POLICY) {
  const g = groupOf(records, policy);
  const identity = createSenderMatcher(config).identify({ ip: g.sourceIp, dkimPassDomains: g.dkimPassDomains, ...facts });
  return classifyGroup(g, { identity, source: { ptr: facts.ptr ?? null, forwardConfirmed: facts.forwardConfirmed ?? null, asn: facts.asn ?? null } });
}

const M365: SenderFacts = { ptr: 'mail-db8eur05on2100.outbound.protection.outlook.com', forwardConfirmed: true, asn: 8075 };
const AWS_EC2: SenderFacts = { ptr: 'ec2-3-3-3-3.compute-1.amazonaws.com', forwardConfirmed: true, asn: 16509 };

describe('classifyGroup: one verdict per group', () => {
  const cases: [string, AggregateRecord[], SenderFacts, SenderConfig, Verdict, RegExp | null, boolean][] = [
    ['DKIM aligned pass', [rec({ dkim: [['example.com', 's1', 'pass']], spf: [['example.com', 'fail']] })], {}, {}, 'compliant', null, false],
    ['DKIM aligned pass from a subdomain signer (relaxed)', [rec({ dkim: [['mail.example.com', 's1', 'pass']] })], {}, {}, 'compliant', null, false],
    ['reporter says DKIM pass without auth results', [rec({ dkimEval: 'pass' })], {}, {}, 'compliant', null, false],
    ['override reason forwarded', [rec({ dkim: [['example.com', 's1', 'fail']], reasons: [['forwarded']] })], {}, {}, 'forwarded', /DKIM-signing/, false],
    ['override reason mailing_list', [rec({ reasons: [['mailing_list', 'list']] })], {}, {}, 'forwarded', /forward/, false],
    ['ARC in an override comment', [rec({ dkim: [['example.com', 's1', 'fail']], reasons: [['local_policy', 'arc=pass as.1.google.com']] })], {}, {}, 'forwarded', null, false],
    ['a known mailing-list host, DKIM broken', [rec({ dkim: [['example.com', 's1', 'fail'], ['googlegroups.com', 'g', 'pass']] })], {}, {}, 'forwarded', /Google Groups/, false],
    ['SendGrid signing with its own domain, SPF aligned', [rec({ dkim: [['sendgrid.net', 'smtpapi', 'pass']], spf: [['bounces.example.com', 'pass']] })], {}, {}, 'unsigned-vendor', /^enable custom DKIM for SendGrid and publish selector s1$/, false],
    ['Microsoft 365 unsigned, SPF fail', [rec({ spf: [['example.com', 'fail']] })], M365, {}, 'unsigned-vendor', /^enable custom DKIM for Microsoft 365 and publish selector selector1$/, false],
    ['a service without a known selector gets one named after it', [rec({ dkim: [['braze.com', 'b1', 'pass']] })], {}, {}, 'unsigned-vendor', /^enable custom DKIM for Braze and publish selector 2026braze$/, false],
    ['a recognized vendor whose own-domain signature fails', [rec({ dkim: [['example.com', 'k1', 'fail']] })], M365, {}, 'unsigned-vendor', /s=k1 but the signature fails.*k1\._domainkey\.example\.com/, false],
    ['an approved source, SPF pass', [rec({ ip: '198.51.100.7', spf: [['example.com', 'pass']] })], {}, { approved: [{ cidr: '198.51.100.0/24' }] }, 'unsigned-vendor', /publish selector 2026mail/, false],
    ['unknown server with aligned SPF only', [rec({ spf: [['example.com', 'pass']] })], {}, {}, 'spf-only', /sign this server's mail with DKIM \(d=example\.com\)/, false],
    ['SPF domain missing: envelope_from is used', [rec({ envelopeFrom: 'bounce.example.com', spf: [[null, 'pass']] })], {}, {}, 'spf-only', null, false],
    ['unknown network failing both', [rec({ dkim: [['example.com', 's1', 'fail']], spf: [['evil.test', 'pass']] })], {}, {}, 'failing', /spoofing/, true],
    ['a hosting network is not a vendor', [rec({ spf: [['example.com', 'softfail']] })], AWS_EC2, {}, 'failing', /spoofing/, true],
    ['unaligned SPF pass is not spf-only', [rec({ spf: [['example.net', 'pass']] })], {}, {}, 'failing', null, true],
    ['helo pass does not count when mfrom fails', [rec({ spf: [['example.com', 'fail', 'mfrom'], ['example.com', 'pass', 'helo']] })], {}, {}, 'failing', null, true],
  ];

  it.each(cases)('%s', (_name, records, facts, config, verdict, fix, spoofing) => {
    const c = classify(records, facts, config);
    expect(c.verdict).toBe(verdict);
    if (fix) expect(c.fix).toMatch(fix);
    else if (verdict === 'compliant') expect(c.fix).toBeNull();
    expect(c.likelySpoofing).toBe(spoofing);
    expect(c.partial).toBe(false);
    expect(Object.values(c.breakdown).reduce((a, b) => a + b, 0)).toBe(c.messages);
    expect(c.evidence.length).toBeGreaterThan(0);
  });

  it('strict adkim turns a subdomain signature into not aligned', () => {
    const strict = { ...POLICY, adkim: 's' };
    expect(classify([rec({ dkim: [['mail.example.com', 's1', 'pass']] })], {}, {}, strict).verdict).toBe('failing');
    expect(classify([rec({ dkim: [['mail.example.com', 's1', 'pass']] })], M365, {}, strict).verdict).toBe('unsigned-vendor');
  });

  it('strict adkim: the evidence and the fix say the signature passes but is not exact, not that it fails', () => {
    const strict = { ...POLICY, adkim: 's' };
    const c = classify([rec({ dkim: [['mail.example.com', 's1', 'pass']] })], M365, {}, strict);
    expect(c.fix).toBe('Microsoft 365 signs with d=mail.example.com, which adkim=s does not accept for example.com: have Microsoft 365 sign with d=example.com, or publish adkim=r');
    expect(c.evidence.join('\n')).toContain('DKIM d=mail.example.com s=s1: pass 1 (not aligned: adkim=s needs the exact From domain)');
    // relaxed: the same signature is aligned, and the evidence says nothing against it
    const relaxed = classify([rec({ dkim: [['mail.example.com', 's1', 'pass']] })], M365);
    expect(relaxed.verdict).toBe('compliant');
    expect(relaxed.evidence.join('\n')).toContain('DKIM d=mail.example.com s=s1: pass 1\n');
  });

  it('strict aspf: a subdomain envelope is not aligned', () => {
    const strict = { ...POLICY, aspf: 's' };
    expect(classify([rec({ spf: [['bounce.example.com', 'pass']] })], {}, {}, strict).verdict).toBe('failing');
    expect(classify([rec({ spf: [['bounce.example.com', 'pass']] })], {}, {}, POLICY).verdict).toBe('spf-only');
  });
});

describe('precedence conflicts', () => {
  it('compliant beats everything, even forwarding evidence and a known vendor', () => {
    const c = classify([rec({ dkim: [['example.com', 's1', 'pass']], reasons: [['forwarded']] })], M365);
    expect(c.verdict).toBe('compliant');
  });

  it('forwarded beats unsigned-vendor', () => {
    expect(classify([rec({ reasons: [['trusted_forwarder']] })], M365).verdict).toBe('forwarded');
  });

  it('unsigned-vendor beats spf-only', () => {
    expect(classify([rec({ spf: [['example.com', 'pass']] })], M365).verdict).toBe('unsigned-vendor');
  });

  it('an operator-approved service beats spf-only, naming the service', () => {
    const c = classify([rec({ ip: '203.0.113.5', spf: [['example.com', 'pass']] })], {}, { approved: [{ ip: '203.0.113.5', service: 'Office relay' }] });
    expect(c.verdict).toBe('unsigned-vendor');
    expect(c.fix).toBe('enable custom DKIM for Office relay and publish selector 2026officerelay');
  });
});

describe('partial groups: the verdict covering the most messages wins, ties go to precedence', () => {
  it('70% compliant, 30% forwarded → compliant, partial', () => {
    const c = classify([rec({ count: 7, dkim: [['example.com', 's1', 'pass']] }), rec({ count: 3, dkim: [['example.com', 's1', 'fail']], reasons: [['forwarded']] })]);
    expect(c).toMatchObject({ verdict: 'compliant', partial: true, messages: 10 });
    expect(c.breakdown).toMatchObject({ compliant: 7, forwarded: 3 });
    expect(c.evidence.join('\n')).toMatch(/partial: 3 message\(s\) \(30%\) forwarded/);
  });

  it('20% compliant, 80% failing → failing, partial, still likely spoofing', () => {
    const c = classify([rec({ count: 2, dkim: [['example.com', 's1', 'pass']] }), rec({ count: 8, dkim: [['example.com', 's1', 'fail']] })]);
    expect(c).toMatchObject({ verdict: 'failing', partial: true, likelySpoofing: true });
    expect(c.breakdown).toMatchObject({ compliant: 2, failing: 8 });
  });

  it('keeps the fix of every verdict present, so the minority of a partial group has one too', () => {
    const c = classify([rec({ count: 7, dkim: [['example.com', 's1', 'pass']] }), rec({ count: 3, dkim: [['example.com', 's1', 'fail']] })], M365);
    expect(c).toMatchObject({ verdict: 'compliant', fix: null, partial: true });
    expect(Object.keys(c.fixes ?? {})).toEqual(['unsigned-vendor']);
    expect(c.fixes?.['unsigned-vendor']).toMatch(/^Microsoft 365 signs with d=example\.com s=s1 but the signature fails/);
    const vendor = classify([rec({ count: 7, dkim: [['sendgrid.net', 'smtpapi', 'pass']], reasons: [['forwarded']] }), rec({ count: 3, dkim: [['sendgrid.net', 'smtpapi', 'pass']] })]);
    expect(vendor).toMatchObject({ verdict: 'forwarded', fixes: { 'unsigned-vendor': 'enable custom DKIM for SendGrid and publish selector s1' } });
    const spoofed = classify([rec({ count: 6, reasons: [['forwarded']] }), rec({ count: 4 })]);
    expect(spoofed.verdict).toBe('forwarded');
    expect(spoofed.fixes?.forwarded).toBe(spoofed.fix);
    expect(spoofed.fixes?.failing).toMatch(/^likely spoofing/);
  });

  it('a tie goes to the verdict earlier in the precedence order', () => {
    const c = classify([rec({ count: 5, dkim: [['example.com', 's1', 'pass']] }), rec({ count: 5, dkim: [['example.com', 's1', 'fail']] })]);
    expect(c.verdict).toBe('compliant');
    const d = classify([rec({ count: 4, spf: [['example.com', 'pass']] }), rec({ count: 4 })]);
    expect(d.verdict).toBe('spf-only');
  });

  it('at a vendor, the unsigned share is one verdict whatever SPF did', () => {
    const sig = (r: string): R['dkim'] => [['example.com', 's1', r]];
    const c = classify([rec({ count: 3, dkim: sig('fail'), spf: [['example.com', 'pass']] }), rec({ count: 6, dkim: sig('fail') }), rec({ count: 2, dkim: sig('pass') })], M365);
    expect(c.verdict).toBe('unsigned-vendor');
    expect(c.breakdown).toEqual({ compliant: 2, forwarded: 0, 'unsigned-vendor': 9, 'spf-only': 0, failing: 0 });
    expect(c.fix).toMatch(/Microsoft 365 signs with d=example\.com s=s1 but the signature fails/);
  });
});

describe('grouping and record evaluation', () => {
  it('groups by policy domain, source and key signature; sums counts; tracks the period', () => {
    const groups = new Map<string, SourceGroup>();
    addRecordToGroups(groups, HEADER, rec({ count: 2, dkim: [['example.com', 'a', 'pass']] }));
    addRecordToGroups(groups, { ...HEADER, begin: HEADER.begin + 86400, end: HEADER.end + 86400 }, rec({ count: 3, dkim: [['example.com', 'a', 'fail']] }));
    addRecordToGroups(groups, HEADER, rec({ count: 1, dkim: [['example.com', 'b', 'pass']] }));
    addRecordToGroups(groups, HEADER, rec({ count: 4, ip: '192.0.2.2', dkim: [['example.com', 'a', 'pass']] }));
    expect(addRecordToGroups(groups, HEADER, rec({ count: 0 }))).toBeNull();
    expect(groups.size).toBe(3);
    const a = [...groups.values()].find((g) => g.sourceIp === '192.0.2.1' && g.dkimSelector === 'a')!;
    expect(a).toMatchObject({ messages: 5, dkimAlignedPass: 2, neitherNoDkim: 3, keyResults: { pass: 2, fail: 3 }, firstSeen: HEADER.begin, lastSeen: HEADER.end + 86400 });
  });

  it('picks the aligned passing signature as the key, even when listed second', () => {
    const r = evaluateRecord(rec({ dkim: [['sendgrid.net', 's', 'pass'], ['example.com', 'k2', 'pass']] }), POLICY);
    expect(r.signature?.domain).toBe('example.com');
    expect(r.dkimPassDomains).toEqual(['sendgrid.net', 'example.com']);
  });

  it('falls back to the policy domain when header_from is missing', () => {
    const r = evaluateRecord({ ...rec({ dkim: [['example.com', 's', 'pass']] }), headerFrom: null }, POLICY);
    expect(r).toMatchObject({ headerFrom: 'example.com', dkimAligned: true, dmarcPass: true });
  });
});
