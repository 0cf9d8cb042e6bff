import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FailureReport } from '../../server/domain/report-types.ts';
import { InputRejected } from '../../server/errors.ts';
import { failureDedupKey, parseFailureMail, redactFailure } from '../../server/ingest/parse-failure.ts';

const dir = (kind: string): URL => new URL(`../../samples/${kind}/`, import.meta.url);
const sample = (kind: string, name: string): Buffer => readFileSync(new URL(name, dir(kind)));
const emls = (kind: string): string[] => readdirSync(dir(kind)).filter((f) => f.endsWith('.eml')).sort();
const utc = (y: number, mon: number, d: number, h: number, mi: number, s: number): number => Date.UTC(y, mon - 1, d, h, mi, s) / 1000;

async function parsed(kind: string, name: string): Promise<FailureReport> {
  const r = await parseFailureMail(sample(kind, name));
  expect(r, name).not.toBeNull();
  return r!;
}

async function rejection(mail: Buffer): Promise<{ code: string; detail: string }> {
  try {
    await parseFailureMail(mail);
  } catch (err) {
    if (err instanceof InputRejected) return { code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('expected an InputRejected');
}

interface Crafted {
  subject?: string;
  feedback: string;
  feedbackHeaders?: string;
  original?: string;
  originalType?: string;
  from?: string;
  eol?: string;
}

/** An ARF mail built from its pieces (LF line endings unless `eol` says otherwise). */
function arfMail(c: Crafted): Buffer {
  const lines = [
    `From: ${c.from ?? 'DMARC Reporter <dmarc-reports@reporter.example>'}`,
    'To: ruf@example.com',
    `Subject: ${c.subject ?? 'Report'}`,
    'Date: Mon, 3 Jun 2024 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="XYZ"',
    '',
    '--XYZ',
    'Content-Type: text/plain',
    '',
    'This is an authentication failure report.',
    '',
    '--XYZ',
    `Content-Type: message/feedback-report${c.feedbackHeaders ?? ''}`,
    '',
    c.feedback,
    '',
    '--XYZ',
    `Content-Type: ${c.originalType ?? 'message/rfc822'}`,
    '',
    c.original ?? 'From: Alice <alice@example.com>\nTo: bob@example.net\nSubject: Hello\nMessage-ID: <m1@example.com>\nDate: Mon, 3 Jun 2024 09:59:00 +0000\n\nbody',
    '--XYZ--',
    '',
  ];
  return Buffer.from(lines.join('\n').replace(/\n/g, c.eol ?? '\n'));
}

const FEEDBACK = [
  'Feedback-Type: auth-failure',
  'User-Agent: Test/1.0',
  'Version: 1',
  'Auth-Failure: dmarc',
  'Source-IP: 192.0.2.7',
  'Reported-Domain: example.com',
  'Arrival-Date: Mon, 3 Jun 2024 09:59:30 +0200',
  'Original-Mail-From: <bounce@example.com>',
  'Original-Rcpt-To: <bob@example.net>',
].join('\n');

describe('parseFailureMail on samples/forensic', () => {
  it('finds a report in every forensic sample', async () => {
    for (const f of emls('forensic')) expect(await parseFailureMail(sample('forensic', f)), f).not.toBeNull();
  });

  it('mail-auth__001: an abuse ARF report with only the required fields', async () => {
    const r = await parsed('forensic', 'mail-auth__001.eml');
    expect(r).toMatchObject({
      feedbackType: 'abuse',
      userAgent: 'SomeGenerator/1.0',
      reportedDomain: null,
      sourceIp: null,
      arrivalDate: null,
      authFailure: null,
      reporterEmail: 'abusedesk@example.com',
      reporterOrg: 'example.com',
      originalSubject: 'Earn money',
      originalFrom: 'somespammer@example.net',
      originalMessageId: '8787KJKJ3K4J3K4J3K4J3.mail@example.net',
      plainText: false,
    });
    expect(r.fields['version']).toEqual(['1']);
  });

  it('mail-auth__002: an abuse ARF report with the optional fields, repeated fields kept', async () => {
    const r = await parsed('forensic', 'mail-auth__002.eml');
    expect(r).toMatchObject({
      feedbackType: 'abuse',
      sourceIp: '192.0.2.1',
      reportedDomain: 'example.net',
      arrivalDate: utc(2005, 3, 8, 18, 0, 0), // 14:00 EDT
      originalMailFrom: 'somespammer@example.net',
      originalRcptTo: 'user@example.com',
      reportingMta: 'mail.example.com',
      authenticationResults: 'mail.example.com; spf=fail smtp.mail=somespammer@example.com',
    });
    expect(r.fields['reported-uri']).toEqual(['http://example.net/earn_money.html', 'mailto:user@example.com']);
    // the original's headers have a stray blank line after Received (as in RFC 5965's example): To/Subject still found
    expect(r.originalSubject).toBe('Earn money');
    expect(r.originalHeaders).toContain('Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net');
  });

  it('mail-auth__004: OpenDMARC report with text/rfc822-headers and a Source-IP with a host comment', async () => {
    const r = await parsed('forensic', 'mail-auth__004.eml');
    expect(r).toMatchObject({
      feedbackType: 'auth-failure',
      authFailure: 'dmarc',
      sourceIp: '148.163.85.135',
      reportedDomain: 'interpublication.org',
      originalMailFrom: 'info@interpublication.org',
      arrivalDate: null,
      userAgent: 'OpenDMARC-Filter/1.3.2',
      reporterEmail: 'opendmarc@box.mydomain.name',
      reporterOrg: 'box.mydomain.name',
      originalSubject: 'Wir kaufen dein Auto!',
      originalDate: 'Tue, 5 Oct 2021 06:36:51 +0200',
    });
    expect(r.originalFrom).toContain('info@interpublication.org');
    expect(r.originalTo).toContain('address@myotherdomain.name');
    expect(r.originalHeaders).toMatch(/^Authentication-Results: box\.mydomain\.name;/);
    expect(r.fields['source-ip']).toEqual(['148.163.85.135 (sainay.interpublication.org)']);
  });

  it('Netease: base64 feedback part with a file name, nested in multipart/mixed', async () => {
    const r = await parsed('forensic', 'parsedmarc__[Netease DMARC Failure Report] Rent Reminder.eml');
    expect(r).toMatchObject({
      feedbackType: 'auth-failure',
      userAgent: 'NtesDmarcReporter/1.0',
      sourceIp: '167.89.69.24',
      reportedDomain: 'cardinal.com',
      arrivalDate: utc(2018, 9, 28, 8, 48, 42),
      deliveryResult: 'delivered',
      dkimDomain: 'entrata.com',
      reporterEmail: 'abuse@163.com',
      reporterOrg: '163.com',
      originalSubject: 'Rent Reminder',
      originalMessageId: '<oguVx1AxQayV5Sv2nYK-rA@ismtpd0007p1las1.sendgrid.net>',
      plainText: false,
    });
    expect(r.originalFrom).toContain('info@cardinal.com');
    expect(r.fields['identity-alignment']).toEqual(['spf,dkim']);
  });

  for (const name of ['parsedmarc__dmarc_ruf_report_linkedin.eml', 'parsedmarc__dmarc_ruf_report_linkedin.crlf.eml']) {
    it(`${name}: mbox separator line, empty Original-Mail-From`, async () => {
      const r = await parsed('forensic', name);
      expect(r).toMatchObject({
        feedbackType: 'auth-failure',
        authFailure: 'dmarc',
        userAgent: 'Lua/1.0',
        sourceIp: '10.10.10.10',
        reportedDomain: 'example.com',
        arrivalDate: utc(2019, 4, 30, 2, 9, 0),
        originalMailFrom: null,
        originalRcptTo: 'recipient@linkedin.com',
        deliveryResult: 'delivered',
        reporterEmail: 'dmarc-noreply@linkedin.com',
        reporterOrg: 'linkedin.com',
        originalSubject: 'Subject line, could be UTF8 encoded',
        originalMessageId: '<01010101010101010101010101010101@ABAB01MS0016.someserver.loc>',
      });
      expect(r.originalFrom).toContain('sender@example.com');
      expect(r.originalHeaders).not.toContain('\r');
    });
  }

  it('exim plain text report (no ARF part)', async () => {
    const r = await parsed('forensic', 'parsedmarc__exim_plain_text_only_no_arf_part.eml');
    expect(r).toMatchObject({
      plainText: true,
      feedbackType: 'auth-failure',
      authFailure: 'dmarc',
      sourceIp: '203.0.113.68',
      reportedDomain: 'example.com',
      arrivalDate: utc(2025, 4, 7, 21, 16, 9),
      reporterEmail: 'no-reply@node01.mailgate.example.net',
      reporterOrg: 'node01.mailgate.example.net',
      originalSubject: 'Payment from your account.',
      originalMessageId: '<134117F8-2145-AECE-9CCA-25FC98731341@example.com>',
      originalDate: 'Mon, 7 Apr 2025 10:10:06 -0600',
    });
    expect(r.originalFrom).toContain('user@example.com');
    expect(r.fields['spf alignment']).toEqual(['no']);
    expect(r.fields['dmarc results']).toEqual(['None, Accept']);
    expect(r.originalHeaders).toMatch(/^Received: from \[203\.0\.113\.68\]/);
    expect(r.originalHeaders).not.toContain('Sender IP Address');
  });

  it('set-of-emails arf-18: ecelerity report', async () => {
    const r = await parsed('forensic', 'set-of-emails__arf-18.eml');
    expect(r).toMatchObject({
      feedbackType: 'auth-failure',
      authFailure: 'dmarc',
      sourceIp: '192.0.2.222',
      reportedDomain: 'example.net',
      arrivalDate: utc(2015, 4, 29, 23, 34, 45),
      originalMailFrom: 'sironeko@example.org',
      originalRcptTo: 'kijitora@example.com',
      reporterEmail: 'dmarc-noreply@example.com',
      reporterOrg: 'example.com',
      originalSubject: 'Nyaan',
      originalMessageId: '<000000002.2222222.1500000000022@example.net>',
    });
    expect(r.fields['version']).toEqual(['1.0']);
  });
});

describe('parseFailureMail says null for mails that are not failure reports', () => {
  for (const kind of ['aggregate', 'smtp_tls']) {
    for (const f of emls(kind)) {
      it(`${kind}/${f}`, async () => expect(await parseFailureMail(sample(kind, f))).toBeNull());
    }
  }

  const ordinary: [string, string][] = [
    ['an ordinary text mail', 'From: a@example.com\nTo: b@example.com\nSubject: Lunch?\n\nShall we meet at noon?\n'],
    ['a mail that talks about DMARC failures', 'From: a@example.com\nSubject: Our DMARC failure reports\n\nWhy did DMARC fail for our newsletter last week? The IP was 192.0.2.1.\n'],
    ['a mail that mentions feedback-report in its text', 'From: a@example.com\nSubject: ARF\n\nThe part type is message/feedback-report, see RFC 5965.\n'],
    ['headers only', 'From: a@example.com\nSubject: x\n'],
    ['an HTML mail', 'From: a@example.com\nContent-Type: text/html\n\n<p>DMARC failure report</p>\n'],
    ['an mbox line only', 'From a@example.com Mon Jan  1 00:00:00 2024\n'],
  ];
  for (const [name, text] of ordinary) {
    it(name, async () => expect(await parseFailureMail(Buffer.from(text))).toBeNull());
  }

  it('empty and binary input', async () => {
    expect(await parseFailureMail(Buffer.alloc(0))).toBeNull();
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + 13) % 256;
    expect(await parseFailureMail(noise)).toBeNull();
  });

  it('a mail with a large aggregate attachment is passed over without being decoded', async () => {
    const b64 = Buffer.alloc(8 * 1024 * 1024, 1).toString('base64').replace(/.{76}/g, '$&\n');
    const mail = Buffer.from(
      'From: noreply-dmarc-support@google.com\nSubject: Report domain: example.com Submitter: google.com\n' +
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nDMARC aggregate report, failures included.\n' +
        '--b\nContent-Type: application/zip; name="google.com!example.com!1!2.zip"\nContent-Transfer-Encoding: base64\n\n' +
        b64 + '\n--b--\n',
    );
    expect(await parseFailureMail(mail)).toBeNull();
  });
});

describe('parseFailureMail on crafted ARF reports', () => {
  it('reads a base64-encoded feedback part like a plain one, with the same dedup key', async () => {
    const plain = await parseFailureMail(arfMail({ feedback: FEEDBACK }));
    const b64 = Buffer.from(FEEDBACK.replace(/\n/g, '\r\n')).toString('base64').replace(/.{60}/g, '$&\n');
    const encoded = await parseFailureMail(arfMail({ feedback: b64, feedbackHeaders: '\nContent-Transfer-Encoding: base64' }));
    expect(encoded).toMatchObject({ sourceIp: '192.0.2.7', reportedDomain: 'example.com', authFailure: 'dmarc', arrivalDate: utc(2024, 6, 3, 7, 59, 30) });
    expect(encoded).toEqual(plain);
    expect(failureDedupKey(encoded!)).toBe(failureDedupKey(plain!));
  });

  it('reads a quoted-printable feedback part with soft line breaks', async () => {
    const qp = FEEDBACK.replace('Reported-Domain: example.com', 'Reported-Domain: exam=\nple.com').replace('Version: 1', 'Version=3A 1');
    const r = await parseFailureMail(arfMail({ feedback: qp, feedbackHeaders: '\nContent-Transfer-Encoding: quoted-printable' }));
    expect(r).toMatchObject({ reportedDomain: 'example.com', sourceIp: '192.0.2.7' });
    expect(r!.fields['version']).toEqual(['1']);
  });

  it('missing and garbage Arrival-Date give null', async () => {
    const missing = await parseFailureMail(arfMail({ feedback: FEEDBACK.replace(/^Arrival-Date:.*$/m, '') }));
    expect(missing!.arrivalDate).toBeNull();
    for (const garbage of ['yesterday', '99 Foo 2024 10:00:00', '31 Feb 2024 10:00:00 +0000', 'x 1', '2024-13-01T00:00:00Z']) {
      const r = await parseFailureMail(arfMail({ feedback: FEEDBACK.replace(/^Arrival-Date:.*$/m, `Arrival-Date: ${garbage}`) }));
      expect(r!.arrivalDate, garbage).toBeNull();
      expect(r!.fields['arrival-date']).toEqual([garbage]);
    }
  });

  it('accepts common Arrival-Date forms', async () => {
    const forms: [string, number][] = [
      ['Mon, 3 Jun 2024 09:59:30 +0200', utc(2024, 6, 3, 7, 59, 30)],
      ['3 Jun 2024 09:59:30 GMT', utc(2024, 6, 3, 9, 59, 30)],
      ['Mon,  3 Jun 2024 09:59:30 -0400 (EDT)', utc(2024, 6, 3, 13, 59, 30)],
      ['Mon, 03 Jun 24 09:59 PDT', utc(2024, 6, 3, 16, 59, 0)],
      ['Mon Jun  3 09:59:30 2024', utc(2024, 6, 3, 9, 59, 30)],
      ['2024-06-03T09:59:30Z', utc(2024, 6, 3, 9, 59, 30)],
    ];
    for (const [text, expected] of forms) {
      const r = await parseFailureMail(arfMail({ feedback: FEEDBACK.replace(/^Arrival-Date:.*$/m, `Arrival-Date: ${text}`) }));
      expect(r!.arrivalDate, text).toBe(expected);
    }
  });

  it('joins repeated Auth-Failure fields and reads names case-insensitively with folded values', async () => {
    const feedback = [
      'feedback-type: Auth-Failure',
      'AUTH-FAILURE: dkim',
      'Auth-Failure: spf',
      'Auth-Failure: dkim',
      'source-ip: [IPv6:2001:DB8::0:1]',
      'Reported-Domain: Example.COM.',
      'Authentication-Results: mx.example.net;',
      '  dkim=fail header.d=example.com;',
      '\tspf=fail smtp.mailfrom=example.com',
      'DKIM-Domain: example.com',
      'DKIM-Selector: s1',
      'DKIM-Identity: @example.com',
      'SPF-DNS: txt : example.com : "v=spf1 -all"',
      'Reporting-MTA: dns; mx.example.net',
    ].join('\n');
    const r = await parseFailureMail(arfMail({ feedback }));
    expect(r).toMatchObject({
      feedbackType: 'auth-failure',
      authFailure: 'dkim,spf',
      sourceIp: '2001:db8::1',
      reportedDomain: 'example.com',
      authenticationResults: 'mx.example.net; dkim=fail header.d=example.com; spf=fail smtp.mailfrom=example.com',
      dkimDomain: 'example.com',
      dkimSelector: 's1',
      dkimIdentity: '@example.com',
      spfDns: 'txt : example.com : "v=spf1 -all"',
      reportingMta: 'mx.example.net',
      reporterOrg: 'reporter.example',
    });
    expect(r!.fields['auth-failure']).toEqual(['dkim', 'spf', 'dkim']);
  });

  it('decodes RFC 2047 subjects and names of the original message', async () => {
    const original = [
      'From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.com>',
      'To: =?UTF-8?B?QsO2Yg==?= <bob@example.net>',
      'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?= =?UTF-8?Q?_=E2=9C=93?=',
      'Message-ID: <m2@example.com>',
      '',
      'body',
    ].join('\n');
    const r = await parseFailureMail(arfMail({ feedback: FEEDBACK, original, subject: '=?UTF-8?Q?DMARC_Fehlerbericht_f=C3=BCr_example.com?=' }));
    expect(r!.originalSubject).toBe('Grüße aus Köln ✓');
    expect(r!.originalFrom).toContain('Jörg Müller');
    expect(r!.originalTo).toContain('Böb');
    expect(r!.originalMessageId).toBe('<m2@example.com>');
  });

  it('reads the original from text/rfc822-headers and from a base64 message/rfc822 part', async () => {
    const headers = 'From: a@example.com\nSubject: Only headers\nMessage-ID: <h@example.com>\n';
    const r1 = await parseFailureMail(arfMail({ feedback: FEEDBACK, original: headers, originalType: 'text/rfc822-headers' }));
    expect(r1).toMatchObject({ originalSubject: 'Only headers', originalMessageId: '<h@example.com>' });
    const b64 = Buffer.from(headers + '\nbody\n').toString('base64');
    const r2 = await parseFailureMail(arfMail({ feedback: FEEDBACK, original: b64, originalType: 'message/rfc822\nContent-Transfer-Encoding: base64' }));
    expect(r2).toMatchObject({ originalSubject: 'Only headers', originalMessageId: '<h@example.com>' });
  });

  it('finds a report wrapped in a message/rfc822 part (mailing list, forward)', async () => {
    const inner = arfMail({ feedback: FEEDBACK, from: 'dmarc@inner-reporter.example' }).toString();
    const outer = Buffer.from(
      'From: list@lists.example\nSubject: [list] Report\nContent-Type: multipart/mixed; boundary="OUT"\n\n' +
        '--OUT\nContent-Type: text/plain\n\nForwarded by the list.\n--OUT\nContent-Type: message/rfc822\n\n' +
        inner + '\n--OUT--\n',
    );
    const r = await parseFailureMail(outer);
    expect(r).toMatchObject({ sourceIp: '192.0.2.7', reporterEmail: 'dmarc@inner-reporter.example', reporterOrg: 'inner-reporter.example', originalSubject: 'Hello' });
  });

  it('rejects an ARF report whose feedback part has no Feedback-Type with schema', async () => {
    const r = await rejection(arfMail({ feedback: 'Version: 1\nSource-IP: 192.0.2.7' }));
    expect(r.code).toBe('schema');
    expect(r.detail).toMatch(/Feedback-Type/);
  });

  it('infers auth-failure when only Auth-Failure is given', async () => {
    const r = await parseFailureMail(arfMail({ feedback: 'Auth-Failure: spf\nSource-IP: 192.0.2.7' }));
    expect(r).toMatchObject({ feedbackType: 'auth-failure', authFailure: 'spf' });
  });

  it('rejects a declared feedback-report without a message/feedback-report part with schema', async () => {
    const mail = Buffer.from(
      'From: r@example.com\nContent-Type: multipart/report; report-type=feedback-report; boundary="B"\n\n--B\nContent-Type: text/plain\n\nhello\n--B--\n',
    );
    expect((await rejection(mail)).code).toBe('schema');
  });

  it('reads a feedback part sent with the wrong content type', async () => {
    for (const type of ['text/plain', 'application/octet-stream; name="feedback.txt"']) {
      const mail = arfMail({ feedback: FEEDBACK }).toString().replace('Content-Type: message/feedback-report', `Content-Type: ${type}`);
      const r = await parseFailureMail(Buffer.from(mail));
      expect(r, type).toMatchObject({ plainText: false, sourceIp: '192.0.2.7', reportedDomain: 'example.com', originalSubject: 'Hello' });
    }
  });

  it('walks nested multiparts whose boundaries start with the outer boundary', async () => {
    const mail = [
      'From: r@reporter.example',
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      'preamble',
      '--B',
      'Content-Type: multipart/report; report-type=feedback-report; boundary="B--inner"',
      '',
      '--B--inner',
      'Content-Type: text/plain',
      '',
      'human readable',
      '--B--inner',
      'Content-Type: message/feedback-report',
      '',
      FEEDBACK,
      '--B--inner--',
      '--B',
      'Content-Type: message/rfc822',
      '',
      'Subject: Nested original',
      'From: n@example.com',
      '',
      'x',
      '--B--',
    ].join('\r\n');
    const r = await parseFailureMail(Buffer.from(mail));
    expect(r).toMatchObject({ sourceIp: '192.0.2.7', originalSubject: 'Nested original', reporterEmail: 'r@reporter.example' });
  });

  it('keeps non-DMARC feedback types', async () => {
    const r = await parseFailureMail(arfMail({ feedback: 'Feedback-Type: fraud\nUser-Agent: X/1\nVersion: 1\nSource-IP: 192.0.2.9' }));
    expect(r).toMatchObject({ feedbackType: 'fraud', sourceIp: '192.0.2.9', authFailure: null });
  });

  it('reads a CRLF mail like the LF one', async () => {
    const lf = await parseFailureMail(arfMail({ feedback: FEEDBACK }));
    const crlf = await parseFailureMail(arfMail({ feedback: FEEDBACK, eol: '\r\n' }));
    expect(crlf).toEqual(lf);
  });
});

describe('parseFailureMail on plain-text failure reports', () => {
  it('recognises another wording, as a single-part mail', async () => {
    const mail = Buffer.from(
      [
        'From: postmaster@filter.example',
        'Subject: DMARC failure report for example.org',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'This message failed DMARC evaluation.',
        '',
        'Reported Domain: example.org',
        'Source IP: 198.51.100.23',
        'Arrival Date: 2024-06-03T10:00:00Z',
        'Envelope From: <x@example.org>',
        'Auth Failure: spf',
        '',
      ].join('\n'),
    );
    const r = await parseFailureMail(mail);
    expect(r).toMatchObject({
      plainText: true,
      feedbackType: 'auth-failure',
      reportedDomain: 'example.org',
      sourceIp: '198.51.100.23',
      arrivalDate: utc(2024, 6, 3, 10, 0, 0),
      originalMailFrom: 'x@example.org',
      authFailure: 'spf',
      reporterEmail: 'postmaster@filter.example',
      originalHeaders: null,
    });
  });

  it('needs more than a subject: DMARC words without key/value lines is not a report', async () => {
    const mail = Buffer.from('From: a@example.com\nSubject: DMARC Forensic Report for example.com\n\nSee attached.\n');
    expect(await parseFailureMail(mail)).toBeNull();
  });

  it('needs a DMARC signal: the same key/value lines in an unrelated mail are not a report', async () => {
    const mail = Buffer.from('From: a@example.com\nSubject: Server inventory\n\nSource IP: 198.51.100.23\nSender Domain: example.org\nReceived date: 2024-06-03\n');
    expect(await parseFailureMail(mail)).toBeNull();
  });
});

describe('parseFailureMail on hostile input (linear work: these would not finish if it were quadratic)', () => {
  const head = 'From: a@b.example\nSubject: DMARC failure report\n';
  const arfHead = head + 'Content-Type: multipart/report; report-type=feedback-report; boundary="B"\n\n--B\nContent-Type: message/feedback-report\n';

  it('a quoted-printable feedback part with a huge run of spaces', async () => {
    const mail = arfHead + 'Content-Transfer-Encoding: quoted-printable\n\nFeedback-Type: auth-failure\nSource-IP: 192.0.2.1' + ' '.repeat(900_000) + 'x\n--B--\n';
    expect(await parseFailureMail(Buffer.from(mail))).toMatchObject({ feedbackType: 'auth-failure', sourceIp: '192.0.2.1' });
  });

  it('huge runs of parentheses and letters in date, IP and domain fields', async () => {
    const mail = arfHead + '\nFeedback-Type: auth-failure\nArrival-Date: ' + '('.repeat(300_000) + '\nSource-IP: ' + '('.repeat(300_000) + '\n--B--\n';
    expect(await parseFailureMail(Buffer.from(mail))).toMatchObject({ arrivalDate: null, sourceIp: null });
  });

  it('plain text made of endless header-like lines, spaces, or unclosed tags', async () => {
    expect(await parseFailureMail(Buffer.from(head + '\n' + 'Date: x\n'.repeat(100_000)))).toBeNull();
    expect(await parseFailureMail(Buffer.from(head + '\n' + ' '.repeat(900_000) + '\n'))).toBeNull();
    expect(await parseFailureMail(Buffer.from(head + 'Content-Type: text/html\n\n' + '<'.repeat(900_000)))).toBeNull();
  });

  it('a subject full of spaces and letters', async () => {
    const mail = 'From: a@b.example\nSubject: DMARC fail IP' + ' '.repeat(200_000) + 'for ' + 'a'.repeat(100_000) + '\n\nSource IP: 192.0.2.4\nSender Domain: x.example\n';
    expect(await parseFailureMail(Buffer.from(mail))).toMatchObject({ plainText: true, sourceIp: '192.0.2.4', reportedDomain: 'x.example' });
  });

  it('hundreds of thousands of boundaries and deep nesting', async () => {
    expect(await parseFailureMail(Buffer.from('From: a@b.example\nContent-Type: multipart/mixed; boundary="a"\n\n' + '--a\n'.repeat(200_000)))).toBeNull();
    const nested = 'From: a@b.example\n' + Array.from({ length: 200 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`).join('');
    expect(await parseFailureMail(Buffer.from(nested))).toBeNull();
  });
});

describe('failureDedupKey', () => {
  it('is the same for the LF and CRLF copies of the linkedin report', async () => {
    const lf = await parsed('forensic', 'parsedmarc__dmarc_ruf_report_linkedin.eml');
    const crlf = await parsed('forensic', 'parsedmarc__dmarc_ruf_report_linkedin.crlf.eml');
    expect(failureDedupKey(lf)).toMatch(/^[0-9a-f]{64}$/);
    expect(failureDedupKey(crlf)).toBe(failureDedupKey(lf));
  });

  it('differs between the different forensic samples', async () => {
    const keys = new Set<string>();
    const files = emls('forensic').filter((f) => !f.endsWith('.crlf.eml'));
    for (const f of files) keys.add(failureDedupKey(await parsed('forensic', f)));
    expect(keys.size).toBe(files.length);
  });

  it('changes with the source IP, arrival date, domain and original message, not with letter case', async () => {
    const base = (await parseFailureMail(arfMail({ feedback: FEEDBACK })))!;
    const key = failureDedupKey(base);
    expect(failureDedupKey({ ...base, sourceIp: '192.0.2.8' })).not.toBe(key);
    expect(failureDedupKey({ ...base, arrivalDate: base.arrivalDate! + 1 })).not.toBe(key);
    expect(failureDedupKey({ ...base, reportedDomain: 'example.org' })).not.toBe(key);
    expect(failureDedupKey({ ...base, originalMessageId: '<other@example.com>' })).not.toBe(key);
    expect(failureDedupKey({ ...base, reportedDomain: 'EXAMPLE.com.', reporterEmail: base.reporterEmail!.toUpperCase() })).toBe(key);
    const noId = { ...base, originalMessageId: null };
    expect(failureDedupKey({ ...noId, originalSubject: 'Other' })).not.toBe(failureDedupKey(noId));
  });
});

describe('redactFailure', () => {
  it('removes the identity of the original message and leaves the rest', async () => {
    for (const f of emls('forensic')) {
      const r = await parsed('forensic', f);
      const before = structuredClone(r);
      const red = redactFailure(r);
      expect(red).toMatchObject({
        originalFrom: null,
        originalTo: null,
        originalSubject: null,
        originalMessageId: null,
        originalHeaders: null,
        originalMailFrom: null,
        originalRcptTo: null,
      });
      expect(red.sourceIp).toBe(r.sourceIp);
      expect(red.reportedDomain).toBe(r.reportedDomain);
      expect(red.arrivalDate).toBe(r.arrivalDate);
      expect(red.feedbackType).toBe(r.feedbackType);
      expect(Object.keys(red.fields)).not.toContain('original-mail-from');
      expect(Object.keys(red.fields)).not.toContain('original-rcpt-to');
      expect(Object.keys(red.fields)).not.toContain('message-id');
      expect(r).toEqual(before); // the input is not modified
    }
  });

  it('drops the identity-carrying fields of the feedback part', async () => {
    const red = redactFailure((await parsed('forensic', 'mail-auth__002.eml')));
    expect(red.fields['removal-recipient']).toBeUndefined();
    expect(red.fields['source-ip']).toEqual(['192.0.2.1']);
    expect(JSON.stringify(red)).not.toContain('somespammer@example.net'); // envelope sender, From of the original
  });
});
