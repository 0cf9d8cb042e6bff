/**
 * `poll --once` against a real Dovecot: every sample mail (the .eml samples as they are, and mails built around
 * the sample report files) goes through the poller into SQLite. Reports land in the store exactly as a direct
 * ingest of the same mails stores them; mails with reports go to Archive, the rest to Invalid with their bytes
 * quarantined; nothing stays in INBOX; a second run stores nothing new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { loadPollSettings } from '../../server/mailbox/account-config.ts';
import { poll } from '../../server/mailbox/poller.ts';
import type { MessageResult } from '../../server/mailbox/process-message.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { ReportStore } from '../../server/store/report-store.ts';
import { appendMails, dovecotAvailable, folderCounts, folderFlags, startDovecot, testClient, type Dovecot } from '../helpers/dovecot.ts';
import { aggregateXml, attachmentMails, emlSamples, garbageMails, generatedReportMails, reportMail, type MailFixture } from '../helpers/mail-fixtures.ts';
import { expectedAggregates } from '../helpers/samples.ts';
import { folders, pollEnv, pollSettings, referenceIngest, refusingDb, snapshot, removeTempDbs, tempDbUrl, type AccountOverrides, type StoreSnapshot } from './poll-harness.ts';

const available = dovecotAvailable('mailbox: poll --once');

describe.skipIf(!available)('poll --once against Dovecot', () => {
  let dovecot: Dovecot;
  let corpus: MailFixture[];
  let reference: Awaited<ReturnType<typeof referenceIngest>>;

  beforeAll(async () => {
    dovecot = await startDovecot();
    corpus = [...emlSamples(), ...(await attachmentMails()), ...(await garbageMails())];
    reference = await referenceIngest(corpus);
  });
  afterAll(async () => {
    await dovecot?.stop();
    removeTempDbs();
  });

  async function runOnce(db: string, o: AccountOverrides): Promise<MessageResult[]> {
    const results: MessageResult[] = [];
    const summary = await poll({ settings: pollSettings(dovecot, o), db, limits: DEFAULT_LIMITS, once: true, onResult: (r) => results.push(r) });
    expect(summary.failed).toEqual([]);
    expect(summary.storeFailed).toEqual([]);
    return results.sort((a, b) => a.uid - b.uid);
  }

  async function withStore<T>(db: string, fn: (s: ReportStore) => Promise<T>): Promise<T> {
    const store = await openStore(db);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  describe('the whole sample corpus, twice', () => {
    const f = folders('Corpus');
    const db = tempDbUrl('poll-once');
    let first: MessageResult[];
    let firstSnapshot: StoreSnapshot;

    it('stores every report, archives mails with reports, sends the rest to Invalid, leaves INBOX empty', async () => {
      await appendMails(dovecot, f.mailbox, corpus.map((m) => m.bytes));
      first = await runOnce(db, f);

      expect(first).toHaveLength(corpus.length);
      expect(reference.archived.filter((a) => !a).length).toBeGreaterThanOrEqual(3); // the garbage mails at least
      first.forEach((r, i) => {
        const name = corpus[i]!.name;
        expect({ name, outcome: r.outcome }).toEqual({ name, outcome: reference.archived[i] ? 'archived' : 'invalid' });
        expect(r.events.length).toBe(reference.events[i]!.length);
      });
      const archived = reference.archived.filter(Boolean).length;
      expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: archived, [f.invalid]: corpus.length - archived, [f.unsaved]: 0 });

      firstSnapshot = await withStore(db, snapshot);
      expect(firstSnapshot).toEqual(reference.snapshot);
      expect(firstSnapshot.aggregates.length + firstSnapshot.failures.length + firstSnapshot.tls.length).toBeGreaterThan(50);
    });

    it('every recoverable aggregate report of the mailed samples is in the store (ground truth)', async () => {
      const mailed = new Set(corpus.map((m) => m.name));
      const expected = expectedAggregates().filter((e) => mailed.has(e.file));
      expect(expected.length).toBeGreaterThan(40);
      const stored = new Set(firstSnapshot.aggregates.map((k) => k.split('|')[1]));
      const missing = expected.filter((e) => !stored.has(e.report_id)).map((e) => `${e.file}: ${e.report_id}`);
      expect(missing).toEqual([]);
    });

    it('invalid mails are quarantined with a reason and their IMAP origin', async () => {
      const rows = await withStore(db, async (s) => {
        const out = [];
        for await (const q of s.listQuarantine({})) out.push(q);
        return out;
      });
      const invalid = first.filter((r) => r.outcome === 'invalid');
      for (const r of invalid) {
        expect(r.events.length).toBeGreaterThan(0);
        for (const e of r.events) {
          expect(e.outcome).toBe('quarantined');
          expect(e.reason).toBeTruthy();
          const row = rows.find((q) => q.id === e.id);
          expect(row?.input).toMatch(new RegExp(`^imap://test/${f.mailbox}/\\d+/${r.uid}$`));
        }
      }
    });

    it('a second run over the same mails stores nothing new and still empties INBOX', async () => {
      await appendMails(dovecot, f.mailbox, corpus.map((m) => m.bytes));
      const second = await runOnce(db, f);
      expect(second).toHaveLength(corpus.length);
      for (const r of second) {
        for (const e of r.events) expect(e.outcome).not.toBe('stored');
      }
      expect(second.map((r) => r.outcome)).toEqual(first.map((r) => r.outcome));
      expect(await withStore(db, snapshot)).toEqual(firstSnapshot);
      const archived = reference.archived.filter(Boolean).length;
      expect(await folderCounts(dovecot, [f.mailbox, f.archive])).toEqual({ [f.mailbox]: 0, [f.archive]: 2 * archived });
    });
  });

  it('DMARC_LENS_DOMAINS: reports for other domains are quarantined as foreign-domain and their mails go to Invalid', async () => {
    const f = folders('Foreign');
    const db = tempDbUrl('poll-foreign');
    const mails = [
      await reportMail(aggregateXml('mine-1', 'example.com'), 'mine-1.xml', { seq: 1 }),
      await reportMail(aggregateXml('mine-2', 'mail.example.com'), 'mine-2.xml', { seq: 2 }),
      await reportMail(aggregateXml('theirs-1', 'example.net'), 'theirs-1.xml', { seq: 3 }),
      await reportMail(aggregateXml('theirs-2', 'notexample.com'), 'theirs-2.xml', { seq: 4 }),
    ];
    await appendMails(dovecot, f.mailbox, mails);
    const results = await runOnce(db, { ...f, domains: 'example.com' });
    expect(results.map((r) => r.outcome)).toEqual(['archived', 'archived', 'invalid', 'invalid']);
    expect(results[2]!.events[0]).toMatchObject({ outcome: 'quarantined', reason: 'foreign-domain' });
    const snap = await withStore(db, snapshot);
    expect(snap.aggregates.map((k) => k.split('|')[1])).toEqual(['mine-1', 'mine-2']);
    expect(snap.quarantine.filter((q) => q.endsWith('|foreign-domain'))).toHaveLength(2);
    expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: 2, [f.invalid]: 2, [f.unsaved]: 0 });
  });

  it('records the Authentication-Results verdict of each report mail with the report', async () => {
    const f = folders('Auth');
    const db = tempDbUrl('poll-auth');
    const ar = (id: string, dkim: string, dmarc: string) => ['Authentication-Results', `${id}; dkim=${dkim} header.d=reporter.test header.s=s1; spf=none smtp.mailfrom=reporter.test; dmarc=${dmarc} header.from=reporter.test`] as [string, string];
    const mails = [
      // genuine: our server says pass
      await reportMail(aggregateXml('auth-pass'), 'auth-pass.xml', { seq: 1, headers: [ar('mx.mine.test', 'pass', 'pass')] }),
      // forged: a "pass" header from elsewhere on top of our server's fail
      await reportMail(aggregateXml('auth-forged'), 'auth-forged.xml', { seq: 2, headers: [ar('evil.test', 'pass', 'pass'), ar('mx.mine.test', 'fail', 'fail')] }),
      // no header at all
      await reportMail(aggregateXml('auth-none'), 'auth-none.xml', { seq: 3 }),
    ];
    await appendMails(dovecot, f.mailbox, mails);
    await runOnce(db, { ...f, authservId: 'mx.mine.test' });
    const byId = await withStore(db, async (s) => {
      const out = new Map<string, unknown>();
      for await (const a of s.listAggregates({})) out.set(a.header.reportId, a.origin.mailAuth ?? null);
      return out;
    });
    expect(byId.get('auth-pass')).toMatchObject({ authservId: 'mx.mine.test', dkim: 'pass', dkimDomain: 'reporter.test', dmarc: 'pass', fromDomain: 'reporter.test', authenticated: true });
    expect(byId.get('auth-forged')).toMatchObject({ authservId: 'mx.mine.test', dkim: 'fail', dmarc: 'fail', authenticated: false });
    expect(byId.get('auth-none')).toMatchObject({ authservId: null, dkim: null, fromDomain: 'reporter.test', authenticated: false });
  });

  it('several accounts from the config file are polled side by side into one store', async () => {
    const a = folders('MultiA');
    const b = folders('MultiB');
    const db = tempDbUrl('poll-multi');
    await appendMails(dovecot, a.mailbox, [await reportMail(aggregateXml('multi-a'), 'a.xml')]);
    await appendMails(dovecot, b.mailbox, [await reportMail(aggregateXml('multi-b'), 'b.xml'), await reportMail(aggregateXml('multi-a'), 'a-again.xml', { seq: 9 })]);
    const account = (name: string, f: ReturnType<typeof folders>) => ({ name, host: dovecot.host, port: dovecot.tlsPort, tls: true, tlsVerify: false, user: dovecot.user, password: dovecot.pass, ...f });
    const settings = loadPollSettings({ imap: [account('first', a), account('second', b)] }, {});
    const results: MessageResult[] = [];
    const summary = await poll({ settings, db, limits: DEFAULT_LIMITS, once: true, onResult: (r) => results.push(r) });
    expect(summary).toMatchObject({ messages: 3, outcomes: { archived: 3 }, failed: [], storeFailed: [] });
    // the accounts run side by side, so either one may store multi-a first; the other then finds it a duplicate
    expect(results.map((r) => r.events[0]?.outcome).sort()).toEqual(['duplicate', 'stored', 'stored']);
    expect(results.filter((r) => r.account === 'second')).toHaveLength(2);
    expect(results.filter((r) => r.account === 'first')).toHaveLength(1);
    expect((await withStore(db, snapshot)).aggregates.map((k) => k.split('|')[1])).toEqual(['multi-a', 'multi-b']);
  });

  it('plain and STARTTLS connections; delete-after instead of archiving', async () => {
    for (const tls of ['false', 'starttls'] as const) {
      const f = folders(`Del-${tls}`);
      const db = tempDbUrl('poll-delete');
      await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml(`del-${tls}`), 'del.xml'), ...(await garbageMails()).slice(0, 1).map((m) => m.bytes)]);
      const results = await runOnce(db, { ...f, tls, deleteAfter: true });
      expect(results.map((r) => r.outcome)).toEqual(['archived', 'invalid']);
      expect(await folderCounts(dovecot, [f.mailbox, f.archive, f.invalid])).toEqual({ [f.mailbox]: 0, [f.archive]: 0, [f.invalid]: 1 });
      expect((await withStore(db, snapshot)).aggregates).toHaveLength(1);
    }
  });
  it('another client changing flags in the mailbox all along (unsolicited FETCH responses) neither stalls the poller nor doubles a message', async () => {
    const f = folders('Churn');
    const db = tempDbUrl('poll-churn');
    const mails = await generatedReportMails(200, 'churn');
    await appendMails(dovecot, f.mailbox, mails.map((m) => m.bytes));
    // someone's mail client on the same mailbox: marks everything read / unread, keyword on, keyword off…
    const other = await testClient(dovecot);
    await other.mailboxOpen(f.mailbox);
    let stop = false;
    let stores = 0;
    const churn = (async () => {
      for (let n = 0; !stop && other.usable; n++) {
        const flag = n % 2 === 0 ? '\\Seen' : `$Churn${n % 3}`;
        await (n % 4 < 2 ? other.messageFlagsAdd('1:*', [flag], { silent: true }) : other.messageFlagsRemove('1:*', [flag], { silent: true })).catch(() => false);
        stores++;
        // let timers run between commands (a failing command settles without giving them a turn)
        await new Promise((r) => setTimeout(r, other.mailbox && other.mailbox.exists === 0 ? 20 : 0));
      }
    })();
    const results: MessageResult[] = [];
    const logs: string[] = [];
    let summary;
    try {
      // short backoff: were a reconnect to happen (the failure this test is about), the run would end soon, not in a minute
      summary = await poll({ settings: pollSettings(dovecot, { ...f, batch: 10 }), db, limits: DEFAULT_LIMITS, once: true, backoff: { initialMs: 20, maxMs: 50 }, onResult: (r) => results.push(r), log: (l) => logs.push(l) });
    } finally {
      stop = true;
      await churn;
      await other.logout();
    }
    expect(stores).toBeGreaterThan(0);
    expect(summary.failed).toEqual([]);
    expect(logs.filter((l) => l.includes('reconnecting'))).toEqual([]);
    expect(results).toHaveLength(mails.length);
    expect(new Set(results.map((r) => r.uid)).size).toBe(mails.length);
    expect(results.every((r) => r.outcome === 'archived' && r.events[0]?.outcome === 'stored')).toBe(true);
    expect((await withStore(db, snapshot)).aggregates).toHaveLength(mails.length);
    expect(await folderCounts(dovecot, [f.mailbox, f.archive])).toEqual({ [f.mailbox]: 0, [f.archive]: mails.length });
  });

  it('TLS_VERIFY defaults to true: an untrusted certificate (implicit TLS and STARTTLS) ends the run at once with what to do', async () => {
    for (const tls of ['true', 'starttls'] as const) {
      const f = folders(`Verify-${tls}`);
      await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml(`verify-${tls}`), 'v.xml')]);
      const env = pollEnv(dovecot, { ...f, tls });
      delete env.DMARC_LENS_IMAP_TLS_VERIFY;
      const settings = loadPollSettings({}, env);
      expect(settings.accounts[0]!.tlsVerify).toBe(true);
      const logs: string[] = [];
      const summary = await poll({ settings, db: tempDbUrl('poll-verify'), limits: DEFAULT_LIMITS, once: true, backoff: { initialMs: 10, maxMs: 20 }, log: (l) => logs.push(l) });
      expect(summary.messages).toBe(0);
      expect(summary.failed).toHaveLength(1);
      expect(summary.failed[0]!.error).toMatch(/TLS certificate of 127\.0\.0\.1:\d+ is not trusted: self-signed certificate/);
      expect(summary.failed[0]!.error).toContain('DMARC_LENS_IMAP_TLS_VERIFY=false');
      // one try, not a round of reconnects: a certificate does not become trusted by trying again
      expect(logs.filter((l) => l.includes('reconnecting'))).toEqual([]);
      expect(await folderCounts(dovecot, [f.mailbox])).toEqual({ [f.mailbox]: 1 });
    }
  });

  it('a message already flagged \\Deleted (a delete or move cut short by a kill, or someone\'s deletion) is ingested, then expunged', async () => {
    for (const deleteAfter of [false, true]) {
      const f = folders(`Flagged-${deleteAfter}`);
      const db = tempDbUrl('poll-flagged');
      await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml(`flagged-${deleteAfter}`), 'flagged.xml', { seq: 1 }), (await garbageMails())[0]!.bytes], ['\\Deleted']);
      await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml(`plain-${deleteAfter}`), 'plain.xml', { seq: 2 })]);
      const results = await runOnce(db, { ...f, deleteAfter });
      expect(results.map((r) => r.outcome)).toEqual(['archived', 'invalid', 'archived']);
      expect((await withStore(db, snapshot)).aggregates.map((k) => k.split('|')[1])).toEqual([`flagged-${deleteAfter}`, `plain-${deleteAfter}`]);
      expect((await withStore(db, snapshot)).quarantine).toHaveLength(1);
      // the flagged ones are expunged as they were marked to be; the other one is archived (or deleted)
      expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: deleteAfter ? 0 : 1, [f.invalid]: 0, [f.unsaved]: 0 });
    }
  });

  it('a flagged \\Deleted mail that runs out of attempts goes to Unsaved without the flag (no EXPUNGE takes it there)', async () => {
    const f = folders('FlaggedUnsaved');
    // a database that opens but refuses this report: a failure of the mail, counted as an attempt
    const db = await refusingDb(tempDbUrl('poll-flagged-unsaved').slice('sqlite:'.length), 'flagged-unsaved');
    await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('flagged-unsaved'), 'f.xml', { seq: 1 })], ['\\Deleted']);
    const results: MessageResult[] = [];
    await poll({ settings: pollSettings(dovecot, { ...f, maxAttempts: 1 }), db, limits: DEFAULT_LIMITS, once: true, onResult: (r) => results.push(r) });
    expect(results.map((r) => r.outcome)).toEqual(['unsaved']);
    expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 0, [f.archive]: 0, [f.invalid]: 0, [f.unsaved]: 1 });
    const flags = [...(await folderFlags(dovecot, f.unsaved)).values()];
    expect(flags).toHaveLength(1);
    expect([...flags[0]!]).not.toContain('\\Deleted');
  });

  it('a server without UIDPLUS: the EXPUNGE of a move does not take a flagged report mail away unread', async () => {
    const legacy = await startDovecot({ legacy: true });
    try {
      const f = folders('FlaggedLegacy');
      const db = tempDbUrl('poll-flagged-legacy');
      // UID order: the plain mail first, the flagged one after it (in a later batch)
      await appendMails(legacy, f.mailbox, [await reportMail(aggregateXml('legacy-plain'), 'plain.xml', { seq: 1 })]);
      await appendMails(legacy, f.mailbox, [await reportMail(aggregateXml('legacy-flagged'), 'flagged.xml', { seq: 2 })], ['\\Deleted']);
      const results: MessageResult[] = [];
      const summary = await poll({ settings: pollSettings(legacy, { ...f, batch: 1 }), db, limits: DEFAULT_LIMITS, once: true, onResult: (r) => results.push(r) });
      expect(summary.failed).toEqual([]);
      expect(results.map((r) => r.outcome)).toEqual(['archived', 'archived']);
      expect((await withStore(db, snapshot)).aggregates.map((k) => k.split('|')[1])).toEqual(['legacy-flagged', 'legacy-plain']);
      expect(await folderCounts(legacy, [f.mailbox, f.archive])).toEqual({ [f.mailbox]: 0, [f.archive]: 1 });
    } finally {
      await legacy.stop();
    }
  });

  it('a missing mailbox ends the account with a clear error instead of retrying', async () => {
    const missing = await poll({ settings: pollSettings(dovecot, { mailbox: 'NoSuchFolder' }), db: tempDbUrl('poll-missing'), limits: DEFAULT_LIMITS, once: true });
    expect(missing.failed).toHaveLength(1);
    expect(missing.failed[0]!.error).toContain('cannot open mailbox "NoSuchFolder"');
  });

  // last in this file: after a failed login Dovecot slows down further logins from the same address for a while
  it('a refused login ends the account with a clear error that does not show the password', async () => {
    const wrong = loadPollSettings({}, { ...pollEnv(dovecot), DMARC_LENS_IMAP_PASSWORD: 'wrong-password-123' });
    const refused = await poll({ settings: wrong, db: tempDbUrl('poll-refused'), limits: DEFAULT_LIMITS, once: true });
    expect(refused.failed).toHaveLength(1);
    expect(refused.failed[0]!.error).toContain('refused the login');
    expect(refused.failed[0]!.error).not.toContain('wrong-password-123');
  });
});
