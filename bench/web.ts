/**
 * Web API latency at scale: p50 / p95 of each view's API call over a database of 1,000,000 aggregate records
 * (SQLite) and up to 10,000,000 (PostgreSQL; loading stops at a time budget, and the figures say how many were
 * loaded). Data goes in through ReportStore.saveAggregate — the path ingest uses, daily rollups included — with
 * synthetic reports: 10 domains, 8 reporters, a year of days, a skewed pool of 20,000 sending IPs.
 *
 *   npm run bench -- web                       (from bench/run.ts: runWebBench())
 *   npx tsx bench/web.ts [sqliteRecords] [postgresRecords]
 * Env: DMARC_LENS_BENCH_PG_SECONDS (load budget for PostgreSQL, default 600); DMARC_LENS_BENCH_ONLY=sqlite|postgres
 * (one engine); DMARC_LENS_BENCH_RUNS (measured runs per call, default 15; p95 of 15 runs is their slowest).
 * The loaded databases are kept for the next run (loading is most of the time): SQLite as
 * bench/out/web-sqlite-<records>.db, PostgreSQL as database dmarc_lens_web_bench_<records> on the test server,
 * each with a bench/out/web-<engine>-<records>.json note of what was loaded. DMARC_LENS_BENCH_FRESH=1 reloads;
 * delete the file / drop the database to free the space. Opening a kept database runs any newer migrations.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { AggregateHeader, AggregateRecord } from '../server/domain/report-types.ts';
import { openDatabase, type Database } from '../server/store/database.ts';
import { getTestPostgres } from '../test/helpers/postgres.ts';
import { mulberry32 } from './synthetic-aggregate.ts';

const RECORDS_PER_REPORT = 250;
const DOMAINS = Array.from({ length: 10 }, (_, i) => `brand${i}.example`);
const REPORTERS = ['google.com', 'Yahoo', 'Outlook.com', 'Mail.Ru', 'comcast.net', 'FastMail Pty Ltd', 'zoho.com', '163.com'];
const SELECTORS = ['google', 's1', 's2', 'selector1', 'k1', '2024a', 'mail', 'smtpapi'];
const ESPS = ['sendgrid.net', 'amazonses.com', 'mcsv.net', 'outlook.com', 'zendesk.com'];
const IP_POOL = 20_000;
const DAYS = 365;
const FIRST_DAY = Date.UTC(2025, 0, 1) / 1000;
const HERE = fileURLToPath(new URL('.', import.meta.url));
/** heap of the measured server process, and how long one API call may take */
const HEAP_MB = 3072;
const REQUEST_TIMEOUT_MS = 120_000;

export interface ViewLatency {
  p50ms: number;
  p95ms: number;
  runs: number;
}

export interface WebBenchResult {
  engine: 'sqlite' | 'postgres';
  records: number;
  reports: number;
  loadSeconds: number;
  recordsPerSecond: number;
  /** true when loading stopped at the time budget before the target */
  stoppedAtBudget: boolean;
  views: Record<string, ViewLatency>;
  /** calls that did not answer 200 (e.g. analytics missing in this build) */
  failures: string[];
}

function ipOf(n: number): string {
  return `${10 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.${1 + (n % 200)}`;
}

