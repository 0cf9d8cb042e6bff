/**
 * The parallel ingest (worker threads, each with its own connection) must account for every input exactly as
 * the in-thread ingest does: same events per input, in input order, same stored data, duplicates on a second
 * run — on SQLite (threads take turns through the shared write lock) and PostgreSQL (side by side).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateAggregateXml } from '../../bench/synthetic-aggregate.ts';
import { FatalError } from '../../server/errors.ts';
import { expandPaths, fileSource } from '../../server/ingest/input-sources.ts';
import { ingestFilesInParallel, ingestWorkerCount } from '../../server/ingest/ingest-parallel.ts';
import { ingestMany } from '../../server/ingest/ingest-many.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import type { IngestEvent } from '../../server/ingest/pipeline.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { ReportStore } from '../../server/store/report-store.ts';
import { describePostgresUnavailable, getTestPostgres } from '../helpers/postgres.ts';
import { SAMPLES_DIR } from '../helpers/samples.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dmarc-lens-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** the bundled samples plus 40 synthetic reports (two of them sent twice) */
async function inputFiles(): Promise<string[]> {
  const extra = join(tmp, 'extra');
  mkdirSync(extra, { recursive: true });
  for (let i = 0; i < 40; i++) {
    const xml = generateAggregateXml({ seed: 100 + i, records: 1 + ((i * 37) % 300), reportId: `parallel-${i}`, begin: 1_700_000_000 + i * 86_400 });
    writeFileSync(join(extra, `r${i}.xml`), xml);
    if (i % 20 === 0) writeFileSync(join(extra, `r${i}-again.xml`), xml);
  }
  const files: string[] = [];
  for await (const p of expandPaths([SAMPLES_DIR, extra])) files.push(p);
  return files;
}

/** what a store holds, independent of ids and insertion order */
async function contents(store: ReportStore): Promise<string[]> {
  const out: string[] = [];
  for await (const r of store.listAggregates({})) {
    out.push(`A ${r.header.orgName}|${r.header.reportId}|${r.header.policy.domain}|${r.records.length}|${r.records.reduce((n, x) => n + x.count, 0)}`);
  }
  for await (const f of store.listFailures({})) out.push(`F ${f.report.reportedDomain}|${f.report.sourceIp}|${f.report.arrivalDate}`);
  for await (const t of store.listTls({})) out.push(`T ${t.report.orgName}|${t.report.reportId}`);
  for await (const q of store.listQuarantine({})) out.push(`Q ${q.sha256}|${q.member}|${q.code}`); // not the input: identical bad bytes in two files are one row, named after the first
  return out.sort();
}

/**
 * An input's events, with stored and duplicate alike: the samples hold some reports in several files, and which
 * copy is stored first depends on timing (exactly one is: the stores are compared below)
 */
const shapeOf = (events: IngestEvent[]) =>
  events.map((e) => `${e.member}|${e.type}|${e.outcome === 'quarantined' ? 'quarantined' : 'kept'}|${e.reason ?? ''}|${e.report_id ?? ''}|${e.records ?? ''}`);

async function runBoth(urlA: string, urlB: string) {
  const files = await inputFiles();
  const serial: [string, string[]][] = [];
  const storeA = await openStore(urlA);
  try {
    await ingestMany(files.map(fileSource), { store: storeA, limits: DEFAULT_LIMITS }, (input, events) => serial.push([input.name, shapeOf(events)]));
  } finally {
    await storeA.close();
  }
  const parallel: [string, string[]][] = [];
  const storeB = await openStore(urlB); // migrated here, as the ingest command does before it starts the threads
  try {
    await ingestFilesInParallel(files, { dbUrl: urlB, limits: DEFAULT_LIMITS, workers: 2, window: 3 }, (path, events) => parallel.push([path, shapeOf(events)]));
  } finally {
    await storeB.close();
  }
  return { files, serial, parallel };
}

async function expectSameStores(urlA: string, urlB: string) {
  const [a, b] = [await openStore(urlA), await openStore(urlB)];
  try {
    const ca = await contents(a);
    expect(ca.length).toBeGreaterThan(100);
    expect(await contents(b)).toEqual(ca);
    expect(await b.counts()).toEqual(await a.counts());
  } finally {
    await a.close();
    await b.close();
  }
}

describe('parallel ingest on SQLite', () => {
  it('accounts for every input as the in-thread ingest does, in input order, and stores the same', async () => {
    const [urlA, urlB] = [`sqlite:${join(tmp, 'serial.db')}`, `sqlite:${join(tmp, 'parallel.db')}`];
    const { files, serial, parallel } = await runBoth(urlA, urlB);
    expect(parallel.map(([p]) => p)).toEqual(files);
    expect(parallel).toEqual(serial);
    await expectSameStores(urlA, urlB);

    // a second run stores nothing new
    const again: IngestEvent[] = [];
    await ingestFilesInParallel(files, { dbUrl: urlB, limits: DEFAULT_LIMITS, workers: 2 }, (_p, events) => again.push(...events));
    expect(again.filter((e) => e.outcome === 'stored')).toEqual([]);
    await expectSameStores(urlA, urlB);
  }, 240_000);

  it('ends with the fatal error of a thread that cannot open the database', async () => {
    const blocker = join(tmp, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const files = (await inputFiles()).slice(0, 10);
    const err = await ingestFilesInParallel(files, { dbUrl: `sqlite:${join(blocker, 'x.db')}`, limits: DEFAULT_LIMITS, workers: 2 }, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
  }, 120_000);

  it('uses threads only for enough files and cores, as configured', () => {
    expect(ingestWorkerCount(1000, { DMARC_LENS_INGEST_WORKERS: '0' })).toBe(0);
    expect(ingestWorkerCount(1000, { DMARC_LENS_INGEST_WORKERS: '3' })).toBe(3);
    expect(ingestWorkerCount(5, { DMARC_LENS_INGEST_WORKERS: '3' })).toBe(0);
    expect(ingestWorkerCount(1000, { DMARC_LENS_INGEST_WORKERS: '1' })).toBe(0);
  });
});

const pg = await getTestPostgres();
if (pg) {
  describe(`parallel ingest on PostgreSQL (${pg.source})`, () => {
    afterAll(() => pg.cleanup());
    it('stores the same as the in-thread ingest', async () => {
      const [urlA, urlB] = [await pg.newDatabase(), await pg.newDatabase()];
      const { serial, parallel } = await runBoth(urlA, urlB);
      expect(parallel).toEqual(serial);
      await expectSameStores(urlA, urlB);
    }, 240_000);
  });
} else describePostgresUnavailable('parallel ingest');
