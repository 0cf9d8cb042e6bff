/**
 * Crash safety of `dmarc-lens poll --once`, run as a child process against a real Dovecot: SIGKILL at random
 * moments over many runs, then one clean run. The store must end up equal to a clean run's store (nothing lost,
 * nothing counted twice) and the polled mailbox empty, every mail in exactly one of Archive / Invalid.
 * Also the rest of what only the real command shows: exit statuses, SIGTERM/SIGINT, `--config FILE` with several
 * accounts, `--json` lines, and `export reports` on what was polled.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/open-store.ts';
import { appendMails, dovecotAvailable, folderCounts, startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { aggregateXml, attachmentMails, emlSamples, garbageMails, generatedReportMails, reportMail, type MailFixture } from '../helpers/mail-fixtures.ts';
import { folders, pollEnv, snapshot, removeTempDbs, tempDbUrl, type StoreSnapshot } from './poll-harness.ts';

const available = dovecotAvailable('mailbox: SIGKILL crash safety');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 12;
/** mails added beyond the samples, so the killed rounds have work left to be killed in */
const EXTRA_MAILS = 200;

/** `poll` through the real command */
function pollCommand(): string[] {
  return ['bin/dmarc-lens.js', 'poll'];
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

/** Another dmarc-lens command (export…), through the real CLI. */
function runCli(env: Record<string, string>, args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/dmarc-lens.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
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

  it.each(['SIGTERM', 'SIGINT'] as const)('the long-running command stops cleanly on %s: the current batch is moved, exit status 0', async (signal) => {
    const f = folders(`Term-${signal}`);
    const db = tempDbUrl('term');
    const mails = await generatedReportMails(100, `term-${signal}`);
    await appendMails(dovecot, f.mailbox, mails.map((m) => m.bytes));
    const run = await runPoll({ ...pollEnv(dovecot, { ...f, batch: 5 }), DMARC_LENS_DB: db }, ['--json'], { after: 'first-line', ms: 0, signal });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`${signal}: finishing the current message`);
    const reported = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { outcome: string });
    expect(reported.length).toBeGreaterThan(0);
    const counts = await folderCounts(dovecot, [f.mailbox, f.archive]);
    // every reported message was moved before the exit; nothing else was
    expect(counts[f.archive]).toBe(reported.length);
    expect(counts[f.mailbox]).toBe(mails.length - reported.length);
    expect((await storeSnapshot(db)).aggregates.length).toBe(reported.length);
  });

  it('--config FILE: several accounts (password or passwordFile), certificates verified, then export reports shows how each report came', async () => {
    const a = folders('CfgA');
    const b = folders('CfgB');
    const db = tempDbUrl('config');
    const dir = dirname(db.slice('sqlite:'.length));
    const ar = ['Authentication-Results', 'mx.mine.test; dkim=pass header.d=reporter.test header.s=s1; spf=pass smtp.mailfrom=reporter.test; dmarc=pass header.from=reporter.test'] as [string, string];
    await appendMails(dovecot, a.mailbox, [await reportMail(aggregateXml('cfg-a'), 'a.xml', { seq: 1, headers: [ar] })]);
    await appendMails(dovecot, b.mailbox, [await reportMail(aggregateXml('cfg-b'), 'b.xml', { seq: 2 }), await reportMail(aggregateXml('cfg-foreign', 'example.net'), 'f.xml', { seq: 3, headers: [ar] })]);
    writeFileSync(join(dir, 'imap-password'), `${dovecot.pass}\n`, { mode: 0o600 });
    const account = (name: string, f: ReturnType<typeof folders>) => ({ name, host: dovecot.host, port: dovecot.tlsPort, user: dovecot.user, ...f });
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ db, domains: ['example.com'], authservId: 'mx.mine.test', imap: [{ ...account('first', a), password: dovecot.pass }, { ...account('second', b), passwordFile: join(dir, 'imap-password') }] }),
    );
    // tlsVerify is left at its default (true): the test server's self-signed certificate is made trusted for this process
    const env = { NODE_EXTRA_CA_CERTS: join(dovecot.dir, 'cert.pem') };
    const run = await runPoll(env, ['--once', '--json', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr + run.stdout).not.toContain(dovecot.pass);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { account: string; outcome: string; reports: number });
    expect(lines.map((l) => `${l.account}:${l.outcome}:${l.reports}`).sort()).toEqual(['first:archived:1', 'second:archived:1', 'second:invalid:0']);
    expect(await folderCounts(dovecot, [a.mailbox, a.archive, b.mailbox, b.archive, b.invalid])).toEqual({ [a.mailbox]: 0, [a.archive]: 1, [b.mailbox]: 0, [b.archive]: 1, [b.invalid]: 1 });

    const exported = await runCli({}, ['export', 'reports', '--config', config]);
    expect(exported.code, exported.stderr).toBe(0);
    const reports = JSON.parse(exported.stdout) as { report_metadata: { report_id: string; mail_auth: Record<string, unknown> | null; policy_domain_configured: boolean | null } }[];
    const byId = new Map(reports.map((r) => [r.report_metadata.report_id, r.report_metadata]));
    expect([...byId.keys()].sort()).toEqual(['cfg-a', 'cfg-b']);
    expect(byId.get('cfg-a')).toMatchObject({ policy_domain_configured: true, mail_auth: { authserv_id: 'mx.mine.test', dkim: 'pass', dkim_domain: 'reporter.test', dmarc: 'pass', from_domain: 'reporter.test', authenticated: true } });
    expect(byId.get('cfg-b')).toMatchObject({ policy_domain_configured: true, mail_auth: { authserv_id: null, from_domain: 'reporter.test', authenticated: false } });
  });

  it('database unavailable: --once --json reports the mail as left, it stays in the mailbox, exit status 75', async () => {
    const f = folders('CliDbDown');
    const db = tempDbUrl('cli-dbdown');
    const blocker = join(dirname(db.slice('sqlite:'.length)), 'blocked');
    writeFileSync(blocker, 'a file where the database directory should be');
    await appendMails(dovecot, f.mailbox, [await reportMail(aggregateXml('cli-left-1'), 'l1.xml', { seq: 1 }), await reportMail(aggregateXml('cli-left-2'), 'l2.xml', { seq: 2 })]);
    const run = await runPoll({ ...pollEnv(dovecot, f), DMARC_LENS_DB: `sqlite:${join(blocker, 'x.db')}` }, ['--once', '--json']);
    expect(run.code, run.stderr).toBe(75);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // the run stops at the first failure: the database is down for the next mail too
    expect(lines).toHaveLength(1);
    // the database cannot be opened at all: an outage, so no attempt is counted against the mail
    expect(lines[0]).toMatchObject({ account: 'test', uid: expect.any(Number), outcome: 'left', reports: 0, attempts: 0, error: expect.stringContaining('cannot open database') });
    expect(run.stderr).toContain('run again later');
    expect(await folderCounts(dovecot, Object.values(f))).toEqual({ [f.mailbox]: 2, [f.archive]: 0, [f.invalid]: 0, [f.unsaved]: 0 });
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
