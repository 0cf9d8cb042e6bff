import { describe, expect, it } from 'vitest';
import { analyzeBimi } from '../../server/dns/bimi.ts';
import type { DmarcPolicy } from '../../server/dns/dmarc-record.ts';
import { analyzeStsPolicy, analyzeStsRecord, mxPatternMatches, parseStsPolicy } from '../../server/dns/mta-sts.ts';
import { analyzeTlsRpt } from '../../server/dns/tls-rpt.ts';

const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

describe('MTA-STS', () => {
  it('takes the id from the one v=STSv1 record and ignores other TXT records', () => {
    expect(analyzeStsRecord('example.com', ['v=STSv1; id=20260101T000000;', 'other'])).toEqual({ id: '20260101T000000', findings: [] });
    expect(analyzeStsRecord('example.com', [])).toEqual({ id: null, findings: [] });
    expect(codes(analyzeStsRecord('example.com', ['v=STSv1; id=1', 'v=STSv1; id=2']).findings)).toEqual(['mta-sts-multiple']);
    expect(codes(analyzeStsRecord('example.com', ['v=STSv1; id=has-dash']).findings)).toEqual(['mta-sts-invalid-record']);
    expect(codes(analyzeStsRecord('example.com', ['v=STSv1']).findings)).toEqual(['mta-sts-invalid-record']);
    expect(codes(analyzeStsRecord('example.com', ['v=stsv1; id=1']).findings)).toEqual(['mta-sts-invalid-record']);
  });

  it('parses the policy file with CRLF or LF and reports what is missing', () => {
    const { policy, problems } = parseStsPolicy('version: STSv1\r\nmode: enforce\r\nmx: MX1.example.com.\r\nmx: *.example.net\r\nmax_age: 604800\r\nfuture: x\r\n');
    expect(problems).toEqual([]);
    expect(policy).toEqual({ version: 'STSv1', mode: 'enforce', maxAge: 604800, mx: ['mx1.example.com', '*.example.net'] });
    expect(parseStsPolicy('version: STSv1\nmode: none\nmax_age: 86400\n').problems).toEqual([]);
    expect(parseStsPolicy('mode: enforce').problems).toEqual(['no "version: STSv1" line', 'no "max_age:" line', 'no "mx:" line']);
    expect(parseStsPolicy('version: STSv1\nmode: strict\nmax_age: 99999999999\nmx: a.test').problems).toHaveLength(2);
  });

  it('matches mx patterns, with a wildcard covering exactly one label', () => {
    expect(mxPatternMatches('mx.example.com', 'MX.example.com.')).toBe(true);
    expect(mxPatternMatches('*.example.com', 'mx1.example.com')).toBe(true);
    expect(mxPatternMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(mxPatternMatches('*.example.com', 'example.com')).toBe(false);
  });

  it('judges the policy against the MX hosts', () => {
    const url = 'https://mta-sts.example.com/.well-known/mta-sts.txt';
    const policy = (mode: string, maxAge: number) => `version: STSv1\nmode: ${mode}\nmx: *.example.com\nmax_age: ${maxAge}\n`;
    expect(analyzeStsPolicy(url, policy('enforce', 1209600), ['mx1.example.com'])).toEqual([]);
    const f = analyzeStsPolicy(url, policy('enforce', 1209600), ['mx1.example.com', 'mail.other.net']);
    expect(codes(f)).toEqual(['mta-sts-mx-mismatch']);
    expect(f[0]?.message).toContain('mail.other.net');
    expect(codes(analyzeStsPolicy(url, policy('testing', 3600), ['mx1.example.com']))).toEqual(['mta-sts-mode-testing', 'mta-sts-max-age-short']);
    expect(codes(analyzeStsPolicy(url, 'version: STSv1\nmode: none\nmax_age: 86400', ['mail.other.net']))).toEqual(['mta-sts-mode-none']);
    const fixes = analyzeStsPolicy(url, policy('testing', 3600), ['mx1.example.com']).map((x) => x.fix);
    expect(fixes[1]).toBe(`Set "max_age: 1209600" in ${url} and change the id= of the _mta-sts record.`);
    expect(analyzeStsPolicy(url, 'version: STSv1\nmode: none\nmax_age: 86400', ['mail.other.net'])[0]?.fix).toContain('mode: testing\nmx: mail.other.net\nmax_age: 1209600');
    expect(codes(analyzeStsPolicy(url, '<html>Not found</html>', []))).toEqual(['mta-sts-policy-invalid']);
  });
});

describe('TLS-RPT', () => {
  it('accepts mailto: and https: destinations and explains everything else', () => {
    expect(analyzeTlsRpt('example.com', ['v=TLSRPTv1; rua=mailto:tls@example.com,https://example.com/r'])).toEqual([]);
    expect(codes(analyzeTlsRpt('example.com', []))).toEqual(['tlsrpt-missing']);
    expect(codes(analyzeTlsRpt('example.com', ['v=TLSRPTv1; rua=mailto:a@x.test', 'v=TLSRPTv1; rua=mailto:b@x.test']))).toEqual(['tlsrpt-multiple']);
    expect(codes(analyzeTlsRpt('example.com', ['v=TLSRPTv1; rua=ftp://x.test/r']))).toEqual(['tlsrpt-invalid']);
    expect(codes(analyzeTlsRpt('example.com', ['v=TLSRPTv1']))).toEqual(['tlsrpt-invalid']);
    expect(codes(analyzeTlsRpt('example.com', ['v=tlsrptv1; rua=mailto:a@x.test']))).toEqual(['tlsrpt-invalid']);
  });
});

describe('BIMI', () => {
  const enforced: DmarcPolicy = { p: 'reject', sp: null, np: null, pct: 100, adkim: 'r', aspf: 'r', testing: false, psd: 'u', rua: [], ruf: [] };
  it('accepts an https logo and certificate with an enforced DMARC policy', () => {
    expect(analyzeBimi('example.com', ['v=BIMI1; l=https://example.com/l.svg; a=https://example.com/vmc.pem'], enforced)).toEqual([]);
  });
  it('needs DMARC enforcement at 100%', () => {
    for (const policy of [null, { ...enforced, p: 'none' as const }, { ...enforced, pct: 50 }, { ...enforced, testing: true }]) {
      expect(codes(analyzeBimi('example.com', ['v=BIMI1; l=https://example.com/l.svg; a=https://example.com/v.pem'], policy))).toEqual(['bimi-dmarc-not-enforced']);
    }
  });
  it('reports missing, multiple, malformed, non-https, declined and certificate-less records', () => {
    expect(codes(analyzeBimi('example.com', [], enforced))).toEqual(['bimi-missing']);
    expect(codes(analyzeBimi('example.com', ['v=BIMI1; l=https://a/1.svg', 'v=BIMI1; l=https://a/2.svg'], enforced))).toEqual(['bimi-multiple']);
    expect(codes(analyzeBimi('example.com', ['v=BIMI1; a=https://a/v.pem'], enforced))).toEqual(['bimi-invalid']);
    expect(codes(analyzeBimi('example.com', ['v=BIMI1; l=http://example.com/l.svg; a=https://a/v.pem'], enforced))).toEqual(['bimi-not-https']);
    expect(codes(analyzeBimi('example.com', ['v=BIMI1; l=; a=;'], enforced))).toEqual(['bimi-declined']);
    expect(codes(analyzeBimi('example.com', ['v=BIMI1; l=https://example.com/l.svg'], enforced))).toEqual(['bimi-no-certificate']);
  });
});
