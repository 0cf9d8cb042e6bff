/** Authentication-Results → MailAuthVerdict, table-tested (pure: no server). */
import { describe, expect, it } from 'vitest';
import type { MailAuthVerdict } from '../../server/domain/report-types.ts';
import { aligned, fromHeaderDomain, mailAuthVerdict, parseAuthenticationResults } from '../../server/mailbox/mail-auth.ts';
import { readHeaderFields } from '../../server/mailbox/mail-headers.ts';

function mail(headers: string[], body = 'body'): Buffer {
  return Buffer.from(headers.join('\r\n') + '\r\n\r\n' + body);
}

function verdict(headers: string[], authservId?: string): MailAuthVerdict {
  return mailAuthVerdict(readHeaderFields(mail(headers)), { authservId });
}

const GOOGLE = [
  'Authentication-Results: mx.example.com;',
  '       dkim=pass header.i=@google.com header.s=20230601 header.b=AbCd;',
  '       spf=pass (mx.example.com: domain of noreply-dmarc-support@google.com designates 209.85.220.69 as permitted sender) smtp.mailfrom=noreply-dmarc-support@google.com;',
  '       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=google.com',
  'From: noreply-dmarc-support@google.com',
];

interface Case {
  name: string;
  headers: string[];
  authservId?: string;
  expect: Partial<MailAuthVerdict>;
}

