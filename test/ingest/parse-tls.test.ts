import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { TlsReport } from '../../server/domain/report-types.ts';
import { InputRejected } from '../../server/errors.ts';
import { DEFAULT_LIMITS, resolveLimits } from '../../server/ingest/limits.ts';
import { parseTlsReport } from '../../server/ingest/parse-tls.ts';

const sample = (name: string): Buffer => readFileSync(new URL(`../../samples/smtp_tls/${name}`, import.meta.url));
const utc = (iso: string): number => Date.parse(iso) / 1000;

interface Expected {
  org: string;
  id: string;
  begin: string;
  end: string;
  policies: number;
  ok: number;
  failed: number;
  details: number;
}

function summarize(r: TlsReport) {
  return {
    org: r.orgName,
    id: r.reportId,
    begin: r.begin,
    end: r.end,
    policies: r.policies.length,
    ok: r.policies.reduce((a, p) => a + p.successfulSessions, 0),
    failed: r.policies.reduce((a, p) => a + p.failedSessions, 0),
    details: r.policies.reduce((a, p) => a + p.failureDetails.length, 0),
  };
}

function expectReport(r: TlsReport, e: Expected): void {
  expect(summarize(r)).toEqual({ ...e, begin: utc(e.begin), end: utc(e.end) });
}

const RFC_EXAMPLE: Expected = {
  org: 'Company-X',
  id: '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
  begin: '2016-04-01T00:00:00Z',
  end: '2016-04-01T23:59:59Z',
  policies: 1,
  ok: 5326,
  failed: 303,
  details: 3,
};

const JSON_SAMPLES: Record<string, Expected> = {
  'dmarc-report-viewer__microsoft.json': {
    org: 'Microsoft Corporation', id: '133925885310113267+random.net', begin: '2025-05-23T00:00:00Z', end: '2025-05-23T23:59:59Z',
    policies: 2, ok: 4, failed: 0, details: 0,
  },
  'dmarc-report-viewer__no-policy.json': {
    org: 'Google Inc.', id: '2025-03-27T00:00:00Z_foo-bar.io', begin: '2025-03-27T00:00:00Z', end: '2025-03-27T23:59:59Z',
    policies: 1, ok: 1, failed: 0, details: 0,
  },
  'dmarc-report-viewer__rfc-example.json': RFC_EXAMPLE,
  'mail-auth__rpt03.json': {
    org: 'Google Inc.', id: '2019-04-14T00:00:00Z_example.org', begin: '2019-04-14T00:00:00Z', end: '2019-04-14T23:59:59Z',
    policies: 2, ok: 2, failed: 0, details: 0,
  },
  'parsedmarc__rfc8460.json': RFC_EXAMPLE,
  'parsedmarc__smtp_tls.json': {
    org: 'Example Inc.', id: '2024-01-09T00:00:00Z_example.com', begin: '2024-01-09T00:00:00Z', end: '2024-01-09T23:59:59Z',
    policies: 1, ok: 0, failed: 3, details: 2,
  },
};

const EML_SAMPLES: Record<string, Expected> = {
  'mail-auth__rpt01.eml': RFC_EXAMPLE,
  'parsedmarc__google.com_smtp_tls_report.eml': {
    org: 'Google Inc.', id: '2024-09-03T00:00:00Z_cardinalhealth.ca', begin: '2024-09-03T00:00:00Z', end: '2024-09-03T23:59:59Z',
    policies: 1, ok: 48, failed: 0, details: 0,
  },
  'tlsrpt-digest__tlsrpt_failure.eml': {
    org: 'Google Inc.', id: '2026-02-08T00:00:00Z_example.com', begin: '2026-02-08T00:00:00Z', end: '2026-02-09T00:00:00Z',
    policies: 1, ok: 4523, failed: 2, details: 1,
  },
  'tlsrpt-digest__tlsrpt_success_google_1.eml': {
    org: 'Google Inc.', id: '2026-05-11T00:00:00Z_example.com', begin: '2026-05-11T00:00:00Z', end: '2026-05-11T23:59:59Z',
    policies: 1, ok: 1, failed: 0, details: 0,
  },
  'tlsrpt-digest__tlsrpt_success_microsoft.eml': {
    org: 'Microsoft Corporation', id: '134232617934286362+example.com', begin: '2026-05-13T00:00:00Z', end: '2026-05-13T23:59:59Z',
    policies: 1, ok: 2, failed: 0, details: 0,
  },
};

