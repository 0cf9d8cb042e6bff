/**
 * The long-running poller against a real Dovecot: IDLE picks up new mail, a server restart mid-run is survived,
 * a database that is unavailable leaves the mail in place (counted with an attempt keyword) until it is back,
 * and after N failed attempts a mail goes to Unsaved. All waits are bounded polls of the store or the server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { poll, type PollOptions, type PollSummary } from '../../server/mailbox/poller.ts';
import type { MessageResult } from '../../server/mailbox/process-message.ts';
import { openStore } from '../../server/store/open-store.ts';
import { appendMails, dovecotAvailable, folderCounts, folderFlags, startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { aggregateXml, garbageMails, generatedReportMails, reportMail } from '../helpers/mail-fixtures.ts';
import { folders, pollSettings, refusingDb, snapshot, removeTempDbs, tempDbUrl, waitFor, type AccountOverrides } from './poll-harness.ts';

const available = dovecotAvailable('mailbox: long-running poller');

const FAST_BACKOFF = { initialMs: 100, maxMs: 800 };

/** Starts the long-running poller; `stop()` aborts it (like SIGTERM) and resolves with its summary. */
function startPoller(d: Dovecot, db: string, o: AccountOverrides, extra: Partial<PollOptions> = {}) {
  const controller = new AbortController();
  const results: MessageResult[] = [];
  const logs: string[] = [];
  const running = poll({
    settings: pollSettings(d, o),
    db,
    limits: DEFAULT_LIMITS,
    once: false,
    signal: controller.signal,
    backoff: FAST_BACKOFF,
    onResult: (r) => results.push(r),
    log: (line) => logs.push(line),
    ...extra,
  });
  return {
    results,
    logs,
    running,
    stop: async (): Promise<PollSummary> => {
      controller.abort();
      return await running;
    },
  };
}

async function storedReportIds(db: string): Promise<Set<string>> {
  const store = await openStore(db);
  try {
    return new Set((await snapshot(store)).aggregates.map((k) => k.split('|')[1] ?? ''));
  } finally {
    await store.close();
  }
}

