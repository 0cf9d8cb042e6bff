/**
 * Anyone can mail a rua address: hostile mails against the real poller and a real Dovecot. Huge attachments,
 * thousands of parts, deep nesting, broken MIME, binary junk, a compression bomb, header fields built to make
 * parsers backtrack — none of them may crash or stall the poller: each one ends in Invalid with its reason in the
 * quarantine, and the report mail queued behind them is still archived. Size limits apply before a mail is read.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../../server/ingest/limits.ts';
import { poll } from '../../server/mailbox/poller.ts';
import type { MessageResult } from '../../server/mailbox/process-message.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { QuarantineRow } from '../../server/store/report-store.ts';
import { appendMails, dovecotAvailable, folderCounts, startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { aggregateXml, asImapServes, reportMail } from '../helpers/mail-fixtures.ts';
import { folders, pollSettings, removeTempDbs, snapshot, tempDbUrl } from './poll-harness.ts';

const available = dovecotAvailable('mailbox: hostile mail');

const HEAD = 'From: someone@evil.test\r\nTo: rua@example.com\r\nSubject: hostile\r\nMessage-ID: <hostile@evil.test>\r\nMIME-Version: 1.0\r\n';

/** base64 in 76-character lines, as mail carries it */
function base64Lines(bytes: Buffer): string {
  return bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** Hostile mails by name; none holds a usable report. */
function hostileMails(): Record<string, Buffer> {
  const manyParts = Array.from({ length: 5000 }, (_, i) => `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="a${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n`).join('');
  const depth = 3000;
  let nested = HEAD + 'Content-Type: multipart/mixed; boundary="n0"\r\n\r\n';
  for (let i = 1; i < depth; i++) nested += `--n${i - 1}\r\nContent-Type: multipart/mixed; boundary="n${i}"\r\n\r\n`;
  nested += `--n${depth - 1}\r\nContent-Type: text/plain\r\n\r\nhi\r\n`;
  for (let i = depth - 1; i >= 0; i--) nested += `--n${i}--\r\n`;
  return {
    'huge attachment (20 MB)': Buffer.from(HEAD + 'Content-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64Lines(randomBytes(20 * 1024 * 1024)) + '\r\n'),
    '5,000 attachments': Buffer.from(HEAD + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + manyParts + '--b--\r\n'),
    '3,000 nested multiparts': Buffer.from(nested),
    '2,000 nested message/rfc822': Buffer.from((HEAD + 'Content-Type: message/rfc822\r\n\r\n').repeat(2000) + HEAD + 'Content-Type: text/plain\r\n\r\nhi\r\n'),
    'multipart without a boundary': Buffer.from(HEAD + 'Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/xml\r\n\r\n<feedback>\r\n'),
    'broken base64 gzip': Buffer.from(HEAD + 'Content-Type: application/gzip; name=r.xml.gz\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!####$$$$%%%%\r\n'),
    'gzip bomb (64 MiB of one byte)': Buffer.from(HEAD + 'Content-Type: application/gzip; name=r.xml.gz\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64Lines(gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x41), { level: 9 })) + '\r\n'),
    'a 3 MB header line': Buffer.from('X-Long: ' + 'a'.repeat(3_000_000) + '\r\n' + HEAD + '\r\nbody\r\n'),
    '200,000 header fields': Buffer.from('X-A: b\r\n'.repeat(200_000) + HEAD + '\r\nbody\r\n'),
    'no header, no structure': Buffer.from('garbage without any header structure ' + 'z'.repeat(100_000)),
    'random binary (2 MB)': randomBytes(2_000_000),
    // each of these took a quadratic regex about a minute (the first) or tens of seconds before the fix
    'Authentication-Results without "="': Buffer.from('Authentication-Results: mx.example.com; ' + 'x'.repeat(250_000) + '\r\n' + HEAD + '\r\nbody\r\n'),
    'From domain of 200,000 dots': Buffer.from(HEAD.replace('From: someone@evil.test', `From: someone@${'.'.repeat(200_000)}x`) + '\r\nbody\r\n'),
  };
}

describe.skipIf(!available)('hostile mail against the poller', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    await dovecot?.stop();
    removeTempDbs();
  });

  async function runOnce(db: string, f: ReturnType<typeof folders>, limits: Limits = DEFAULT_LIMITS): Promise<MessageResult[]> {
    const results: MessageResult[] = [];
    const summary = await poll({ settings: pollSettings(dovecot, f), db, limits, once: true, onResult: (r) => results.push(r) });
    expect(summary.failed).toEqual([]);
    expect(summary.storeFailed).toEqual([]);
    return results.sort((a, b) => a.uid - b.uid);
  }

  async function quarantineRows(db: string): Promise<{ rows: QuarantineRow[]; bytes: Map<number, Buffer | null> }> {
    const store = await openStore(db);
    try {
      const rows: QuarantineRow[] = [];
      for await (const q of store.listQuarantine({})) rows.push(q);
      const bytes = new Map<number, Buffer | null>();
      for (const q of rows) bytes.set(q.id, await store.getQuarantineBytes(q.id));
      return { rows, bytes };
    } finally {
      await store.close();
    }
  }

  it('every hostile mail ends in Invalid with a reason, and the report mail behind them is archived', async () => {
    const f = folders('Hostile');
    const db = tempDbUrl('poll-hostile');
    const hostile = hostileMails();
    const names = Object.keys(hostile);
    await appendMails(dovecot, f.mailbox, [...Object.values(hostile), await reportMail(aggregateXml('after-the-hostile-mails'), 'after.xml')]);

    const results = await runOnce(db, f);

    expect(results).toHaveLength(names.length + 1);
    const outcomes = results.map((r, i) => ({ mail: names[i] ?? 'the report mail', outcome: r.outcome }));
    expect(outcomes).toEqual([...names.map((mail) => ({ mail, outcome: 'invalid' })), { mail: 'the report mail', outcome: 'archived' }]);
    for (const r of results.slice(0, names.length)) {
      expect(r.events.length).toBeGreaterThan(0);
      for (const e of r.events) expect({ outcome: e.outcome, reason: typeof e.reason }).toEqual({ outcome: 'quarantined', reason: 'string' });
    }
    expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: 1, [f.invalid]: names.length, [f.unsaved]: 0 });
    const store = await openStore(db);
    try {
      expect((await snapshot(store)).aggregates.map((k) => k.split('|')[1])).toEqual(['after-the-hostile-mails']);
    } finally {
      await store.close();
    }
  });

  it('a mail larger than maxInputBytes is not read whole: its first maxQuarantineBytes are quarantined as too-large', async () => {
    const f = folders('TooLarge');
    const db = tempDbUrl('poll-too-large');
    const limits = resolveLimits({ maxInputBytes: 200_000, maxQuarantineBytes: 50_000 });
    // a real report, padded with a large second attachment so the mail is over the limit
    const big = await reportMail(Buffer.concat([aggregateXml('too-large'), Buffer.from(`<!-- ${'p'.repeat(400_000)} -->`)]), 'big.xml', { seq: 1 });
    expect(big.length).toBeGreaterThan(limits.maxInputBytes);
    await appendMails(dovecot, f.mailbox, [big, await reportMail(aggregateXml('small-enough'), 'small.xml', { seq: 2 })]);

    const results = await runOnce(db, f, limits);

    expect(results.map((r) => r.outcome)).toEqual(['invalid', 'archived']);
    expect(results[0]!.events).toHaveLength(1);
    expect(results[0]!.events[0]).toMatchObject({ outcome: 'quarantined', reason: 'too-large' });
    const { rows, bytes } = await quarantineRows(db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ code: 'too-large', truncated: true, input: expect.stringMatching(/^imap:\/\/test\/TooLarge\/\d+\/\d+$/) });
    // exactly the first maxQuarantineBytes of the mail as the server holds it
    expect(bytes.get(rows[0]!.id)).toEqual(asImapServes(big).subarray(0, limits.maxQuarantineBytes));
    expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: 1, [f.invalid]: 1, [f.unsaved]: 0 });
  });
});