/** The TLS report attachment(s) of a mail, gunzipped when gzip. */
async function tlsAttachments(eml: Buffer): Promise<Buffer[]> {
  const mail = await simpleParser(eml);
  return mail.attachments
    .filter((a) => /tlsrpt|json|gzip/i.test(a.contentType) || /\.json(\.gz)?$/i.test(a.filename ?? ''))
    .map((a) => (a.content[0] === 0x1f && a.content[1] === 0x8b ? gunzipSync(a.content) : a.content));
}

function rejection(fn: () => unknown): { code: string; detail: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputRejected) return { code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('expected an InputRejected');
}

const minimal = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  'organization-name': 'Org',
  'date-range': { 'start-datetime': '2024-01-01T00:00:00Z', 'end-datetime': '2024-01-01T23:59:59Z' },
  'report-id': 'r1',
  policies: [{ policy: { 'policy-type': 'sts', 'policy-domain': 'example.com' }, summary: { 'total-successful-session-count': 1, 'total-failure-session-count': 0 } }],
  ...extra,
});

describe('parseTlsReport on the sample JSON files', () => {
  for (const [file, expected] of Object.entries(JSON_SAMPLES)) {
    it(file, () => expectReport(parseTlsReport(sample(file), DEFAULT_LIMITS), expected));
  }

  it('reads policies and failure details field by field (RFC 8460 example)', () => {
    const r = parseTlsReport(sample('dmarc-report-viewer__rfc-example.json'), DEFAULT_LIMITS);
    expect(r.contactInfo).toBe('sts-reporting@company-x.example');
    const p = r.policies[0]!;
    expect(p).toMatchObject({
      policyType: 'sts',
      policyDomain: 'company-y.example',
      mxHost: ['*.mail.company-y.example'],
      policyString: ['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400'],
    });
    expect(p.failureDetails.map((d) => d.resultType)).toEqual(['certificate-expired', 'starttls-not-supported', 'validation-failure']);
    expect(p.failureDetails.reduce((a, d) => a + d.failedSessionCount, 0)).toBe(303);
    expect(p.failureDetails[1]).toEqual({
      resultType: 'starttls-not-supported',
      sendingMtaIp: '2001:db8:abcd:0013::1',
      receivingMxHostname: 'mx2.mail.company-y.example',
      receivingMxHelo: null,
      receivingIp: '203.0.113.56',
      failedSessionCount: 200,
      additionalInformation: 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported',
      failureReasonCode: null,
    });
    expect(p.failureDetails[2]!.failureReasonCode).toBe('X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED');
  });

  it('turns a single mx-host string into a one-element array', () => {
    const r = parseTlsReport(sample('parsedmarc__rfc8460.json'), DEFAULT_LIMITS);
    expect(r.policies[0]!.mxHost).toEqual(['*.mail.company-y.example']);
  });

  it('keeps policies without policy-domain and unknown policy types (rpt03)', () => {
    const r = parseTlsReport(sample('mail-auth__rpt03.json'), DEFAULT_LIMITS);
    expect(r.policies.map((p) => p.policyType)).toEqual(['no-policy-found', 'invalid-policy-type']);
    expect(r.policies.map((p) => p.policyDomain)).toEqual(['', '']);
    expect(r.policies.map((p) => p.failedSessions)).toEqual([0, 0]);
  });
});

describe('parseTlsReport on the TLS report mails (attachment extracted with mailparser)', () => {
  for (const [file, expected] of Object.entries(EML_SAMPLES)) {
    it(file, async () => {
      const attachments = await tlsAttachments(sample(file));
      expect(attachments).toHaveLength(1);
      expectReport(parseTlsReport(attachments[0]!, DEFAULT_LIMITS), expected);
    });
  }

  it('reads a string input the same as bytes', async () => {
    const [bytes] = await tlsAttachments(sample('tlsrpt-digest__tlsrpt_success_google_1.eml'));
    const fromString = parseTlsReport(bytes!.toString('utf8'), DEFAULT_LIMITS);
    expect(fromString).toEqual(parseTlsReport(bytes!, DEFAULT_LIMITS));
    expect(fromString.policies[0]!.mxHost).toEqual(['in1-smtp.messagingengine.com', 'in2-smtp.messagingengine.com']);
  });
});

