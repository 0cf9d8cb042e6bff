/**
 * Issue 4's scenario, end to end through the commands a user runs: the real sample reports plus crafted reports
 * for acme-corp.com where the verdict of every source is known are ingested, `dmarc-lens enrich` looks their
 * sources up on a loopback DNS server, and `export sources`, `export selectors`, `readiness` and `check --db`
 * report what a postmaster needs. Commands run in-process (their register functions with captured output);
 * two runs of the real binary prove the wiring of server/cli.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedSourceIps } from '../../server/analytics/enrich-stored.ts';
import { checkCommandDeps } from '../../server/analytics/check-wiring.ts';
import { registerCheckCommand } from '../../server/commands/check.ts';
import { registerEnrichCommand } from '../../server/commands/enrich.ts';
import { registerExportCommand } from '../../server/commands/export.ts';
import { registerReadinessCommand } from '../../server/commands/readiness.ts';
import type { DomainCheck } from '../../server/dns/check-types.ts';
import { bufferSource, fileSource } from '../../server/ingest/input-sources.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { ingestInput } from '../../server/ingest/pipeline.ts';
import { createCheckHistoryStore } from '../../server/store/check-history-store.ts';
import { openDatabase } from '../../server/store/database.ts';
import { startFakeDns, txt, mx, a, type FakeDns } from '../helpers/fake-dns.ts';
import { startPtrDns, type PtrDns } from '../helpers/ptr-dns.ts';
import { SAMPLES_DIR } from '../helpers/samples.ts';
import { KEYS } from '../fixtures/dns/zone.ts';
import { DOMAIN, EXPECTED, PTR_ZONE, scenarioReports } from './scenario-fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/dmarc-lens.js', import.meta.url));

let dir: string;
let db: string;
let ptr: PtrDns;
let storedMessages = 0;

interface Run {
  out: string;
  err: string;
  exitCode: number | null;
}

/** runs one sub-command in-process with captured output */
async function run(register: (p: Command, out: PassThrough, err: { write(s: string): boolean; isTTY?: boolean }) => void, args: string[]): Promise<Run> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  let err = '';
  const errStream = { write: (s: string) => ((err += s), true) };
  const program = new Command('dmarc-lens').exitOverride().configureOutput({ writeOut: (s) => void (err += s), writeErr: (s) => void (err += s) });
  register(program, out, errStream);
  let exitCode: number | null = null;
  const saved = process.exitCode;
  try {
    await program.parseAsync(args, { from: 'user' });
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { out: Buffer.concat(chunks).toString('utf8'), err, exitCode };
}

const env = { DMARC_LENS_DB: '', DMARC_LENS_CONFIG: '' };
const exportCmd = (args: string[]) => run((p, out) => registerExportCommand(p, { stdout: out }), ['export', ...args, '--db', db]);
const readinessCmd = (args: string[]) => run((p, out) => registerReadinessCommand(p, { stdout: out }), ['readiness', ...args, '--db', db]);
const enrichCmd = (args: string[]) => run((p, out, err) => registerEnrichCommand(p, { stdout: out, stderr: err, env }), ['enrich', '--db', db, '--resolver', ptr.address, '--timeout', '400', ...args]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-scenario-'));
  db = `sqlite:${join(dir, 'scenario.db')}`;
  const database = await openDatabase(db);
  try {
    for (const kind of ['aggregate', 'forensic', 'smtp_tls']) {
      for (const f of readdirSync(join(SAMPLES_DIR, kind)).sort()) await ingestInput(fileSource(join(SAMPLES_DIR, kind, f)), { store: database.reports, limits: DEFAULT_LIMITS });
    }
    for (const r of scenarioReports()) {
      const [event] = await ingestInput(bufferSource(r.name, r.bytes), { store: database.reports, limits: DEFAULT_LIMITS });
      expect(event?.outcome).toBe('stored');
    }
    for await (const report of database.reports.listAggregates({})) for (const rec of report.records) storedMessages += rec.count > 0 ? rec.count : 0;
  } finally {
    await database.close();
  }
  ptr = await startPtrDns(PTR_ZONE);
}, 120_000);

