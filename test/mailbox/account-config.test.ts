/** IMAP account settings from env and the config file: defaults, several accounts, every problem at once, no secrets. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FatalError } from '../../server/errors.ts';
import { describeAccount, loadPollSettings } from '../../server/mailbox/account-config.ts';
import { attemptKeyword, attemptsFromFlags, AttemptCounter } from '../../server/mailbox/attempts.ts';
import { backoffDelay } from '../../server/mailbox/backoff.ts';
import { batchMetas } from '../../server/mailbox/mailbox-pass.ts';
import { uidSet } from '../../server/mailbox/uid-set.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-imap-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).code).toBe('bad-config');
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('loadPollSettings', () => {
  it('one account from env with the documented defaults', () => {
    const s = loadPollSettings({}, { DMARC_LENS_IMAP_HOST: 'imap.example.com', DMARC_LENS_IMAP_USER: 'dmarc', DMARC_LENS_IMAP_PASSWORD: 'pw' });
    expect(s.accounts).toHaveLength(1);
    expect(s.accounts[0]).toMatchObject({
      name: 'dmarc@imap.example.com',
      host: 'imap.example.com',
      port: 993,
      tls: 'implicit',
      tlsVerify: true,
      password: 'pw',
      mailbox: 'INBOX',
      archive: 'Archive',
      invalid: 'Invalid',
      unsaved: 'Unsaved',
      deleteAfter: false,
    });
    expect(s.domains).toBeUndefined();
    expect(s.authservId).toBeNull();
  });

  it('env: starttls / plain ports, password file, tuning, domains and authserv-id', () => {
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, 's3cret\n');
    const s = loadPollSettings(
      {},
      {
        DMARC_LENS_IMAP_HOST: 'h',
        DMARC_LENS_IMAP_USER: 'u',
        DMARC_LENS_IMAP_PASSWORD_FILE: pwFile,
        DMARC_LENS_IMAP_TLS: 'starttls',
        DMARC_LENS_IMAP_TLS_VERIFY: 'false',
        DMARC_LENS_IMAP_MAX_ATTEMPTS: '3',
        DMARC_LENS_IMAP_BATCH: '7',
        DMARC_LENS_DOMAINS: 'Example.com, example.org.',
        DMARC_LENS_AUTHSERV_ID: 'mx.example.com',
      },
    );
    expect(s.accounts[0]).toMatchObject({ port: 143, tls: 'starttls', tlsVerify: false, password: 's3cret', maxAttempts: 3, batch: 7 });
    expect(s.domains).toEqual(['example.com', 'example.org']);
    expect(s.authservId).toBe('mx.example.com');
  });

  it('several accounts from the file next to the env one', () => {
    const s = loadPollSettings(
      {
        imap: [
          { name: 'a', host: 'h1', user: 'u1', password: 'p1', tls: false, archive: 'Reports/Done', deleteAfter: true },
          { name: 'b', host: 'h2', port: 10993, user: 'u2', password: 'p2', mailbox: 'DMARC' },
        ],
      },
      { DMARC_LENS_IMAP_HOST: 'h0', DMARC_LENS_IMAP_USER: 'u0', DMARC_LENS_IMAP_PASSWORD: 'p0', DMARC_LENS_IMAP_POLL_SECONDS: '30' },
    );
    expect(s.accounts.map((a) => a.name)).toEqual(['u0@h0', 'a', 'b']);
    expect(s.accounts[1]).toMatchObject({ tls: 'none', port: 143, archive: 'Reports/Done', deleteAfter: true, pollSeconds: 30 });
    expect(s.accounts[2]).toMatchObject({ port: 10993, mailbox: 'DMARC', pollSeconds: 30 });
  });

  it('lists every problem at once and never shows a password', () => {
    const message = problemsOf(() =>
      loadPollSettings(
        {
          imap: [
            { host: 'h', user: 'u', password: 'hunter2-secret', port: 'x', tls: 'maybe', archive: 'INBOX', colour: 'red' },
            { name: 'same', host: 'h', user: 'u', password: 'p', passwordFile: '/nope' },
            { name: 'same', host: 'h2', user: 'u2', passwordFile: join(dir, 'missing') },
            'not an object',
          ],
        },
        { DMARC_LENS_IMAP_USER: 'someone', DMARC_LENS_IMAP_PASSWORD: 'env-secret', DMARC_LENS_IMAP_BATCH: '0' },
      ),
    );
    for (const expected of [
      'host is missing',
      'port must be',
      'tls must be true, starttls or false',
      'archive folder must differ',
      'unknown setting "colour"',
      'either password or passwordFile',
      'cannot read password file',
      'used twice',
      'must be an object',
      'batch must be a whole number',
    ]) {
      expect(message).toContain(expected);
    }
    expect(message).not.toContain('hunter2-secret');
    expect(message).not.toContain('env-secret');
  });

  it('a password is taken as it is: spaces at either end are part of it; an empty one is a problem', () => {
    const env = { DMARC_LENS_IMAP_HOST: 'h', DMARC_LENS_IMAP_USER: 'u', DMARC_LENS_IMAP_PASSWORD: '  pass word \t' };
    expect(loadPollSettings({}, env).accounts[0]!.password).toBe('  pass word \t');
    expect(loadPollSettings({ imap: [{ host: 'h', user: 'u', password: ' p ' }] }, {}).accounts[0]!.password).toBe(' p ');
    const pwFile = join(dir, 'pw-spaces');
    writeFileSync(pwFile, ' s3cret \r\n');
    expect(loadPollSettings({ imap: [{ host: 'h', user: 'u', passwordFile: pwFile }] }, {}).accounts[0]!.password).toBe(' s3cret ');
    expect(problemsOf(() => loadPollSettings({ imap: [{ host: 'h', user: 'u', password: '' }] }, {}))).toContain('password is empty');
  });

  it('no account at all is a problem', () => {
    expect(problemsOf(() => loadPollSettings({}, {}))).toContain('no IMAP account configured');
  });

  it('describeAccount leaves the password out', () => {
    const s = loadPollSettings({}, { DMARC_LENS_IMAP_HOST: 'h', DMARC_LENS_IMAP_USER: 'u', DMARC_LENS_IMAP_PASSWORD: 'topsecret' });
    const text = describeAccount(s.accounts[0]!);
    expect(text).toContain('u at h:993');
    expect(text).not.toContain('topsecret');
  });
});

describe('small parts of the poller', () => {
  it('uidSet compresses runs', () => {
    expect(uidSet([7, 1, 2, 3, 9, 10, 12])).toBe('1:3,7,9:10,12');
    expect(uidSet([5])).toBe('5');
  });

  it('batchMetas: one entry per asked UID, whatever unsolicited or split FETCH rows came with the answer', () => {
    const seen = new Set(['\\Seen']);
    const rows = [
      { uid: 7, flags: new Set<string>(), size: 100 },
      { flags: seen }, // a flag change of some message, without UID
      { uid: 99, flags: seen }, // a message outside the batch
      { uid: 5, size: 50 },
      { uid: 5, flags: seen }, // the rest of 5's answer
      { uid: 7, flags: seen }, // 7's flags changed meanwhile
    ];
    expect(batchMetas([5, 6, 7], rows)).toEqual([
      { uid: 5, flags: seen, size: 50 },
      { uid: 7, flags: seen, size: 100 },
    ]);
  });

  it('backoff doubles from the initial wait up to the cap', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('attempt counts: keywords and memory', () => {
    expect(attemptsFromFlags(new Set(['\\Seen', attemptKeyword(2), '$dmarclensattempt4']))).toBe(4);
    expect(attemptsFromFlags(['\\Seen', '$DmarcLensAttemptX'])).toBe(0);
    const counter = new AttemptCounter();
    counter.set('INBOX', 1n, 5, 2);
    expect(counter.get('INBOX', 1n, 5)).toBe(2);
    expect(counter.get('INBOX', 2n, 5)).toBe(0); // another UIDVALIDITY: another message
    counter.clear('INBOX', 1n, 5);
    expect(counter.get('INBOX', 1n, 5)).toBe(0);
  });
});