describe('parseTlsReport tolerance', () => {
  it('accepts a UTF-8 BOM, a UTF-16 BOM and surrounding whitespace', () => {
    const text = JSON.stringify(minimal());
    expect(parseTlsReport(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`\n  ${text}\n\n`)]), DEFAULT_LIMITS).reportId).toBe('r1');
    expect(parseTlsReport('\uFEFF' + text, DEFAULT_LIMITS).orgName).toBe('Org');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(parseTlsReport(utf16, DEFAULT_LIMITS).reportId).toBe('r1');
  });

  it('accepts counts given as strings, missing summary fields and missing optional members', () => {
    const r = parseTlsReport(
      JSON.stringify(
        minimal({
          policies: [
            {
              policy: { 'policy-type': 'STS', 'policy-string': 'version: STSv1', 'policy-domain': 'Example.COM', 'mx-host': ['mx1.example.com', 'mx2.example.com'] },
              summary: { 'total-successful-session-count': '12', 'total-failure-session-count': '3' },
              'failure-details': [{ 'result-type': 'Certificate-Expired', 'failed-session-count': '3' }],
            },
            { policy: { 'policy-type': 'no-policy-found' } },
          ],
        }),
      ),
      DEFAULT_LIMITS,
    );
    expect(r.contactInfo).toBeNull();
    const [a, b] = r.policies;
    expect(a).toMatchObject({ policyType: 'sts', policyDomain: 'example.com', policyString: ['version: STSv1'], successfulSessions: 12, failedSessions: 3 });
    expect(a!.mxHost).toEqual(['mx1.example.com', 'mx2.example.com']);
    expect(a!.failureDetails[0]).toMatchObject({ resultType: 'certificate-expired', failedSessionCount: 3, sendingMtaIp: null, receivingIp: null });
    expect(b).toMatchObject({ policyType: 'no-policy-found', successfulSessions: 0, failedSessions: 0, policyString: [], mxHost: [], failureDetails: [] });
  });

  it('accepts date-times with offsets and fractions', () => {
    const r = parseTlsReport(
      JSON.stringify(minimal({ 'date-range': { 'start-datetime': '2024-01-01T02:00:00+02:00', 'end-datetime': '2024-01-01T23:59:59.999Z' } })),
      DEFAULT_LIMITS,
    );
    expect(r.begin).toBe(utc('2024-01-01T00:00:00Z'));
    expect(r.end).toBe(utc('2024-01-01T23:59:59Z'));
  });

  it('accepts a report with a report-id but no policies as an empty report', () => {
    const doc = minimal();
    delete doc['policies'];
    expect(parseTlsReport(JSON.stringify(doc), DEFAULT_LIMITS).policies).toEqual([]);
  });
});

