import { describe, expect, it } from 'vitest';
import { treeWalkNames } from '../../server/dns/dmarc-discovery.ts';
import { analyzeDmarcRecord, classifyDmarcTxt, rewrite } from '../../server/dns/dmarc-record.ts';
import { parseReportUri, parseReportUris } from '../../server/dns/report-uri.ts';
import { externalDestinations } from '../../server/dns/report-auth.ts';
import { reportedPolicyFrom } from '../../server/dns/reported-policy.ts';
import { parseTagList } from '../../server/dns/tag-list.ts';

const ctx = { policyDomain: 'example.com', policyDomainIsPublicSuffix: false };
const codes = (text: string) => analyzeDmarcRecord(text, ctx).findings.map((f) => f.code);

describe('tag lists', () => {
  it('parses tags in order, lower-cases names, reports malformed and repeated tags', () => {
    const t = parseTagList(' v=DMARC1 ;P = reject;; x ; =y; p=none; 9a=1 ');
    expect(t.tags).toEqual([{ name: 'v', value: 'DMARC1' }, { name: 'p', value: 'reject' }]);
    expect(t.problems).toHaveLength(4);
  });
});

describe('classifyDmarcTxt', () => {
  it('keeps only records that start with exactly v=DMARC1', () => {
    const c = classifyDmarcTxt(['v=DMARC1; p=none', 'v=DMARC1', 'v=dmarc1; p=none', 'v=DMARC1 p=reject', 'p=reject; v=DMARC1', 'google-site-verification=x']);
    expect(c.dmarc).toEqual(['v=DMARC1; p=none', 'v=DMARC1']);
    expect(c.lookalikes).toHaveLength(3);
    expect(c.others).toEqual(['google-site-verification=x']);
  });
});

describe('analyzeDmarcRecord', () => {
  it('reads the effective policy with defaults', () => {
    const { policy, findings } = analyzeDmarcRecord('v=DMARC1; p=Reject; rua=mailto:d@example.com', ctx);
    expect(policy).toMatchObject({ p: 'reject', sp: null, np: null, pct: 100, adkim: 'r', aspf: 'r', testing: false, psd: 'u' });
    expect(findings).toEqual([]);
  });

  it('reports each invalid tag value with its own code', () => {
    const found = codes('v=DMARC1; p=maybe; sp=x; np=never; pct=200; adkim=q; aspf=z; fo=3; rf=xml; ri=soon; t=perhaps; psd=k; rua=foo; ruf=mailto:bad');
    for (const code of ['dmarc-invalid-p', 'dmarc-invalid-sp', 'dmarc-invalid-np', 'dmarc-invalid-pct', 'dmarc-invalid-adkim', 'dmarc-invalid-aspf', 'dmarc-invalid-fo', 'dmarc-invalid-rf', 'dmarc-invalid-ri', 'dmarc-invalid-t', 'dmarc-invalid-psd', 'dmarc-invalid-rua', 'dmarc-invalid-ruf']) {
      expect(found).toContain(code);
    }
  });

  it('flags p=none as monitoring only and proposes quarantine', () => {
    const f = analyzeDmarcRecord('v=DMARC1; p=none; rua=mailto:d@example.com', ctx).findings.find((x) => x.code === 'dmarc-policy-none');
    expect(f?.message).toMatch(/monitoring only/);
    expect(f?.fix).toBe('_dmarc.example.com TXT "v=DMARC1; p=quarantine; rua=mailto:d@example.com"');
  });

  it('reports deprecated tags (RFC 9989) once, with a fix that drops them', () => {
    const f = analyzeDmarcRecord('v=DMARC1; p=reject; pct=100; rf=afrf; ri=172800; rua=mailto:d@example.com', ctx).findings.filter((x) => x.code === 'dmarc-deprecated-tag');
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('pct=, rf=, ri=');
    expect(f[0]?.fix).toBe('_dmarc.example.com TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"');
  });

  it('reports partial pct, t=y, psd=y outside a public suffix, strict alignment, weaker sp/np', () => {
    const found = codes('v=DMARC1; p=reject; sp=none; np=quarantine; pct=50; t=y; psd=y; adkim=s; rua=mailto:d@example.com');
    expect(found).toEqual(expect.arrayContaining(['dmarc-pct-partial', 'dmarc-testing', 'dmarc-psd-unexpected', 'dmarc-strict-alignment', 'dmarc-subdomain-policy-weaker']));
    expect(analyzeDmarcRecord('v=DMARC1; p=reject; psd=y; rua=mailto:d@nic.example', { policyDomain: 'example', policyDomainIsPublicSuffix: true }).findings.map((f) => f.code)).not.toContain('dmarc-psd-unexpected');
  });

  it('counts rua destinations, parses size limits and flags non-mailto URIs', () => {
    const found = codes('v=DMARC1; p=reject; rua=mailto:a@example.com!10m,mailto:b@example.com,https://example.com/r');
    expect(found).toEqual(expect.arrayContaining(['dmarc-too-many-rua', 'dmarc-size-limit', 'dmarc-uri-not-mailto']));
    expect(codes('v=DMARC1; p=reject')).toContain('dmarc-no-rua');
    const https = analyzeDmarcRecord('v=DMARC1; p=reject; rua=https://example.com/r,mailto:a@example.com!10m', ctx).findings.find((f) => f.code === 'dmarc-uri-not-mailto');
    expect(https?.fix).toBe('_dmarc.example.com TXT "v=DMARC1; p=reject; rua=mailto:a@example.com!10m"');
    expect(codes('v=DMARC1; rua=mailto:a@example.com')).toContain('dmarc-missing-p');
    expect(codes('v=DMARC1; p=reject; rua=mailto:a@example.com; fo=1')).toContain('dmarc-fo-without-ruf');
    expect(codes('v=DMARC1; p=reject; rua=mailto:a@example.com; ruf=mailto:f@example.com')).toContain('dmarc-ruf-requested');
    expect(codes('v=DMARC1; p=reject; rua=mailto:a@example.com; foo=bar')).toContain('dmarc-unknown-tag');
    expect(codes('v=DMARC1; p=reject; p=none; rua=mailto:a@example.com')).toContain('dmarc-syntax');
  });

  it('says that pct below 100 splits receivers: RFC 7489 applies it to a share, RFC 9989 ignores it', () => {
    const f = analyzeDmarcRecord('v=DMARC1; p=reject; pct=25; rua=mailto:d@example.com', ctx).findings.find((x) => x.code === 'dmarc-pct-partial');
    expect(f?.message).toContain('RFC 7489 receivers apply the policy to only 25% of failing mail');
    expect(f?.message).toContain('RFC 9989 receivers ignore pct and apply it to all of it');
    expect(f?.message).not.toContain('test mode');
  });

  it('rewrites a record keeping v first and p second', () => {
    const { tags } = parseTagList('v=DMARC1; rua=mailto:a@x.test; p=none; pct=5');
    expect(rewrite(tags, { p: 'reject', pct: null, adkim: 's' })).toBe('v=DMARC1; p=reject; rua=mailto:a@x.test; adkim=s');
  });
});

