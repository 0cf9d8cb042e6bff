/**
 * Crash safety of `dmarc-lens poll --once`, run as a child process against a real Dovecot: SIGKILL at random
 * moments over many runs, then one clean run. The store must end up equal to a clean run's store (nothing lost,
 * nothing counted twice) and the polled mailbox empty, every mail in exactly one of Archive / Invalid.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/open-store.ts';
import { appendMails, dovecotAvailable, folderCounts, startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { attachmentMails, emlSamples, garbageMails, generatedReportMails, type MailFixture } from '../helpers/mail-fixtures.ts';
import { folders, pollEnv, snapshot, removeTempDbs, tempDbUrl, type StoreSnapshot } from './poll-harness.ts';

const available = dovecotAvailable('mailbox: SIGKILL crash safety');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 12;
/** mails added beyond the samples, so the killed rounds have work left to be killed in */
const EXTRA_MAILS = 200;

/** `poll` through the real CLI once server/cli.ts registers it; until then through test/mailbox/poll-child.ts. */
function pollCommand(): string[] {
  const cliHasPoll = readFileSync(`${ROOT}server/cli.ts`, 'utf8').includes('registerPollCommand');
  return cliHasPoll ? ['bin/dmarc-lens.js', 'poll'] : ['--import', 'tsx', 'test/mailbox/poll-child.ts', 'poll'];
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** When to signal the child: `ms` after it started, or `ms` after its first line of output (mid-run). */
type Kill = { after: 'start' | 'first-line'; ms: number; signal?: NodeJS.Signals };

function runPoll(env: Record<string, string>, args: string[], kill?: Kill): Promise<ChildRun & { firstLineMs: number | null; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...pollCommand(), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let firstLineMs: number | null = null;
    let timer: NodeJS.Timeout | null = null;
    const arm = () => (timer = setTimeout(() => child.kill(kill?.signal ?? 'SIGKILL'), kill?.ms ?? 0));
    if (kill?.after === 'start') arm();
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (firstLineMs === null) {
        firstLineMs = Date.now() - started;
        if (kill?.after === 'first-line') arm();
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, firstLineMs, ms: Date.now() - started });
    });
  });
}

describe.skipIf(!available)('poll --once killed with SIGKILL at random moments', () => {
  let dovecot: Dovecot;
  let corpus: MailFixture[];

  beforeAll(async () => {
    dovecot = await startDovecot();
    corpus = [...emlSamples(), ...(await attachmentMails()), ...(await garbageMails()), ...(await generatedReportMails(EXTRA_MAILS, 'kill'))];
  });
  afterAll(async () => {
    await dovecot?.stop();
    removeTempDbs();
  });

  async function storeSnapshot(db: string): Promise<StoreSnapshot> {
    const store = await openStore(db);
    try {
      return await snapshot(store);
    } finally {
      await store.close();
    }
  }

  it('configuration problems are listed at once, without the password, exit status 2', async () => {
    const run = await runPoll({ DMARC_LENS_IMAP_HOST: dovecot.host, DMARC_LENS_IMAP_PASSWORD: 'do-not-print-me', DMARC_LENS_IMAP_TLS: 'sometimes', DMARC_LENS_DB: tempDbUrl('bad-config') }, ['--once']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('user is missing');
    expect(run.stderr).toContain('tls must be true, starttls or false');
    expect(run.stderr + run.stdout).not.toContain('do-not-print-me');
  });

  it('the long-running command stops cleanly on SIGTERM: the current batch is moved, exit status 0', async () => {
    const f = folders('Term');
    const db = tempDbUrl('term');
    const mails = await generatedReportMails(100, 'term');
    await appendMails(dovecot, f.mailbox, mails.map((m) => m.bytes));
    const run = await runPoll({ ...pollEnv(dovecot, { ...f, batch: 5 }), DMARC_LENS_DB: db }, ['--json'], { after: 'first-line', ms: 0, signal: 'SIGTERM' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('SIGTERM');
    const reported = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { outcome: string });
    expect(reported.length).toBeGreaterThan(0);
    const counts = await folderCounts(dovecot, [f.mailbox, f.archive]);
    // every reported message was moved before the exit; nothing else was
    expect(counts[f.archive]).toBe(reported.length);
    expect(counts[f.mailbox]).toBe(mails.length - reported.length);
    expect((await storeSnapshot(db)).aggregates.length).toBe(reported.length);
  });

  it('the store after many killed runs and a final clean run equals a clean run\'s store; INBOX ends empty', async () => {
    // the clean reference: one uninterrupted run
    const clean = folders('Clean');
    const cleanDb = tempDbUrl('kill-clean');
    await appendMails(dovecot, clean.mailbox, corpus.map((m) => m.bytes));
    const reference = await runPoll({ ...pollEnv(dovecot, clean), DMARC_LENS_DB: cleanDb }, ['--once', '--json']);
    expect(reference.stderr).not.toContain(dovecot.pass);
    expect(reference.code).toBe(0);
    const lines = reference.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(corpus.length);
    for (const line of lines) {
      expect(line).toMatchObject({ account: 'test', uid: expect.any(Number), reports: expect.any(Number), events: expect.any(Array) });
      expect(['archived', 'invalid']).toContain(line.outcome);
    }
    const cleanSnapshot = await storeSnapshot(cleanDb);
    const cleanCounts = await folderCounts(dovecot, Object.values(clean));
    expect(cleanCounts[clean.mailbox]).toBe(0);

    // the same mails, processed by runs killed at random moments
    const killed = folders('Killed');
    const db = tempDbUrl('kill');
    const env = { ...pollEnv(dovecot, { ...killed, batch: 7 }), DMARC_LENS_DB: db };
    await appendMails(dovecot, killed.mailbox, corpus.map((m) => m.bytes));
    // two kinds of rounds: killed a random time after start (start-up, connecting, the first batch), and killed a
    // random time after the first output (between a store commit and a MOVE, inside a later batch…)
    const firstLine = reference.firstLineMs ?? 1000;
    const rounds: string[] = [];
    let killedMidRun = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const kill: Kill = round % 3 === 0 ? { after: 'start', ms: Math.floor(firstLine * (0.3 + 0.7 * Math.random())) } : { after: 'first-line', ms: Math.floor(Math.random() * 100) };
      const run = await runPoll(env, ['--once', '--json'], kill);
      const processed = run.stdout.split('\n').filter(Boolean).length;
      if (run.signal === 'SIGKILL' && processed > 0) killedMidRun++;
      rounds.push(`${kill.after}+${kill.ms}ms:${run.signal ?? run.code}:${processed}`);
    }
    const final = await runPoll(env, ['--once', '--json']);
    expect(final.code, `${final.stderr}\nrounds: ${rounds.join(' ')}`).toBe(0);
    // the rounds must really have been killed, most of them in the middle of processing
    expect(rounds.filter((r) => r.includes('SIGKILL')).length, rounds.join(' ')).toBeGreaterThan(ROUNDS / 2);
    expect(killedMidRun, rounds.join(' ')).toBeGreaterThanOrEqual(ROUNDS / 3);

    expect(await storeSnapshot(db)).toEqual(cleanSnapshot);
    const counts = await folderCounts(dovecot, Object.values(killed));
    expect({ inbox: counts[killed.mailbox], archive: counts[killed.archive], invalid: counts[killed.invalid], unsaved: counts[killed.unsaved] }).toEqual({
      inbox: 0,
      archive: cleanCounts[clean.archive],
      invalid: cleanCounts[clean.invalid],
      unsaved: 0,
    });
  }, 240_000);
});
