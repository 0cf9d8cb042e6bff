/**
 * One benchmark run in its own process (so peak RSS is its own): ingests every file of a directory into a database.
 * Usage: node --import tsx bench/ingest-child.ts DB_URL DIR
 * Prints one JSON line: {seconds, inputs, reports, records, peakRssMb}.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileSource } from '../server/ingest/input-sources.ts';
import { DEFAULT_LIMITS } from '../server/ingest/limits.ts';
import { ingestMany } from '../server/ingest/ingest-many.ts';
import { openStore } from '../server/store/open-store.ts';

const [dbUrl, dir] = process.argv.slice(2);
if (!dbUrl || !dir) throw new Error('usage: ingest-child.ts DB_URL DIR');
const files = readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => join(dir, f));
const store = await openStore(dbUrl);
const t0 = process.hrtime.bigint();
let reports = 0;
let records = 0;
const outcomes: Record<string, number> = {};
await ingestMany(files.map(fileSource), { store, limits: DEFAULT_LIMITS }, (_input, events) => {
  for (const e of events) {
    outcomes[e.outcome] = (outcomes[e.outcome] ?? 0) + 1;
    if (e.outcome === 'stored') {
      reports++;
      records += e.records ?? 0;
    }
  }
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
await store.close();
process.stdout.write(JSON.stringify({ seconds, inputs: files.length, reports, records, outcomes, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
