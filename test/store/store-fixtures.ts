/** Hand-built reports with every field set (and variants with every nullable field null) for the store tests. */
import type { AggregateHeader, AggregateRecord, FailureReport, TlsReport } from '../../server/domain/report-types.ts';

export function fullHeader(overrides: Partial<AggregateHeader> = {}): AggregateHeader {
  return {
    xmlSchema: '2.0',
    orgName: 'Example Reporter Inc.',
    orgEmail: 'dmarc-reports@reporter.example',
    orgExtraContactInfo: 'https://reporter.example/dmarc',
    reportId: 'rpt-0001-ÄÖ',
    begin: 1_700_000_000,
    end: 1_700_086_399,
    errors: ['reporter said: something odd', 'repaired: stray </foo>'],
    generator: 'Reporter MTA 4.2',
    policy: {
      domain: 'example.com',
      adkim: 's',
      aspf: 'r',
      p: 'reject',
      sp: 'quarantine',
      np: 'reject',
      pct: 50,
      fo: '1:d',
      testing: 'n',
      discoveryMethod: 'treewalk',
    },
    ...overrides,
  };
}

export function nullHeader(overrides: Partial<AggregateHeader> = {}): AggregateHeader {
  return {
    xmlSchema: 'draft',
    orgName: null,
    orgEmail: null,
    orgExtraContactInfo: null,
    reportId: 'null-fields-1',
    begin: 1_600_000_000,
    end: 1_600_000_000,
    errors: [],
    generator: null,
    policy: {
      domain: null,
      adkim: null,
      aspf: null,
      p: null,
      sp: null,
      np: null,
      pct: null,
      fo: null,
      testing: null,
      discoveryMethod: null,
    },
    ...overrides,
  };
}

export function fullRecord(ordinal: number): AggregateRecord {
  return {
    ordinal,
    sourceIp: ordinal % 2 === 0 ? `192.0.2.${ordinal % 256}` : `2001:db8::${(ordinal % 65536).toString(16)}`,
    count: 1 + (ordinal % 1000) * 3_000_001,
    disposition: 'quarantine',
    dkimEval: 'fail',
    spfEval: 'pass',
    overrideReasons: [
      { type: 'local_policy', comment: 'arc=pass' },
      { type: 'mailing_list', comment: null },
    ],
    headerFrom: 'Example.com',
    envelopeFrom: 'bounce.example.com',
    envelopeTo: 'receiver.example',
    dkim: [
      { domain: 'example.com', selector: 's1', result: 'pass', humanResult: 'good "quoted" \\ back' },
      { domain: null, selector: null, result: null, humanResult: null },
    ],
    spf: [
      { domain: 'bounce.example.com', scope: 'mfrom', result: 'softfail', humanResult: null },
      { domain: 'mx.example.com', scope: 'helo', result: 'pass', humanResult: 'ok' },
    ],
    problems: ordinal % 5 === 0 ? ['missing-source-ip', 'bad-count'] : [],
  };
}

export function nullRecord(ordinal: number): AggregateRecord {
  return {
    ordinal,
    sourceIp: null,
    count: 0,
    disposition: null,
    dkimEval: null,
    spfEval: null,
    overrideReasons: [],
    headerFrom: null,
    envelopeFrom: null,
    envelopeTo: null,
    dkim: [],
    spf: [],
    problems: ['missing-source-ip'],
  };
}

export function fullFailure(overrides: Partial<FailureReport> = {}): FailureReport {
  return {
    feedbackType: 'auth-failure',
    authFailure: 'dkim,spf',
    arrivalDate: 1_700_000_123,
    sourceIp: '198.51.100.7',
    reportedDomain: 'Example.com',
    originalMailFrom: '<bounce@example.com>',
    originalRcptTo: '<user@receiver.example>',
    deliveryResult: 'reject',
    authenticationResults: 'mx.receiver.example; dkim=fail header.d=example.com; spf=fail',
    dkimDomain: 'example.com',
    dkimSelector: 's1',
    dkimIdentity: '@example.com',
    spfDns: 'txt : example.com : "v=spf1 -all"',
    originalFrom: 'Boss <boss@example.com>',
    originalTo: 'user@receiver.example',
    originalSubject: 'Ünïcödé subject — with dash',
    originalMessageId: '<abc@example.com>',
    originalDate: 'Tue, 14 Nov 2023 22:15:23 +0000',
    reporterEmail: 'noreply-dmarc@receiver.example',
    reporterOrg: 'Receiver Org',
    userAgent: 'Receiver-ARF/1.0',
    reportingMta: 'dns; mx.receiver.example',
    plainText: true,
    fields: { 'feedback-type': ['auth-failure'], 'auth-failure': ['dkim', 'spf'], 'x-empty': [''] },
    originalHeaders: 'From: Boss <boss@example.com>\r\nTo: user@receiver.example\r\nSubject: hi\r\n',
    ...overrides,
  };
}

export function nullFailure(overrides: Partial<FailureReport> = {}): FailureReport {
  return {
    feedbackType: 'abuse',
    authFailure: null,
    arrivalDate: null,
    sourceIp: null,
    reportedDomain: null,
    originalMailFrom: null,
    originalRcptTo: null,
    deliveryResult: null,
    authenticationResults: null,
    dkimDomain: null,
    dkimSelector: null,
    dkimIdentity: null,
    spfDns: null,
    originalFrom: null,
    originalTo: null,
    originalSubject: null,
    originalMessageId: null,
    originalDate: null,
    reporterEmail: null,
    reporterOrg: null,
    userAgent: null,
    reportingMta: null,
    plainText: false,
    fields: {},
    originalHeaders: null,
    ...overrides,
  };
}

export function fullTls(overrides: Partial<TlsReport> = {}): TlsReport {
  return {
    orgName: 'Google Inc.',
    reportId: '2023-11-14T00:00:00Z_example.com',
    contactInfo: 'smtp-tls-reporting@google.com',
    begin: 1_699_920_000,
    end: 1_700_006_399,
    policies: [
      {
        policyType: 'sts',
        policyString: ['version: STSv1', 'mode: enforce', 'mx: mx1.example.com', 'max_age: 86400'],
        policyDomain: 'example.com',
        mxHost: ['mx1.example.com', '*.example.com'],
        successfulSessions: 12_345,
        failedSessions: 3,
        failureDetails: [
          {
            resultType: 'certificate-expired',
            sendingMtaIp: '203.0.113.9',
            receivingMxHostname: 'mx1.example.com',
            receivingMxHelo: 'mx1.example.com',
            receivingIp: '192.0.2.25',
            failedSessionCount: 2,
            additionalInformation: 'https://reporter.example/tls',
            failureReasonCode: 'X509_V_ERR_CERT_HAS_EXPIRED',
          },
          {
            resultType: 'starttls-not-supported',
            sendingMtaIp: null,
            receivingMxHostname: null,
            receivingMxHelo: null,
            receivingIp: null,
            failedSessionCount: 1,
            additionalInformation: null,
            failureReasonCode: null,
          },
        ],
      },
      {
        policyType: 'no-policy-found',
        policyString: [],
        policyDomain: 'Mail.Example.org',
        mxHost: [],
        successfulSessions: 0,
        failedSessions: 0,
        failureDetails: [],
      },
    ],
    ...overrides,
  };
}

/** Records as the streaming parser hands them over: batches, with an optional pause between them. */
export async function* batches<T>(items: readonly T[], size: number, pauseMs = 0): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    yield items.slice(i, i + size);
  }
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