describe('parseTlsReport rejections', () => {
  const cases: [string, string | Buffer, string, RegExp][] = [
    ['not JSON', 'this is not json', 'bad-json', /not JSON/],
    ['truncated JSON', JSON.stringify(minimal()).slice(0, 40), 'bad-json', /not JSON/],
    ['an XML aggregate report', '<?xml version="1.0"?><feedback></feedback>', 'bad-json', /not JSON/],
    ['a JSON array', '[1, 2, 3]', 'schema', /array/],
    ['a JSON string', '"hello"', 'schema', /string/],
    ['JSON with neither report-id nor policies', '{"hello": "world"}', 'schema', /not an SMTP TLS report/],
    ['missing organization-name', JSON.stringify({ ...minimal(), 'organization-name': undefined }), 'schema', /organization-name/],
    ['empty organization-name', JSON.stringify({ ...minimal(), 'organization-name': '  ' }), 'schema', /organization-name/],
    ['missing report-id', JSON.stringify({ ...minimal(), 'report-id': undefined }), 'schema', /report-id/],
    ['missing date-range', JSON.stringify({ ...minimal(), 'date-range': undefined }), 'schema', /date-range/],
    ['bad start-datetime', JSON.stringify(minimal({ 'date-range': { 'start-datetime': 'yesterday', 'end-datetime': '2024-01-01T00:00:00Z' } })), 'schema', /start-datetime/],
    ['impossible date', JSON.stringify(minimal({ 'date-range': { 'start-datetime': '2024-02-31T00:00:00Z', 'end-datetime': '2024-03-01T00:00:00Z' } })), 'schema', /start-datetime/],
    ['range ending before it starts', JSON.stringify(minimal({ 'date-range': { 'start-datetime': '2024-01-02T00:00:00Z', 'end-datetime': '2024-01-01T00:00:00Z' } })), 'schema', /ends before/],
    ['policies not an array', JSON.stringify(minimal({ policies: 'none' })), 'schema', /policies/],
    ['a policy without policy-type', JSON.stringify(minimal({ policies: [{ policy: { 'policy-domain': 'x.example' } }] })), 'schema', /policy-type/],
    ['a negative count', JSON.stringify(minimal({ policies: [{ policy: { 'policy-type': 'sts' }, summary: { 'total-successful-session-count': -1 } }] })), 'schema', /session count/],
    ['a non-numeric count', JSON.stringify(minimal({ policies: [{ policy: { 'policy-type': 'sts' }, summary: { 'total-failure-session-count': 'many' } }] })), 'schema', /session count/],
    ['a failure detail without result-type', JSON.stringify(minimal({ policies: [{ policy: { 'policy-type': 'sts' }, 'failure-details': [{ 'failed-session-count': 1 }] }] })), 'schema', /result-type/],
    ['empty input', Buffer.alloc(0), 'empty', /empty/],
  ];
  for (const [name, input, code, detail] of cases) {
    it(name, () => {
      const r = rejection(() => parseTlsReport(input, DEFAULT_LIMITS));
      expect(r.code).toBe(code);
      expect(r.detail).toMatch(detail);
    });
  }

  it('refuses text longer than maxElementBytes*16 with too-large before parsing it', () => {
    const limits = resolveLimits({ maxElementBytes: 64 });
    const text = JSON.stringify(minimal({ padding: 'x'.repeat(64 * 16) }));
    expect(rejection(() => parseTlsReport(text, limits)).code).toBe('too-large');
    expect(rejection(() => parseTlsReport(Buffer.from(text), limits)).code).toBe('too-large');
    expect(parseTlsReport(JSON.stringify(minimal()), resolveLimits({ maxElementBytes: 1024 })).reportId).toBe('r1');
  });

  it('refuses more policies plus failure details than maxTlsEntries with too-large', () => {
    const limits = resolveLimits({ maxTlsEntries: 3 });
    const detail = { 'result-type': 'validation-failure', 'failed-session-count': 1 };
    const twoDetails = minimal({ policies: [{ policy: { 'policy-type': 'sts' }, 'failure-details': [detail, detail] }] });
    expect(parseTlsReport(JSON.stringify(twoDetails), limits).policies[0]!.failureDetails).toHaveLength(2);
    const threeDetails = minimal({ policies: [{ policy: { 'policy-type': 'sts' }, 'failure-details': [detail, detail, detail] }] });
    expect(rejection(() => parseTlsReport(JSON.stringify(threeDetails), limits))).toMatchObject({ code: 'too-large' });
    const manyPolicies = minimal({ policies: Array.from({ length: 4 }, () => ({ policy: { 'policy-type': 'sts' } })) });
    expect(rejection(() => parseTlsReport(JSON.stringify(manyPolicies), limits))).toMatchObject({ code: 'too-large' });
  });

  it('refuses a flood of JSON objects before JSON.parse builds them', () => {
    const limits = resolveLimits({ maxTlsEntries: 10 });
    const flood = JSON.stringify(minimal({ junk: Array.from({ length: 200 }, () => ({})) }));
    expect(rejection(() => parseTlsReport(flood, limits))).toMatchObject({ code: 'too-large' });
  });
});