const CASES: Case[] = [
  {
    name: 'Google report, everything passes (folded header, comments)',
    headers: GOOGLE,
    expect: { authservId: 'mx.example.com', dkim: 'pass', dkimDomain: 'google.com', spf: 'pass', spfDomain: 'google.com', dmarc: 'pass', fromDomain: 'google.com', authenticated: true },
  },
  {
    name: 'no Authentication-Results header at all',
    headers: ['From: "DMARC" <dmarc@reporter.test>', 'Subject: x'],
    expect: { authservId: null, dkim: null, spf: null, dmarc: null, fromDomain: 'reporter.test', authenticated: false },
  },
  {
    name: 'aligned DKIM pass on a subdomain without a dmarc result (relaxed alignment via the organizational domain)',
    headers: ['Authentication-Results: mx.test; dkim=pass header.d=mail.yahoo.com; spf=none smtp.mailfrom=bounce.other.test', 'From: Yahoo <noreply@yahoo.com>'],
    expect: { dkim: 'pass', dkimDomain: 'mail.yahoo.com', spf: 'none', dmarc: null, fromDomain: 'yahoo.com', authenticated: true },
  },
  {
    name: 'DKIM pass for an unrelated domain, SPF fail: not authenticated',
    headers: ['Authentication-Results: mx.test; dkim=pass header.d=sendgrid.net; spf=fail smtp.mailfrom=evil.test; dmarc=fail header.from=google.com', 'From: google.com <noreply-dmarc-support@google.com>'],
    expect: { dkim: 'pass', dkimDomain: 'sendgrid.net', spf: 'fail', dmarc: 'fail', fromDomain: 'google.com', authenticated: false },
  },
  {
    name: 'aligned SPF pass (mail from the same organizational domain) authenticates',
    headers: ['Authentication-Results: mx.test; spf=pass smtp.mailfrom=bounces.reporter.co.uk; dkim=none', 'From: reports@reporter.co.uk'],
    expect: { spf: 'pass', spfDomain: 'bounces.reporter.co.uk', dkim: 'none', authenticated: true },
  },
  {
    name: 'public-suffix siblings are not aligned (a.co.uk vs b.co.uk)',
    headers: ['Authentication-Results: mx.test; spf=pass smtp.mailfrom=a.co.uk', 'From: x@b.co.uk'],
    expect: { spf: 'pass', authenticated: false },
  },
  {
    name: 'several DKIM signatures: the aligned pass is chosen over a failing one and an unaligned pass',
    headers: [
      'Authentication-Results: mx.test; dkim=fail header.d=reporter.test; dkim=pass header.d=esp.test; dkim=pass header.d=reporter.test header.s=s2',
      'From: dmarc@reporter.test',
    ],
    expect: { dkim: 'pass', dkimDomain: 'reporter.test', authenticated: true },
  },
  {
    name: 'topmost header is trusted when no authserv-id is configured (a forged lower header is ignored)',
    headers: [
      'Authentication-Results: mx.mine.test; dkim=fail header.d=google.com; dmarc=fail header.from=google.com',
      'Authentication-Results: forged.test; dkim=pass header.d=google.com; dmarc=pass header.from=google.com',
      'From: noreply@google.com',
    ],
    expect: { authservId: 'mx.mine.test', dkim: 'fail', dmarc: 'fail', authenticated: false },
  },
  {
    name: 'configured authserv-id: a forged topmost header of another id is ignored',
    authservId: 'MX.MINE.TEST',
    headers: [
      'Authentication-Results: forged.test; dkim=pass header.d=google.com; dmarc=pass header.from=google.com',
      'Authentication-Results: mx.mine.test 1; dkim=fail header.d=google.com; spf=softfail smtp.mailfrom=google.com; dmarc=fail header.from=google.com',
      'From: noreply@google.com',
    ],
    expect: { authservId: 'mx.mine.test', dkim: 'fail', spf: 'softfail', dmarc: 'fail', authenticated: false },
  },
  {
    name: 'configured authserv-id absent from the mail: nothing is trusted',
    authservId: 'mx.mine.test',
    headers: ['Authentication-Results: someone.test; dmarc=pass header.from=google.com', 'From: noreply@google.com'],
    expect: { authservId: null, dmarc: null, dkim: null, fromDomain: 'google.com', authenticated: false },
  },
  {
    name: '"none" result header',
    headers: ['Authentication-Results: mx.test; none', 'From: a@b.test'],
    expect: { authservId: 'mx.test', dkim: null, spf: null, dmarc: null, authenticated: false },
  },
  {
    name: 'ARC-Authentication-Results is not Authentication-Results',
    headers: ['ARC-Authentication-Results: i=1; mx.google.com; dmarc=pass header.from=google.com', 'From: noreply@google.com'],
    expect: { authservId: null, dmarc: null, authenticated: false },
  },
  {
    name: 'upper-case results, quoted property values, method versions, reason=',
    headers: ['Authentication-Results: mx.test; DKIM/1=PASS reason="good sig; really" header.d="Reporter.Test"; DMARC=Pass', 'From: <dmarc@REPORTER.test>'],
    expect: { dkim: 'pass', dkimDomain: 'reporter.test', dmarc: 'pass', fromDomain: 'reporter.test', authenticated: true },
  },
  {
    name: 'SPF with only smtp.helo, From with a display name containing @ and a comma',
    headers: ['Authentication-Results: mx.test; spf=pass smtp.helo=mta1.reporter.test', 'From: "reports@other, Inc" <dmarc@reporter.test>'],
    expect: { spf: 'pass', spfDomain: 'mta1.reporter.test', fromDomain: 'reporter.test', authenticated: true },
  },
  {
    name: 'nested comments are removed, not parsed as results',
    headers: ['Authentication-Results: mx.test (a (nested dkim=pass) comment); dkim=fail (bad (sig)) header.d=reporter.test', 'From: x@reporter.test'],
    expect: { authservId: 'mx.test', dkim: 'fail', authenticated: false },
  },
  {
    name: 'mbox "From " line before the headers',
    headers: ['From MAILER-DAEMON Thu Jan  1 00:00:00 2026', 'Authentication-Results: mx.test; dmarc=pass header.from=reporter.test', 'From: x@reporter.test'],
    expect: { authservId: 'mx.test', dmarc: 'pass', fromDomain: 'reporter.test', authenticated: true },
  },
];