/** report `n` of the synthetic corpus: its header and its records */
function syntheticReport(n: number): { header: AggregateHeader; records: AggregateRecord[] } {
  const rnd = mulberry32(0x5eed + n);
  const domain = DOMAINS[Math.floor(rnd() ** 1.5 * DOMAINS.length)]!;
  const org = REPORTERS[n % REPORTERS.length]!;
  const begin = FIRST_DAY + (n % DAYS) * 86_400;
  const records: AggregateRecord[] = [];
  for (let i = 0; i < RECORDS_PER_REPORT; i++) {
    // a skewed pool: a few thousand sources carry most mail, a long tail sends a little
    const ipN = Math.floor(rnd() ** 3 * IP_POOL);
    const legit = ipN < 4000;
    const thirdParty = ipN % 5 === 0;
    const esp = ESPS[ipN % ESPS.length]!;
    const dkimPass = legit ? rnd() < 0.93 : rnd() < 0.1;
    const spfPass = legit ? rnd() < 0.85 : rnd() < 0.2;
    const count = rnd() < 0.8 ? 1 + Math.floor(rnd() * 5) : 5 + Math.floor(rnd() * 500);
    const selector = SELECTORS[ipN % SELECTORS.length]!;
    records.push({
      ordinal: i,
      sourceIp: ipOf(ipN),
      count,
      disposition: dkimPass || spfPass ? 'none' : rnd() < 0.5 ? 'quarantine' : 'reject',
      dkimEval: dkimPass ? 'pass' : 'fail',
      spfEval: spfPass ? 'pass' : 'fail',
      overrideReasons: rnd() < 0.02 ? [{ type: 'forwarded', comment: null }] : [],
      headerFrom: domain,
      envelopeFrom: thirdParty ? `bounces.${esp}` : domain,
      envelopeTo: null,
      dkim: rnd() < 0.1 ? [] : [{ domain: thirdParty ? esp : domain, selector, result: dkimPass ? 'pass' : 'fail', humanResult: null }],
      spf: [{ domain: thirdParty ? `bounces.${esp}` : domain, scope: 'mfrom', result: spfPass ? 'pass' : 'softfail', humanResult: null }],
      problems: [],
    });
  }
  return {
    header: {
      xmlSchema: '1.0', orgName: org, orgEmail: `noreply@${org.toLowerCase().replace(/[^a-z0-9.]/g, '')}`, orgExtraContactInfo: null,
      reportId: `bench-${n}`, begin, end: begin + 86_399, errors: [], generator: null,
      policy: { domain, adkim: 'r', aspf: 'r', p: n % 3 === 0 ? 'quarantine' : 'none', sp: null, np: null, pct: 100, fo: null, testing: null, discoveryMethod: null },
    },
    records,
  };
}

