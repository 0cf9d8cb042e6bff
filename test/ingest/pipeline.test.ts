/**
 * Every real sample through the whole pipeline (unpack → parse → store), on every store dialect:
 * the stored reports match the ground truth, unrecoverable files are quarantined with a reason,
 * and a second ingest stores nothing new.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource } from '../../server/ingest/input-sources.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { ingestInput, type IngestEvent } from '../../server/ingest/pipeline.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { ReportStore, StoredAggregate } from '../../server/store/report-store.ts';
import { getTestPostgres } from '../helpers/postgres.ts';
import { expectedAggregates, SAMPLES_DIR, sampleFiles, type ExpectedAggregate } from '../helpers/samples.ts';

const ALL_FILES = [...sampleFiles('aggregate'), ...sampleFiles('forensic'), ...sampleFiles('smtp_tls')];

async function ingestAll(store: ReportStore): Promise<Map<string, IngestEvent[]>> {
  const byFile = new Map<string, IngestEvent[]>();
  for (const path of ALL_FILES) {
    byFile.set(basename(path), await ingestInput(fileSource(path), { store, limits: DEFAULT_LIMITS }));
  }
  return byFile;
}

const DIALECTS = ['sqlite', 'postgres'] as const;

function expectedByFile(): Map<string, ExpectedAggregate[]> {
  const byFile = new Map<string, ExpectedAggregate[]>();
  for (const e of expectedAggregates()) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  return byFile;
}

function checkKey(report: StoredAggregate, line: ExpectedAggregate, where: string): void {
  const h = report.header;
  if (line.org_name === null) {
    // <org_name> empty in the file: derived from the reporter's email domain, else null
    expect(h.orgName, where).toBe(h.orgEmail ? h.orgEmail.split('@').pop()!.toLowerCase() : null);
  } else {
    expect(h.orgName, where).toBe(line.org_name);
  }
  expect(h.reportId, where).toBe(line.report_id);
  expect(h.begin, where).toBe(line.begin);
  expect(h.end, where).toBe(line.end);
  expect(h.policy.domain, where).toBe(line.domain);
}

function checkFigures(report: StoredAggregate, line: ExpectedAggregate, where: string): void {
  expect(report.header.policy.p, where).toBe(line.p);
  expect(report.records.length, where).toBe(line.records);
  expect(report.records.reduce((s, r) => s + r.count, 0), where).toBe(line.messages);
  if (!line.strict_xml) expect(report.header.errors.join(' '), `${where}: repairs noted`).toMatch(/repair/i);
}

describe('every recoverable aggregate sample, each in a fresh store', () => {
  for (const [file, lines] of expectedByFile()) {
    it(`${file}: ${lines.length} report(s) with the expected figures`, async () => {
      const store = await openStore('sqlite::memory:');
      try {
        const events = await ingestInput(fileSource(SAMPLES_DIR + 'aggregate/' + file), { store, limits: DEFAULT_LIMITS });
        const reports = new Map<number, StoredAggregate>();
        for await (const r of store.listAggregates({})) reports.set(r.id, r);
        for (const line of lines) {
          const event = events.find((e) => e.report_id === line.report_id && e.outcome !== 'quarantined');
          expect(event, `report ${line.report_id}`).toBeDefined();
          const report = reports.get(event!.id!)!;
          checkKey(report, line, file);
          // several reports with one key in one file (re-sent): the first is stored, the rest are duplicates
          if (event!.outcome === 'stored') checkFigures(report, line, file);
        }
      } finally {
        await store.close();
      }
    });
  }
});

for (const dialect of DIALECTS) {
  describe(`pipeline on ${dialect}`, () => {
    let store: ReportStore;
    let cleanup: () => Promise<void> = async () => {};
    let first: Map<string, IngestEvent[]>;
    let stored: Map<number, StoredAggregate>;

    beforeAll(async () => {
      if (dialect === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-pipeline-'));
        store = await openStore(`sqlite:${join(dir, 'test.db')}`);
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const pg = await getTestPostgres();
        if (!pg) return;
        store = await openStore(pg.url);
        cleanup = pg.cleanup;
      }
      first = await ingestAll(store);
      stored = new Map();
      for await (const r of store.listAggregates({})) stored.set(r.id, r);
    }, 240_000);

    afterAll(async () => {
      await store?.close();
      await cleanup();
    });

    it('accounts for every input: stored, duplicate or quarantined with a reason', (ctx) => {
      if (!store) return ctx.skip();
      for (const [file, events] of first) {
        expect(events.length, file).toBeGreaterThan(0);
        for (const e of events) {
          expect(['stored', 'duplicate', 'quarantined'], file).toContain(e.outcome);
          if (e.outcome === 'quarantined') {
            expect(e.reason, file).toMatch(/^[a-z-]+$/);
            expect(e.detail, file).toBeTruthy();
          } else {
            expect(e.id, file).toBeGreaterThan(0);
          }
        }
      }
    });

    it('stores every recoverable aggregate report, or recognizes it as a duplicate of a stored one', (ctx) => {
      if (!store) return ctx.skip();
      for (const [file, lines] of expectedByFile()) {
        const events = (first.get(file) ?? []).filter((e) => e.type === 'aggregate' && e.outcome !== 'quarantined');
        expect(events.length, `${file}: reports found`).toBe(lines.length);
        for (const line of lines) {
          const event = events.find((e) => e.report_id === line.report_id);
          expect(event, `${file}: report ${line.report_id}`).toBeDefined();
          const report = stored.get(event!.id!);
          expect(report, `${file}: stored report`).toBeDefined();
          // a duplicate points at the report stored first: same key, its own records
          checkKey(report!, line, `${file} ${line.member ?? ''}`);
          if (event!.outcome === 'stored') checkFigures(report!, line, `${file} ${line.member ?? ''}`);
        }
      }
    });

    it('quarantines every aggregate file that cannot be recovered, with a reason', (ctx) => {
      if (!store) return ctx.skip();
      const recoverable = new Set(expectedAggregates().map((e) => e.file));
      const unrecoverable = sampleFiles('aggregate').map((p) => basename(p)).filter((f) => !recoverable.has(f));
      expect(unrecoverable.length).toBeGreaterThan(0);
      for (const file of unrecoverable) {
        const events = first.get(file)!;
        expect(events.filter((e) => e.type === 'aggregate' && e.outcome !== 'quarantined'), file).toEqual([]);
        expect(events.some((e) => e.outcome === 'quarantined' && e.reason), file).toBe(true);
      }
    });

    it('stores every failure and TLS sample (or quarantines it with a reason)', (ctx) => {
      if (!store) return ctx.skip();
      for (const path of sampleFiles('forensic')) {
        const events = first.get(basename(path))!;
        const ok = events.filter((e) => e.type === 'failure' && e.outcome !== 'quarantined');
        const rejected = events.filter((e) => e.outcome === 'quarantined' && e.reason);
        expect(ok.length + rejected.length, basename(path)).toBe(events.length);
        expect(ok.length, `${basename(path)} stored as a failure report`).toBeGreaterThan(0);
      }
      for (const path of sampleFiles('smtp_tls')) {
        const events = first.get(basename(path))!;
        expect(events.filter((e) => e.type === 'tls' && e.outcome !== 'quarantined').length, basename(path)).toBeGreaterThan(0);
      }
    });

    it('stores nothing new when everything is ingested again', async (ctx) => {
      if (!store) return ctx.skip();
      const before = await store.counts();
      const second = await ingestAll(store);
      for (const [file, events] of second) {
        for (const e of events) expect(e.outcome, `${file} ${e.member}`).not.toBe('stored');
        const firstOutcomes = first.get(file)!.map((e) => (e.outcome === 'quarantined' ? `q:${e.reason}` : 'ok'));
        const secondOutcomes = events.map((e) => (e.outcome === 'quarantined' ? `q:${e.reason}` : 'ok'));
        expect(secondOutcomes, file).toEqual(firstOutcomes);
      }
      expect(await store.counts()).toEqual(before);
    }, 240_000);
  });
}
