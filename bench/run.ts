/**
 * `npm run bench`: the benchmarks behind the figures in README.md. Not a test: it prints measurements.
 *   npm run bench                 all sections
 *   npm run bench -- ingest       only some sections (ingest, imap, enrich, web)
 * Results are also written to bench/out/results.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTestPostgres } from '../test/helpers/postgres.ts';
import { buildServerBundle } from '../server/bundle.ts';
import { buildLargeCorpus, buildMixedCorpus } from './corpus.ts';

const OUT = fileURLToPath(new URL('./out/', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
mkdirSync(OUT, { recursive: true });

const wanted = new Set(process.argv.slice(2));
const want = (s: string) => wanted.size === 0 || wanted.has(s);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

/**
 * One ingest through the real command (`dmarc-lens ingest DIR --db URL --json`, the bundle of `npm run build`),
 * in a process of its own: wall time from process start (start-up included), records and reports from its
 * JSON lines, peak RSS of the process.
 */
function runChild(db: string, dir: string): { seconds: number; records: number; reports: number; peakRssMb: number } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bench/cli-child.mjs'), 'ingest', dir, '--db', db, '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ingest failed (${r.status}): ${r.stderr.slice(-2000)}`);
  let reports = 0;
  let records = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as { outcome: string; records?: number };
    if (e.outcome === 'stored') {
      reports++;
      records += e.records ?? 0;
    }
  }
  const stats = JSON.parse(r.stderr.trim().split('\n').pop()!) as { seconds: number; peakRssMb: number };
  return { ...stats, reports, records };
}

function row(label: string, r: { seconds: number; records: number; reports: number; peakRssMb: number }): string {
  return `${label.padEnd(34)} ${r.seconds.toFixed(2).padStart(7)} s ${String(r.reports).padStart(6)} reports ${String(r.records).padStart(8)} records ${Math.round(r.records / r.seconds).toLocaleString('en').padStart(9)} rec/s  peak RSS ${r.peakRssMb} MB`;
}

if (want('ingest')) {
  console.log('building corpora (cached in bench/out/) and the server bundle …');
  await buildServerBundle();
  const mixed = buildMixedCorpus(join(OUT, 'corpus-a'));
  const large = await buildLargeCorpus(join(OUT, 'corpus-b'));
  const ingest: Record<string, unknown> = {};
  const tmp = mkdtempSync(join(tmpdir(), 'dmarc-lens-bench-'));
  try {
    for (const [name, dir] of [['a: 1,000 reports x 50 records', mixed], ['b: 1 report x 200,000 records', large]] as const) {
      const r = runChild(`sqlite:${join(tmp, `${name[0]}.db`)}`, dir);
      ingest[`sqlite ${name}`] = r;
      console.log(row(`sqlite   ${name}`, r));
    }
    const pg = await getTestPostgres();
    if (pg) {
      try {
        for (const [name, dir] of [['a: 1,000 reports x 50 records', mixed], ['b: 1 report x 200,000 records', large]] as const) {
          const r = runChild(pg.url, dir);
          ingest[`postgres ${name}`] = r;
          console.log(row(`postgres ${name}`, r));
        }
      } finally {
        await pg.cleanup();
      }
    } else {
      console.log('postgres: skipped (no PostgreSQL reachable and none could be started)');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  results.ingest = ingest;
}

async function optionalSection(name: string, modulePath: string, fn: string): Promise<void> {
  if (!want(name)) return;
  try {
    const mod = (await import(modulePath)) as Record<string, () => Promise<unknown>>;
    const run = mod[fn];
    if (!run) throw new Error(`${modulePath} has no ${fn}`);
    const r = await run();
    results[name] = r;
    console.log(`${name}: ${JSON.stringify(r)}`);
  } catch (err) {
    console.log(`${name}: not run (${(err as Error).message})`);
  }
}

await optionalSection('imap', './imap.ts', 'runImapBench');
await optionalSection('enrich', './enrich.ts', 'runEnrichBench');
await optionalSection('web', './web.ts', 'runWebBench');

writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`results written to ${join(OUT, 'results.json')}`);