afterAll(async () => {
  await ptr?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('scenario: samples + acme-corp.com, enriched on a loopback DNS server', () => {
  it('enrich looks up every stored source IP once, then serves them from the cache (and --force looks again)', async () => {
    const database = await openDatabase(db);
    const ips: string[] = [];
    try {
      for await (const ip of storedSourceIps(database)) ips.push(ip);
    } finally {
      await database.close();
    }
    expect(ips.length).toBeGreaterThan(100);
    expect(new Set(ips).size).toBe(ips.length);
    const first = await enrichCmd(['--json', '--concurrency', '16']);
    expect(first.exitCode).toBe(0);
    const s1 = JSON.parse(first.out) as { done: number; lookedUp: number; fromCache: number; peakConcurrency: number; errorsByKind: Record<string, number> };
    expect(s1).toMatchObject({ done: ips.length, lookedUp: ips.length, fromCache: 0 });
    expect(s1.peakConcurrency).toBeLessThanOrEqual(16);
    expect(s1.errorsByKind.nxdomain).toBe(3);
    const queries = ptr.total();
    const second = await enrichCmd(['--json']);
    expect(JSON.parse(second.out)).toMatchObject({ done: ips.length, lookedUp: 0, fromCache: ips.length });
    expect(ptr.total()).toBe(queries);
    const forced = await enrichCmd(['--force']);
    expect(forced.out).toMatch(new RegExp(`^${ips.length} source IP\\(s\\): 0 fresh in the cache, ${ips.length} looked up, 3 without a PTR name \\(nxdomain 3\\)`));
    expect(ptr.total()).toBeGreaterThan(queries);
    // a bad resolver is a usage error, not a crash
    const bad = await run((p, out, err) => registerEnrichCommand(p, { stdout: out, stderr: err, env }), ['enrich', '--db', db, '--resolver', 'not-an-ip']);
    expect(bad.exitCode).toBe(2);
    expect(bad.err).toMatch(/resolver "not-an-ip"/);
  });

  it('export sources: every crafted source has the verdict, service, reverse DNS and fix it should', async () => {
    const r = await exportCmd(['sources', '--domain', DOMAIN]);
    expect(r.exitCode).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    for (const [ip, want] of Object.entries(EXPECTED)) {
      const row = rows.find((x) => x.ip === ip);
      expect(row, ip).toBeDefined();
      expect({ ip, classification: row!.classification }).toEqual({ ip, classification: want.verdict });
      if (want.service) expect(row!.service).toBe(want.service);
      if (want.ptr !== undefined) expect(row!.reverse_dns).toBe(want.ptr);
      if (want.fix === null) expect(row!.fix).toBeNull();
      else if (want.fix) expect(row!.fix).toMatch(want.fix);
      expect(row!.likely_spoofing).toBe(want.spoofing === true);
      expect(row!.dmarc_pass as number + (row!.dmarc_fail as number)).toBe(row!.messages);
    }
    expect(rows.find((x) => x.ip === '192.0.2.20')).toMatchObject({ base_domain: 'sendgrid.net', forward_confirmed: true, service_type: 'esp-transactional', dkim_domain: 'sendgrid.net', dkim_aligned_pass: 0, spf_aligned_pass: 120 });
    expect(rows.find((x) => x.ip === '192.0.2.12')).toMatchObject({ classification: 'spf-only', reverse_dns: null });
    // the compliant server: both selectors, one row per key signature
    expect(rows.filter((x) => x.ip === '192.0.2.10').map((x) => [x.dkim_selector, x.messages])).toEqual([['2024q3acme', 800], ['2024q1acme', 200]]);

    // the same rows as RFC 4180 CSV, over a date range (September only)
    const csv = await exportCmd(['sources', '--domain', DOMAIN, '--format', 'csv', '--from', '2024-09-01', '--to', '2024-09-30']);
    const table = parseCsv(csv.out, { columns: true }) as Record<string, string>[];
    expect(Object.keys(table[0]!)).toEqual(expect.arrayContaining(['ip', 'reverse_dns', 'base_domain', 'asn', 'as_org', 'country', 'service', 'service_type', 'messages', 'dmarc_pass', 'dmarc_fail', 'dkim_aligned_pass', 'spf_aligned_pass', 'classification', 'fix']));
    expect(csv.out).toContain('\r\n');
    expect(table.find((x) => x.ip === '192.0.2.10')).toMatchObject({ messages: '500', classification: 'compliant' });
    expect(table.reduce((s, x) => s + Number(x.messages), 0)).toBe(890);
    // the CSV's columns are the JSON row's, in order
    expect(Object.keys(table[0]!)).toEqual(Object.keys(rows[0]!));

    // no rows: still the header (a spreadsheet or a script sees the columns)
    for (const kind of ['sources', 'selectors']) {
      const none = await exportCmd([kind, '--domain', 'no-reports.example', '--format', 'csv']);
      expect(none.exitCode).toBe(0);
      expect(none.out.split('\r\n')[0]).toMatch(kind === 'sources' ? /^domain,ip,reverse_dns,/ : /^domain,signing_domain,selector,/);
      expect(none.out.split('\r\n').filter(Boolean)).toHaveLength(1);
    }
    const selectors = JSON.parse((await exportCmd(['selectors', '--domain', DOMAIN])).out) as Record<string, unknown>[];
    const selectorCsv = parseCsv((await exportCmd(['selectors', '--domain', DOMAIN, '--format', 'csv'])).out, { columns: true }) as Record<string, string>[];
    expect(Object.keys(selectorCsv[0]!)).toEqual(Object.keys(selectors[0]!));
  });

  it('export sources over all domains accounts for every stored message, and names the sample senders', async () => {
    const rows = JSON.parse((await exportCmd(['sources'])).out) as Record<string, unknown>[];
    expect(rows.reduce((s, x) => s + (x.messages as number), 0)).toBe(storedMessages);
    const google = rows.find((x) => x.ip === '209.85.220.69')!;
    expect(google).toMatchObject({ asn: 15169, as_org: 'Google LLC', service: 'Google Workspace', classification: 'compliant', reverse_dns: 'h-209-85-220-69.ptr.test', forward_confirmed: true });
    expect(new Set(rows.map((x) => x.classification))).toEqual(new Set(['compliant', 'forwarded', 'unsigned-vendor', 'spf-only', 'failing']));
  });

  it('export selectors: the unfinished rotation is stale, the missing key is failing', async () => {
    const rows = JSON.parse((await exportCmd(['selectors', '--domain', DOMAIN])).out) as Record<string, unknown>[];
    expect(rows.find((x) => x.selector === '2024q1acme')).toMatchObject({ signing_domain: DOMAIN, messages: 250, pass: 250, stale: true, newer_selector: '2024q3acme', failing: false, first_seen: '2024-06-01T00:00:00Z', last_seen: '2024-09-01T23:59:59Z' });
    expect(rows.find((x) => x.selector === '2024q3acme')).toMatchObject({ messages: 845, pass: 800, stale: false, failing: false });
    expect(rows.find((x) => x.selector === 'old')).toMatchObject({ messages: 10, permerror: 10, failing: true });
    const csv = parseCsv((await exportCmd(['selectors', '--domain', DOMAIN, '--format', 'csv'])).out, { columns: true }) as Record<string, string>[];
    // the vendors' own signatures are listed too, named after the service that signs with that domain
    expect(csv.map((x) => x.selector).sort()).toEqual(['2024q1acme', '2024q3acme', 'k1', 'old', 'smtpapi']);
    expect(csv.find((x) => x.selector === 'smtpapi')).toMatchObject({ signing_domain: 'sendgrid.net', service: 'SendGrid' });
    expect(csv.find((x) => x.selector === 'k1')).toMatchObject({ signing_domain: 'mcsv.net', service: 'Mailchimp' });
    expect(csv.find((x) => x.selector === 'old')!.notes).toContain('old._domainkey.acme-corp.com');
  });

  it('readiness: plain language by default, the what-if and blockers in JSON', async () => {
    const text = await readinessCmd(['--domain', DOMAIN]);
    expect(text.exitCode).toBe(0);
    expect(text.out).toContain('acme-corp.com — last 30 day(s): 890 message(s), 85.4% pass DMARC');
    expect(text.out).toContain('p=none: monitoring only');
    expect(text.out).toContain('With p=reject: 130 message(s) would be refused at SMTP time (bounced) — legitimate 60, forwarded 45, unknown 25');
    expect(text.out).toContain('- Mailchimp: 60 failing message(s) from 192.0.2.30 — enable custom DKIM for Mailchimp and publish selector k2');
    expect(text.out).toContain(
      'Next step: 1 service(s) must sign with DKIM before p=quarantine or p=reject: Mailchimp (60 message(s): enable custom DKIM for Mailchimp and publish selector k2). Also sign with DKIM on 2 source(s) that pass with SPF only (legacy.acme-corp.com, 192.0.2.12)',
    );
    const [json] = JSON.parse((await readinessCmd(['--domain', DOMAIN, '--json', '--days', '120'])).out) as { messages: number; whatIf: { quarantine: { affected: number } } }[];
    // 120 days reach the June and July reports too
    expect(json).toMatchObject({ messages: 1390, whatIf: { quarantine: { affected: 130 } } });
    const all = await readinessCmd([]);
    expect(all.out.split('\n').filter((l) => / — last 30 day\(s\)/.test(l)).length).toBeGreaterThan(10);
    const bad = await readinessCmd(['--days', 'zero']);
    expect(bad.exitCode).not.toBe(0);
  });

  describe('check --db', () => {
    let dns: FakeDns;
    beforeAll(async () => {
      dns = await startFakeDns({
        [DOMAIN]: [txt('v=spf1 ip4:192.0.2.0/24 include:_spf.vendor.test -all'), mx(10, `mx.${DOMAIN}`)],
        [`mx.${DOMAIN}`]: [a('192.0.2.10')],
        '_spf.vendor.test': [txt('v=spf1 ip4:198.51.100.0/25 -all')],
        [`_dmarc.${DOMAIN}`]: [txt(`v=DMARC1; p=none; rua=mailto:dmarc@${DOMAIN}`)],
        [`2024q3acme._domainkey.${DOMAIN}`]: [txt(`v=DKIM1; k=rsa; p=${KEYS.rsa2048.slice(0, 200)}`, KEYS.rsa2048.slice(200))],
        [`2024q1acme._domainkey.${DOMAIN}`]: [txt(`v=DKIM1; k=rsa; p=${KEYS.rsa1024}`)],
      });
    });
    afterAll(async () => {
      await dns?.stop();
    });

    it('checks the selectors seen in the stored reports and the SPF coverage of their sources, and records the result', async () => {
      const r = await run(
        (p, out, err) => registerCheckCommand(p, { ...checkCommandDeps, stdout: { write: (s: string) => out.write(s) }, stderr: err, env: {}, setExitCode: (c) => void (process.exitCode = c), fetchPolicy: async () => ({ status: 404, body: '' }), now: () => new Date('2026-11-25T12:00:00Z') }),
        ['check', DOMAIN, '--db', db, '--resolver', dns.address, '--json', '--timeout', '1000'],
      );
      const check = JSON.parse(r.out) as DomainCheck;
      const dkim = check.records.filter((x) => x.type === 'dkim');
      expect(dkim.map((x) => x.name)).toEqual(expect.arrayContaining([`2024q3acme._domainkey.${DOMAIN}`, `2024q1acme._domainkey.${DOMAIN}`, `old._domainkey.${DOMAIN}`]));
      expect(dkim.find((x) => x.name.startsWith('old.'))!.findings.map((f) => f.code)).toContain('dkim-key-missing');
      expect(dkim.find((x) => x.name.startsWith('2024q3acme.'))!.status).not.toBe('fail');
      const spf = check.records.find((x) => x.type === 'spf')!;
      expect(spf.findings.map((f) => f.code)).toContain('spf-sources-covered');
      expect(r.exitCode).toBe(1); // the missing key is an error
      const database = await openDatabase(db);
      try {
        const latest = await createCheckHistoryStore(database.driver).latest(DOMAIN);
        expect(latest?.check.records.length).toBe(check.records.length);
        expect(latest?.firstCheckedAt).toBe(Date.parse('2026-11-25T12:00:00Z') / 1000);
      } finally {
        await database.close();
      }
    });
  });

  it('the installed command runs readiness and export sources (server/cli.ts wiring)', () => {
    const spawn = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    const readiness = spawn(['readiness', '--db', db, '--domain', DOMAIN, '--json']);
    expect(readiness.status).toBe(0);
    expect((JSON.parse(readiness.stdout) as { blockers: { name: string }[] }[])[0]!.blockers.map((b) => b.name)).toEqual(['Mailchimp']);
    const csv = spawn(['export', 'sources', '--db', db, '--domain', DOMAIN, '--format', 'csv']);
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toMatch(/^domain,ip,reverse_dns,/);
  }, 30_000);
});