describe.skipIf(!available)('long-running poller against Dovecot', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    await dovecot?.stop();
    removeTempDbs();
  });

  it('IDLE: a mail appended while the poller runs is processed', async () => {
    const f = folders('Idle');
    const db = tempDbUrl('poll-idle');
    await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('idle-before'), 'before.xml')]);
    const poller = startPoller(dovecot, db, f);
    try {
      await waitFor('the first mail to be archived', async () => poller.results.length === 1);
      expect(poller.logs.join('\n')).not.toContain(dovecot.pass);
      // the poller is now waiting in IDLE; a new mail must wake it
      await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('idle-after'), 'after.xml')]);
      await waitFor('the appended report in the store', async () => (await storedReportIds(db)).has('idle-after'));
      await waitFor('INBOX to be empty', async () => (await folderCounts(dovecot, [f.mailbox]))[f.mailbox] === 0);
    } finally {
      const summary = await poller.stop();
      expect(summary.failed).toEqual([]);
    }
    expect(poller.results.map((r) => r.outcome)).toEqual(['archived', 'archived']);
    expect(await folderCounts(dovecot, [f.mailbox, f.archive])).toEqual({ [f.mailbox]: 0, [f.archive]: 2 });
  });

  it('keepalive: IDLE ended by a NOOP and started again, many times over, keeps the one connection working', async () => {
    const f = folders('Keepalive');
    const db = tempDbUrl('poll-keepalive');
    await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('keepalive-before'), 'before.xml')]);
    // IDLE restarted every 100 ms instead of every 4 minutes
    const poller = startPoller(dovecot, db, f, { timings: { idleRestartMs: 100 } });
    try {
      await waitFor('the first mail to be archived', async () => poller.results.length === 1);
      // a couple of seconds of restarts: a fixed wait for the cycle to run, not a timing assertion
      await new Promise((r) => setTimeout(r, 2000));
      await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('keepalive-after'), 'after.xml')]);
      await waitFor('the appended report in the store', async () => (await storedReportIds(db)).has('keepalive-after'));
    } finally {
      expect((await poller.stop()).failed).toEqual([]);
    }
    // the same connection all along: no drop, no reconnect
    expect(poller.logs.filter((l) => / connected, /.test(l))).toHaveLength(1);
    expect(poller.logs.filter((l) => /reconnecting|failed/.test(l))).toEqual([]);
    expect(poller.results.map((r) => r.outcome)).toEqual(['archived', 'archived']);
  });

  it('an old server without IDLE, MOVE or UIDPLUS: the poller polls every N seconds and moves by COPY + EXPUNGE', async () => {
    const legacy = await startDovecot({ legacy: true });
    try {
      const f = folders('Legacy');
      const db = tempDbUrl('poll-legacy');
      await appendMails(legacy, f.mailbox, [await reportMail(aggregateXml('legacy-before'), 'before.xml'), ...(await garbageMails()).slice(0, 1).map((m) => m.bytes)]);
      const poller = startPoller(legacy, db, { ...f, pollSeconds: 1 });
      try {
        await waitFor('the first mails to be processed', async () => poller.results.length === 2);
        expect(poller.logs.join('\n')).toContain('no IDLE, polling every 1 s');
        await appendMails(legacy, f.mailbox, [await reportMail(aggregateXml('legacy-after'), 'after.xml')]);
        await waitFor('the appended report in the store', async () => (await storedReportIds(db)).has('legacy-after'));
        await waitFor('the mailbox to be empty', async () => (await folderCounts(legacy, [f.mailbox]))[f.mailbox] === 0);
      } finally {
        await poller.stop();
      }
      expect(poller.results.map((r) => r.outcome)).toEqual(['archived', 'invalid', 'archived']);
      expect(await folderCounts(legacy, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: 2, [f.invalid]: 1, [f.unsaved]: 0 });
    } finally {
      await legacy.stop();
    }
  });

  it('the server stopped mid-run and restarted: the poller reconnects and finishes, nothing lost', async () => {
    const f = folders('Restart');
    const db = tempDbUrl('poll-restart');
    const mails = await generatedReportMails(300, 'restart');
    await appendMails(dovecot, f.mailbox, mails.map((m) => m.bytes));
    let stopping: Promise<void> | null = null;
    // the server goes down the moment the first message is through (not after a wait the poller could outrun)
    const poller = startPoller(dovecot, db, { ...f, batch: 10 }, {
      onResult: (r) => {
        poller.results.push(r);
        stopping ??= dovecot.stopServer();
      },
    });
    try {
      await waitFor('the server to be stopped', async () => stopping !== null, 30_000, 5);
      await stopping;
      const before = poller.results.length;
      await dovecot.restart(); // first, so that a failed expectation here does not leave the later tests without a server
      expect(before).toBeLessThan(mails.length);
      await waitFor('all mails to be archived', async () => (await folderCounts(dovecot, [f.mailbox]))[f.mailbox] === 0, 60_000, 200);
      expect(poller.logs.some((l) => /reconnecting/.test(l))).toBe(true);
    } finally {
      await poller.stop();
    }
    const ids = await storedReportIds(db);
    expect(ids.size).toBe(mails.length);
    expect(await folderCounts(dovecot, [f.mailbox, f.archive])).toEqual({ [f.mailbox]: 0, [f.archive]: mails.length });
  });

  it('database unavailable: mails stay in INBOX (no attempt counted, however long) and are processed once it is back', async () => {
    const f = folders('DbDown');
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-dbdown-'));
    // a file where the database directory should be: opening fails even for root
    const blocker = join(dir, 'blocked');
    writeFileSync(blocker, 'not a directory');
    const db = `sqlite:${join(blocker, 'reports.db')}`;
    const mails = await generatedReportMails(5, 'dbdown');
    await appendMails(dovecot, f.mailbox, mails.map((m) => m.bytes));
    // more failed passes than maxAttempts: an outage must not push mail to Unsaved
    const poller = startPoller(dovecot, db, { ...f, maxAttempts: 2 });
    try {
      await waitFor('four failed passes', async () => poller.results.length >= 4);
      const flags = await folderFlags(dovecot, f.mailbox);
      expect(flags.size).toBe(mails.length);
      for (const set of flags.values()) expect([...set].filter((k) => k.startsWith('$DmarcLens'))).toEqual([]);
      expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: mails.length, [f.archive]: 0, [f.invalid]: 0, [f.unsaved]: 0 });
      expect(poller.results.every((r) => r.outcome === 'left' && r.error && r.attempts === 0)).toBe(true);

      // the database comes back
      rmSync(blocker);
      mkdirSync(blocker);
      await waitFor('INBOX to be empty', async () => (await folderCounts(dovecot, [f.mailbox]))[f.mailbox] === 0, 20_000, 100);
    } finally {
      await poller.stop();
    }
    expect(await storedReportIds(db)).toEqual(new Set(mails.map((m) => m.name)));
    const archived = await folderFlags(dovecot, f.archive);
    expect(archived.size).toBe(mails.length);
    // the attempt keyword is removed before archiving
    for (const set of archived.values()) expect([...set].filter((k) => k.startsWith('$DmarcLens'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('after N failed attempts (counted across restarts on the message) a mail goes to Unsaved', async () => {
    const f = folders('Unsaved');
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-unsaved-'));
    // a database that opens, but refuses these reports: a failure of the mail, not an outage
    const db = await refusingDb(join(dir, 'reports.db'), 'unsaved-%');
    await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('unsaved-1'), 'u1.xml'), await reportMail(aggregateXml('unsaved-2'), 'u2.xml')]);
    const outcomes: string[] = [];
    for (let run = 1; run <= 3; run++) {
      // each run is a fresh poller (as after a restart): only the keyword on the message carries the count
      const results: MessageResult[] = [];
      const summary = await poll({ settings: pollSettings(dovecot, { ...f, maxAttempts: 3 }), db, limits: DEFAULT_LIMITS, once: true, onResult: (r) => results.push(r) });
      expect(summary.storeFailed).toEqual(['test']);
      // the run stops at the first failure: the second mail is not charged an attempt
      expect(results).toHaveLength(1);
      outcomes.push(`${results[0]!.outcome}:${results[0]!.attempts}`);
      if (run < 3) {
        const flags = [...(await folderFlags(dovecot, f.mailbox)).values()];
        expect(flags[0]).toContain(`$DmarcLensAttempt${run}`);
        expect(flags[1] ? [...flags[1]].filter((k) => k.startsWith('$DmarcLens')) : []).toEqual([]);
      }
    }
    expect(outcomes).toEqual(['left:1', 'left:2', 'unsaved:3']);
    expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 1, [f.archive]: 0, [f.invalid]: 0, [f.unsaved]: 1 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a stop request (SIGTERM) lets the current message finish and be moved, then the poller exits', async () => {
    const f = folders('Stop');
    const db = tempDbUrl('poll-stop');
    const mails = await generatedReportMails(200, 'stop');
    await appendMails(dovecot, f.mailbox, mails.map((m) => m.bytes));
    const poller = startPoller(dovecot, db, { ...f, batch: 25 });
    await waitFor('the first results', async () => poller.results.length > 0, 30_000, 5);
    const summary = await poller.stop();
    const counts = await folderCounts(dovecot, [f.mailbox, f.archive]);
    // every message the poller reported is archived, the rest are untouched, and the store holds exactly those
    expect(counts[f.archive]).toBe(summary.messages);
    expect(counts[f.mailbox]).toBe(mails.length - summary.messages);
    expect((await storedReportIds(db)).size).toBe(summary.messages);
  });
});
