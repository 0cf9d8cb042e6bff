/** The dmarc-lens command as a user runs it: a real process, a real SQLite file. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLES_DIR } from './helpers/samples.ts';

const BIN = fileURLToPath(new URL('../bin/dmarc-lens.js', import.meta.url));

function run(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, DMARC_LENS_DB: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dmarc-lens CLI', () => {
  let dir: string;
  let db: string;
  let lines: Record<string, unknown>[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-cli-'));
    db = `sqlite:${join(dir, 'cli.db')}`;
    const r = run(['ingest', SAMPLES_DIR, '--db', db, '--json']);
    expect(r.stderr).toMatch(/input\(s\) read/);
    expect(r.code).toBe(0);
    lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON line per report or rejected input, in the documented shape', () => {
    expect(lines.length).toBeGreaterThan(90);
    for (const l of lines) {
      expect(typeof l.input).toBe('string');
      expect(l).toHaveProperty('member');
      expect([null, 'aggregate', 'failure', 'tls']).toContain(l.type);
      expect(['stored', 'duplicate', 'quarantined']).toContain(l.outcome);
      if (l.outcome === 'quarantined') expect(typeof l.reason).toBe('string');
    }
    expect(lines.some((l) => l.type === 'failure' && l.outcome === 'stored')).toBe(true);
    expect(lines.some((l) => l.type === 'tls' && l.outcome === 'stored')).toBe(true);
  });

  it('exports reports in parsedmarc shape and records as RFC 4180 CSV that agree with each other', () => {
    const reports = JSON.parse(run(['export', 'reports', '--db', db]).stdout) as {
      report_metadata: { report_id: string; begin_date: string };
      policy_published: { domain: string | null };
      records: { count: number; alignment: { dmarc: boolean }; auth_results: { dkim: unknown[]; spf: unknown[] } }[];
    }[];
    const storedAggregates = lines.filter((l) => l.type === 'aggregate' && l.outcome === 'stored');
    expect(reports.length).toBe(storedAggregates.length);
    expect(reports[0]!.report_metadata.begin_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const totalRecords = reports.reduce((s, r) => s + r.records.length, 0);

    const csv = run(['export', 'records', '--db', db, '--format', 'csv', '--bom']).stdout;
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv).toContain('\r\n');
    const rows = parseCsv(csv.slice(1), { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(totalRecords);
    expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['org_name', 'report_id', 'source_ip_address', 'count', 'dkim_selectors', 'spf_results']));
    const csvMessages = rows.reduce((s, r) => s + Number(r.count), 0);
    const jsonMessages = reports.reduce((s, r) => s + r.records.reduce((t, rec) => t + rec.count, 0), 0);
    expect(csvMessages).toBe(jsonMessages);

    const jsonl = run(['export', 'records', '--db', db, '--format', 'jsonl']).stdout.trim().split('\n');
    expect(jsonl.length).toBe(totalRecords);
  });

  it('filters exports by domain and date range', () => {
    const all = JSON.parse(run(['export', 'reports', '--db', db]).stdout) as { policy_published: { domain: string }; report_metadata: { begin_date: string; end_date: string } }[];
    const domain = all[0]!.policy_published.domain;
    const byDomain = JSON.parse(run(['export', 'reports', '--db', db, '--domain', domain.toUpperCase()]).stdout) as typeof all;
    expect(byDomain.length).toBe(all.filter((r) => r.policy_published.domain?.toLowerCase() === domain.toLowerCase()).length);
    expect(byDomain.length).toBeLessThan(all.length);

    const from = '2020-01-01';
    const since = JSON.parse(run(['export', 'reports', '--db', db, '--from', from]).stdout) as typeof all;
    expect(since.length).toBe(all.filter((r) => r.report_metadata.end_date >= `${from}T00:00:00Z`).length);
    expect(since.length).toBeGreaterThan(0);
    expect(since.length).toBeLessThan(all.length);
  });

  it('exports the quarantine with reasons, and failure and TLS reports', () => {
    const q = JSON.parse(run(['export', 'quarantine', '--db', db]).stdout) as { reason: string; sha256: string }[];
    expect(q.length).toBeGreaterThan(0);
    for (const row of q) {
      expect(row.reason).toMatch(/^[a-z-]+$/);
      expect(row.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const failures = JSON.parse(run(['export', 'failures', '--db', db]).stdout) as unknown[];
    expect(failures.length).toBe(lines.filter((l) => l.type === 'failure' && l.outcome === 'stored').length);
    const tlsCsv = run(['export', 'tls', '--db', db, '--format', 'csv']).stdout;
    expect(tlsCsv.split('\r\n')[0]).toContain('policy_domain');
  });

  it('reads stdin with "-" and recognizes a re-sent report as a duplicate', () => {
    const xml = readFileSync(join(SAMPLES_DIR, 'aggregate/parsedmarc__nice-input.xml'));
    const r = run(['ingest', '-', '--db', db, '--json'], xml);
    expect(r.code).toBe(0);
    const [event] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(event).toMatchObject({ input: '-', type: 'aggregate', outcome: 'duplicate' });
  });

  it('reprocess keeps what still cannot be read', () => {
    const r = run(['reprocess', '--db', db, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { resolved: number; still_quarantined: number };
    expect(result.resolved).toBe(0);
    expect(result.still_quarantined).toBeGreaterThan(0);
  });

  it('fails with a clear message on an unreadable path or a bad database URL', () => {
    const missing = run(['ingest', join(dir, 'no-such-file.xml'), '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*no-such-file\.xml/);
    const badDb = run(['ingest', SAMPLES_DIR, '--db', 'mysql://x']);
    expect(badDb.code).toBe(2);
    expect(badDb.stderr).toMatch(/expected sqlite:PATH or postgres/);
    const badFormat = run(['export', 'reports', '--db', db, '--format', 'xml']);
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toMatch(/Allowed choices/);
  });
});

describe('the bundled command (npm run build → dist/server)', () => {
  // built inside the project (the bundle finds samples/ and client/ by walking up to package.json)
  const out = fileURLToPath(new URL('../.tmp-bundle-test/', import.meta.url));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs from plain JavaScript and stores what the sources store', async () => {
    const { buildServerBundle } = await import('../server/bundle.ts');
    await buildServerBundle(out);
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-bundle-'));
    try {
      const runWith = (entry: string, db: string) => {
        const script = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv);`;
        // no TypeScript loader in this process: the bundle must be self-sufficient
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'dmarc-lens', 'ingest', SAMPLES_DIR, '--db', db, '--json'], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        expect(r.stderr).toMatch(/input\(s\) read/);
        expect(r.status).toBe(0);
        return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; type: string | null; reason?: string });
      };
      const bundled = runWith(join(out, 'cli.mjs'), `sqlite:${join(dir, 'bundle.db')}`);
      const tally = (events: { outcome: string; type: string | null; reason?: string }[]) =>
        events.map((e) => `${e.type}:${e.outcome}:${e.reason ?? ''}`).sort();
      expect(bundled.filter((e) => e.outcome === 'stored').length).toBeGreaterThan(50);
      const sources = run(['ingest', SAMPLES_DIR, '--db', `sqlite:${join(dir, 'sources.db')}`, '--json']);
      expect(tally(bundled)).toEqual(tally(sources.stdout.trim().split('\n').map((l) => JSON.parse(l))));
      // the bundle reads its data files (known senders) from the project
      const senders = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(join(out, 'cli.mjs'))}); process.exitCode = await main(process.argv);`, 'dmarc-lens', 'export', 'sources', '--db', `sqlite:${join(dir, 'bundle.db')}`, '--format', 'json'],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      expect(senders.status).toBe(0);
      expect(senders.stdout).toMatch(/"service/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
