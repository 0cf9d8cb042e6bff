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
import { expectedAggregates, sampleFiles } from '../helpers/samples.ts';

const ALL_FILES = [...sampleFiles('aggregate'), ...sampleFiles('forensic'), ...sampleFiles('smtp_tls')];

async function ingestAll(store: ReportStore): Promise<Map<string, IngestEvent[]>> {
  const byFile = new Map<string, IngestEvent[]>();
  for (const path of ALL_FILES) {
    byFile.set(basename(path), await ingestInput(fileSource(path), { store, limits: DEFAULT_LIMITS }));
  }
  return byFile;
}

const DIALECTS = ['sqlite', 'postgres'] as const;

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

    it('stores every recoverable aggregate report with the expected figures', (ctx) => {
      if (!store) return ctx.skip();
      const expected = expectedAggregates();
      const byFile = new Map<string, typeof expected>();
      for (const e of expected) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
      for (const [file, lines] of byFile) {
        const events = (first.get(file) ?? []).filter((e) => e.type === 'aggregate' && e.outcome !== 'quarantined');
        expect(events.length, `${file}: reports found`).toBe(lines.length);
        for (const line of lines) {
          const event = events.find((e) => e.report_id === line.report_id);
          expect(event, `${file}: report ${line.report_id}`).toBeDefined();
          const report = stored.get(event!.id!);
          expect(report, `${file}: stored report`).toBeDefined();
          const h = report!.header;
          const where = `${file} ${line.member ?? ''}`;
          if (line.org_name === null) {
            // org_name missing in the file: null, or derived from the reporter's email domain
            expect(h.orgName === null || h.orgName === '' || /\./.test(h.orgName), where).toBe(true);
          } else {
            expect(h.orgName, where).toBe(line.org_name);
          }
          expect(h.reportId, where).toBe(line.report_id);
          expect(h.begin, where).toBe(line.begin);
          expect(h.end, where).toBe(line.end);
          expect(h.policy.domain, where).toBe(line.domain);
          expect(h.policy.p, where).toBe(line.p);
          expect(report!.records.length, where).toBe(line.records);
          expect(report!.records.reduce((s, r) => s + r.count, 0), where).toBe(line.messages);
          if (!line.strict_xml) expect(h.errors.join(' '), `${where}: repairs noted`).toMatch(/repair/i);
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
