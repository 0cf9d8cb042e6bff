/**
 * Measures aggregate-record insert throughput of the store on SQLite (temp file) and PostgreSQL.
 * Not a test: run it yourself.
 *   npx tsx bench/store-insert.ts [records=200000] [postgres-url]
 * Without a postgres URL it uses a fresh database from test/helpers/postgres.ts (skipped if none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AggregateHeader, AggregateRecord } from '../server/domain/report-types.ts';
import { openStore } from '../server/store/open-store.ts';
import { getTestPostgres } from '../test/helpers/postgres.ts';

const total = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const RUNS = 5;

function header(n: number): AggregateHeader {
  return {
    xmlSchema: '1.0', orgName: 'google.com', orgEmail: 'noreply-dmarc-support@google.com', orgExtraContactInfo: null,
    reportId: `bench-${n}-${Date.now()}`, begin: 1_700_000_000, end: 1_700_086_399, errors: [], generator: null,
    policy: { domain: 'example.com', adkim: 'r', aspf: 'r', p: 'none', sp: 'none', np: null, pct: 100, fo: null, testing: null, discoveryMethod: null },
  };
}

function record(i: number): AggregateRecord {
  return {
    ordinal: i, sourceIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, count: 1 + (i % 17), disposition: 'none',
    dkimEval: 'pass', spfEval: i % 3 === 0 ? 'fail' : 'pass', overrideReasons: [], headerFrom: 'example.com',
    envelopeFrom: 'bounce.example.com', envelopeTo: null,
    dkim: [{ domain: 'example.com', selector: 'google', result: 'pass', humanResult: null }],
    spf: [{ domain: 'bounce.example.com', scope: 'mfrom', result: 'pass', humanResult: null }],
    problems: [],
  };
}

// made before timing, so the figures are the store's alone (a parser would hand over batches like these)
const prepared: AggregateRecord[][] = [];
for (let i = 0; i < total; i += BATCH) {
  const batch: AggregateRecord[] = [];
  for (let j = i; j < Math.min(total, i + BATCH); j++) batch.push(record(j));
  prepared.push(batch);
}

async function* batches(): AsyncGenerator<AggregateRecord[]> {
  yield* prepared;
}

async function measure(name: string, url: string): Promise<void> {
  const store = await openStore(url);
  // warm-up: statements prepared, tables touched
  await store.saveAggregate(header(-1), (async function* () { yield [record(0)]; })(), { input: 'warm-up', member: null });
  const rates: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const started = process.hrtime.bigint();
    const outcome = await store.saveAggregate(header(run), batches(), { input: 'bench', member: null });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (outcome.outcome !== 'stored') throw new Error('bench report was not stored');
    rates.push(total / seconds);
  }
  rates.sort((a, b) => a - b);
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  console.log(
    `${name} insert: ${total} records × ${RUNS} runs, records/s median ${fmt(rates[RUNS >> 1]!)}, best ${fmt(rates.at(-1)!)}, worst ${fmt(rates[0]!)}`,
  );
  const started = process.hrtime.bigint();
  let listed = 0;
  for await (const report of store.listAggregates({})) listed += report.records.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name} list: ${listed} records in ${seconds.toFixed(2)} s = ${fmt(listed / seconds)} records/s`);
  await store.close();
}

const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-bench-'));
try {
  await measure('sqlite', `sqlite:${join(dir, 'bench.db')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (process.argv[3]) await measure('postgres', process.argv[3]);
else {
  const pg = await getTestPostgres();
  if (!pg) console.log('postgres: skipped (no server; pass a URL as the second argument)');
  else {
    try {
      await measure(`postgres (${pg.source})`, pg.url);
    } finally {
      await pg.cleanup();
    }
  }
}