describe('report URIs', () => {
  it('parses size suffixes in powers of 1024', () => {
    expect(parseReportUri('mailto:dmarc@example.com!10m')).toMatchObject({ uri: 'mailto:dmarc@example.com', domain: 'example.com', sizeLimit: { raw: '10m', bytes: 10 * 1024 * 1024 } });
    expect(parseReportUri('mailto:d@example.com!500').sizeLimit?.bytes).toBe(500);
    expect(parseReportUri('mailto:d@example.com!1g').sizeLimit?.bytes).toBe(2 ** 30);
    expect(parseReportUri('mailto:d@example.com!10x').problem).toMatch(/size limit/);
  });
  it('decodes the address and rejects things that are not addresses', () => {
    expect(parseReportUri('mailto:dmarc%2Brua@Reports.Example.COM?subject=x')).toMatchObject({ address: 'dmarc+rua@Reports.Example.COM', domain: 'reports.example.com' });
    expect(parseReportUri('mailto:nobody').problem).toBeDefined();
    expect(parseReportUri('nobody@example.com').problem).toMatch(/no scheme/);
    expect(parseReportUris(' mailto:a@x.test , ,mailto:b@y.test')).toHaveLength(2);
  });
  it('finds destinations outside the organizational domain', () => {
    const orgOf = (d: string) => d.split('.').slice(-2).join('.');
    const dests = externalDestinations('example.com', parseReportUris('mailto:a@example.com,mailto:b@reports.example.com,mailto:c@vendor.test,mailto:d@vendor.test'), orgOf);
    expect(dests).toEqual([{ domain: 'vendor.test', authName: 'example.com._report._dmarc.vendor.test', uris: ['mailto:c@vendor.test', 'mailto:d@vendor.test'] }]);
  });
});

describe('RFC 9989 tree walk names', () => {
  it('walks up one label at a time, down to the TLD', () => {
    expect(treeWalkNames('a.b.example.com')).toEqual(['a.b.example.com', 'b.example.com', 'example.com', 'com']);
  });
  it('jumps to seven labels for long names, so at most eight queries', () => {
    const names = treeWalkNames('1.2.3.4.5.6.7.8.9.example.com');
    expect(names[0]).toBe('1.2.3.4.5.6.7.8.9.example.com');
    expect(names[1]).toBe('5.6.7.8.9.example.com');
    expect(names).toHaveLength(8);
    expect(names.at(-1)).toBe('com');
  });
});

describe('reportedPolicyFrom', () => {
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`) / 1000;
  const row = (p: string | null, from: string, to: string) => ({ p, begin: day(from), end: day(to) });
  it('goes back from the newest report while the reports show the same p=', () => {
    const rows = [row('none', '2026-03-01', '2026-03-02'), row('reject', '2026-01-01', '2026-01-02'), row('None', '2026-02-01', '2026-02-02'), row(null, '2026-01-15', '2026-01-16'), row('none', '2026-02-15', '2026-02-16')];
    expect(reportedPolicyFrom(rows)).toEqual({ p: 'none', since: '2026-02-01T00:00:00.000Z' });
    expect(reportedPolicyFrom([row('quarantine', '2026-03-01', '2026-03-02'), ...rows])).toEqual({ p: 'quarantine', since: '2026-03-01T00:00:00.000Z' });
    expect(reportedPolicyFrom([row(null, '2026-03-01', '2026-03-02')])).toBeNull();
    expect(reportedPolicyFrom([])).toBeNull();
  });
});