describe('mailAuthVerdict', () => {
  for (const c of CASES) {
    it(c.name, () => {
      expect(verdict(c.headers, c.authservId)).toMatchObject(c.expect);
    });
  }

  it('headers in the body are not read', () => {
    const raw = Buffer.from('From: a@reporter.test\r\n\r\nAuthentication-Results: mx.test; dmarc=pass\r\n');
    expect(mailAuthVerdict(readHeaderFields(raw))).toMatchObject({ authservId: null, authenticated: false, fromDomain: 'reporter.test' });
  });
});

describe('parts', () => {
  it('parseAuthenticationResults keeps each method with its properties', () => {
    const parsed = parseAuthenticationResults('mx.test; dkim=pass header.d=a.test header.s=s1; spf=pass smtp.mailfrom=b@c.test');
    expect(parsed).toEqual({
      authservId: 'mx.test',
      results: [
        { method: 'dkim', result: 'pass', props: { 'header.d': 'a.test', 'header.s': 's1' } },
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'b@c.test' } },
      ],
    });
    expect(parseAuthenticationResults('   ')).toBeNull();
  });

  it('fromHeaderDomain', () => {
    expect(fromHeaderDomain('Name <User@Example.COM>')).toBe('example.com');
    expect(fromHeaderDomain('user@example.com')).toBe('example.com');
    expect(fromHeaderDomain('undisclosed-recipients:;')).toBeNull();
    expect(fromHeaderDomain(null)).toBeNull();
  });

  it('aligned uses the organizational domain', () => {
    expect(aligned('mail.google.com', 'google.com')).toBe(true);
    expect(aligned('google.com.evil.test', 'google.com')).toBe(false);
    expect(aligned(null, 'google.com')).toBe(false);
    expect(aligned('localhost', 'localhost')).toBe(true);
  });

  // Anyone can mail a rua address. These headers made the old regexes quadratic: 30 s to well over a minute
  // each on a fast machine; now a few milliseconds. The generous deadline below only catches that difference.
  it('header fields of 250 KB built to make a parser backtrack are read in linear time', () => {
    const run = 250_000;
    const hostile = [
      ['Authentication-Results: mx.test; ' + 'x'.repeat(run), 'From: a@reporter.test'],
      ['Authentication-Results: mx.test; dkim=pass header.d=a' + '.'.repeat(run) + 'b', 'From: a@reporter.test'],
      ['From: a@' + '.'.repeat(run) + 'b'],
      ['Authentication-Results: mx.test; ' + '"x'.repeat(run / 2), 'From: a@reporter.test'],
    ];
    for (const headers of hostile) {
      const v = verdict(headers);
      expect(v.authenticated).toBe(false);
      expect(v.dkimDomain).toBeNull(); // no 250 KB "domain" either
    }
    // still exact on the real thing after the change
    expect(verdict(['Authentication-Results: mx.test; dkim=pass header.d=a' + '.'.repeat(run) + 'b', 'From: a@reporter.test']).dkim).toBe('pass');
  }, 30_000);

  it('a key right after a quoted value is still read; a domain longer than 253 characters is none', () => {
    expect(parseAuthenticationResults('mx.test; dkim=pass reason="ok"header.d=a.test')?.results[0]?.props).toEqual({ reason: 'ok', 'header.d': 'a.test' });
    expect(fromHeaderDomain(`a@${'a'.repeat(250)}.test`)).toBeNull();
    expect(fromHeaderDomain(`a@${'a'.repeat(240)}.test`)).toBe(`${'a'.repeat(240)}.test`);
    expect(fromHeaderDomain('<a@Reporter.Test.>')).toBe('reporter.test');
  });

  it('folded header lines are joined and the header block ends at the first empty line', () => {
    const fields = readHeaderFields(Buffer.from('A: one\r\n two\r\n\tthree\r\nB: x\r\n\r\nC: body'));
    expect(fields).toEqual([
      { name: 'a', value: 'one two three' },
      { name: 'b', value: 'x' },
    ]);
  });
});