/** stores reports until `target` records (or the time budget) is reached; `parallel` saves in flight */
export async function loadSyntheticRecords(db: Database, target: number, parallel: number, budgetSeconds: number): Promise<{ reports: number; seconds: number; stopped: boolean }> {
  const started = Date.now();
  const want = Math.ceil(target / RECORDS_PER_REPORT);
  let next = 0;
  let done = 0;
  let stopped = false;
  let lastLog = Date.now();
  const worker = async () => {
    for (;;) {
      if ((Date.now() - started) / 1000 > budgetSeconds) {
        stopped = next < want;
        return;
      }
      const n = next++;
      if (n >= want) return;
      const { header, records } = syntheticReport(n);
      const out = await db.reports.saveAggregate(header, (async function* () { yield records; })(), { input: `bench-${n}`, member: null });
      if (out.outcome !== 'stored') throw new Error(`bench report ${n} was not stored`);
      done++;
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        process.stderr.write(`  … ${db.reports.dialect}: ${(done * RECORDS_PER_REPORT).toLocaleString('en')} records in ${Math.round((Date.now() - started) / 1000)} s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { reports: done, seconds: (Date.now() - started) / 1000, stopped };
}

/**
 * Each view's API call. Every (run, call) gets its own domain / date range, so no answer comes from the short
 * analytics memo of the sources route and every figure is a full computation.
 */
const VIEW_CALLS: [string, (f: { all: string; one: string; run: number; reportId: number }) => string][] = [
  ['overview: domains table', (f) => `/api/overview/domains?${f.all}`],
  ['overview: timeline (all domains)', (f) => `/api/overview/timeline?${f.all}`],
  ['overview: timeline (one domain)', (f) => `/api/overview/timeline?${f.one}`],
  ['overview: top failing sources', (f) => `/api/sources?${f.one}&sort=failing&limit=10`],
  ['overview: readiness (one domain)', (f) => `/api/overview/readiness?${f.one}`],
  ['sources: table (one domain)', (f) => `/api/sources?${f.one}&limit=1000`],
  ['sources: table (all domains)', (f) => `/api/sources?${f.all}&limit=1000`],
  ['sources: verdict chart', (f) => `/api/sources/chart?${f.one}`],
  ['selectors: table', (f) => `/api/selectors?${f.one}&limit=500`],
  ['monthly summary', (f) => `/api/summary?${f.all}`],
  ['reports: first page', (f) => `/api/reports?${f.one}&limit=100`],
  ['reports: search', (f) => `/api/reports?q=bench-${f.run}1&limit=100`],
  ['reports: reporter chart', (f) => `/api/reports/chart?${f.one}`],
  ['report detail (250 records)', (f) => `/api/reports/${f.reportId + (f.run % 50)}`],
  ['meta (domain list, counts)', () => '/api/meta'],
];

function filtersFor(run: number, call: number, reportId: number) {
  const k = run * VIEW_CALLS.length + call;
  const day = (d: number) => new Date((FIRST_DAY + d * 86_400) * 1000).toISOString().slice(0, 10);
  const all = `from=${day(k % 60)}&to=${day(DAYS - 1 - (k % 45))}`;
  return { all, one: `domain=${DOMAINS[k % DOMAINS.length]}&${all}`, run, reportId };
}

interface ChildServer {
  base: string;
  exited: Promise<string>;
  stop(): Promise<void>;
}

/** the app in a child process with a bounded heap (see web-server-child.ts) */
async function startChild(url: string): Promise<ChildServer> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', join(HERE, 'web-server-child.ts'), url], {
    cwd: join(HERE, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`server process ended (${signal ?? code})${/heap out of memory/.test(stderr) ? ': JavaScript heap out of memory' : ''}`)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((why) => reject(new Error(`${why}\n${stderr}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

async function measure(url: string, firstReportId: number, runs: number): Promise<{ views: Record<string, ViewLatency>; failures: string[] }> {
  let server = await startChild(url);
  const samples: Record<string, number[]> = {};
  const failures = new Map<string, string>();
  try {
    // run 0 warms caches and prepared statements and is not counted
    for (let run = 0; run <= runs; run++) {
      for (const [c, [name, path]] of VIEW_CALLS.entries()) {
        if (failures.has(name)) continue;
        const t0 = process.hrtime.bigint();
        const outcome = await Promise.race([
          fetch(server.base + path(filtersFor(run + 100, c, firstReportId)), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(
            async (res) => ({ status: res.status, body: await res.text() }),
            (err: Error) => ({ status: 0, body: err.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : err.message }),
          ),
          server.exited.then((why) => ({ status: -1, body: why })),
        ]);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (outcome.status === 200) {
          if (run > 0) (samples[name] ??= []).push(ms);
          continue;
        }
        failures.set(name, outcome.status > 0 ? `HTTP ${outcome.status} ${outcome.body.slice(0, 120)}` : outcome.body);
        if (outcome.status <= 0) {
          await server.stop();
          server = await startChild(url);
        }
      }
    }
  } finally {
    await server.stop();
  }
  const views: Record<string, ViewLatency> = {};
  for (const [name, list] of Object.entries(samples)) {
    if (failures.has(name)) continue;
    const sorted = [...list].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    views[name] = { p50ms: round(at(0.5)), p95ms: round(at(0.95)), runs: list.length };
  }
  return { views, failures: [...failures].map(([name, why]) => `${name}: ${why}`) };
}

const round = (x: number) => Math.round(x * 10) / 10;

interface LoadNote {
  reports: number;
  seconds: number;
  stopped: boolean;
}

/** the kept database's load note, when it was loaded completely for this target (or stopped at the budget) */
function keptLoad(note: string): LoadNote | null {
  if (process.env.DMARC_LENS_BENCH_FRESH === '1' || !existsSync(note)) return null;
  try {
    return JSON.parse(readFileSync(note, 'utf8')) as LoadNote;
  } catch {
    return null;
  }
}

async function benchOne(engine: 'sqlite' | 'postgres', url: string, target: number, parallel: number, budget: number, runs: number, note: string, reused: boolean): Promise<WebBenchResult> {
  const db = await openDatabase(url);
  try {
    let loaded = keptLoad(note);
    if (!reused || !loaded) {
      process.stderr.write(`web bench: loading ${target.toLocaleString('en')} records into ${engine} …\n`);
      loaded = await loadSyntheticRecords(db, target, parallel, budget);
      // PostgreSQL's autovacuum would gather planner statistics after a load like this; do it now
      if (engine === 'postgres') await db.driver.query('ANALYZE');
      writeFileSync(note, JSON.stringify(loaded));
    } else {
      process.stderr.write(`web bench: reusing the kept ${engine} database (${note})\n`);
    }
    const records = loaded.reports * RECORDS_PER_REPORT;
    process.stderr.write(`web bench: ${records.toLocaleString('en')} records (loaded in ${loaded.seconds.toFixed(0)} s); measuring …\n`);
    const [first] = await db.driver.query('SELECT min(id) AS id FROM aggregate_reports');
    const { views, failures } = await measure(url, Number(first?.id ?? 1), runs);
    return {
      failures,
      engine,
      records,
      reports: loaded.reports,
      loadSeconds: round(loaded.seconds),
      recordsPerSecond: Math.round(records / loaded.seconds),
      stoppedAtBudget: loaded.stopped,
      views,
    };
  } finally {
    await db.close();
  }
}

export function formatWebBench(r: WebBenchResult): string {
  const lines = [`${r.engine}: ${r.records.toLocaleString('en')} records in ${r.reports.toLocaleString('en')} reports (loaded in ${r.loadSeconds} s, ${r.recordsPerSecond.toLocaleString('en')} rec/s${r.stoppedAtBudget ? ', stopped at the time budget' : ''})`];
  for (const [name, v] of Object.entries(r.views)) lines.push(`  ${name.padEnd(36)} p50 ${String(v.p50ms).padStart(8)} ms   p95 ${String(v.p95ms).padStart(8)} ms   (${v.runs} runs)`);
  for (const f of r.failures) lines.push(`  not measured: ${f}`);
  return lines.join('\n');
}

export async function runWebBench(opts: { sqliteRecords?: number; postgresRecords?: number; runs?: number; only?: 'sqlite' | 'postgres' } = {}): Promise<WebBenchResult[]> {
  const results: WebBenchResult[] = [];
  const runs = opts.runs ?? 15;
  const out = join(HERE, 'out');
  mkdirSync(out, { recursive: true });
  if (opts.only !== 'postgres') {
    const target = opts.sqliteRecords ?? 1_000_000;
    const file = join(out, `web-sqlite-${target}.db`);
    const note = join(out, `web-sqlite-${target}.json`);
    const reused = existsSync(file) && keptLoad(note) !== null;
    if (!reused) {
      for (const f of [file, `${file}-wal`, `${file}-shm`, note]) rmSync(f, { force: true });
    }
    const r = await benchOne('sqlite', `sqlite:${file}`, target, 1, 3600, runs, note, reused);
    process.stdout.write(formatWebBench(r) + '\n');
    results.push(r);
  }
  if (opts.only === 'sqlite') return results;
  const pgServer = await getTestPostgres();
  if (!pgServer) {
    process.stdout.write('postgres: skipped (no PostgreSQL reachable and none could be started)\n');
    return results;
  }
  try {
    const target = opts.postgresRecords ?? 10_000_000;
    const budget = Number(process.env.DMARC_LENS_BENCH_PG_SECONDS) || 600;
    const name = `dmarc_lens_web_bench_${target}`;
    const note = join(out, `web-postgres-${target}.json`);
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    let reused: boolean;
    try {
      const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
      reused = exists && keptLoad(note) !== null;
      if (!reused) {
        rmSync(note, { force: true });
        if (exists) await admin.query(`DROP DATABASE ${name}`);
        await admin.query(`CREATE DATABASE ${name}`);
      }
    } finally {
      await admin.end();
    }
    const url = new URL(pgServer.url);
    url.pathname = `/${name}`;
    const r = await benchOne('postgres', url.toString(), target, 3, budget, runs, note, reused);
    process.stdout.write(formatWebBench(r) + '\n');
    results.push(r);
  } finally {
    await pgServer.cleanup();
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [sqliteRecords, postgresRecords] = process.argv.slice(2).map(Number);
  const only = process.env.DMARC_LENS_BENCH_ONLY;
  await runWebBench({
    ...(sqliteRecords ? { sqliteRecords } : {}),
    ...(postgresRecords ? { postgresRecords } : {}),
    ...(only === 'sqlite' || only === 'postgres' ? { only } : {}),
    ...(process.env.DMARC_LENS_BENCH_RUNS ? { runs: Number(process.env.DMARC_LENS_BENCH_RUNS) } : {}),
  });
}
