/**
 * Exports of aggregate reports larger than a page of records: the streamed writer (records read page by page)
 * must write exactly what the shapes give for the whole report in memory — as JSON, JSON lines and CSV.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAggregateXml, syntheticTotals } from '../../bench/synthetic-aggregate.ts';
import { aggregateReportJson, recordRows } from '../../server/export/shapes.ts';
import { writeExport, type ExportFormat, type ExportKind } from '../../server/export/write-export.ts';
import { bufferSource } from '../../server/ingest/input-sources.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { ingestInput } from '../../server/ingest/pipeline.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { ReportStore, StoredAggregate } from '../../server/store/report-store.ts';

async function exportText(store: ReportStore, kind: ExportKind, format: ExportFormat): Promise<{ text: string; n: number }> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const n = await writeExport(store, kind, {}, format, out);
  out.end();
  return { text: Buffer.concat(parts).toString('utf8'), n };
}

describe('export of reports larger than a page of records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-export-'));
  let store: ReportStore;
  let whole: StoredAggregate[];
  const big = { seed: 7, records: 4_321, reportId: 'big-one' };
  const small = { seed: 8, records: 3, reportId: 'small-one', begin: 1_700_100_000 };
  const empty = { seed: 9, records: 0, reportId: 'no-records', begin: 1_700_200_000 };

  beforeAll(async () => {
    store = await openStore(`sqlite:${join(dir, 'e.db')}`);
    for (const opts of [big, small, empty]) {
      const events = await ingestInput(bufferSource(`${opts.reportId}.xml`, Buffer.from(generateAggregateXml(opts))), { store, limits: DEFAULT_LIMITS });
      expect(events.map((e) => e.outcome)).toEqual(['stored']);
    }
    whole = [];
    for await (const r of store.listAggregates({})) whole.push(r);
    expect(whole.map((r) => r.records.length)).toEqual([big.records, small.records, empty.records]);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the records of a report in order, all of them', async () => {
    const [first] = whole;
    let seen = 0;
    let pages = 0;
    for await (const report of store.streamAggregates({ domain: first!.header.policy.domain! })) {
      for await (const page of report.records) {
        for (const rec of page) expect(rec.ordinal).toBe(first!.records[seen++]!.ordinal);
        pages++;
      }
      break;
    }
    expect(seen).toBe(big.records);
    expect(pages).toBeGreaterThan(1);
  });

  it('writes each report as one JSON value equal to the shape of the whole report', async () => {
    const json = await exportText(store, 'reports', 'json');
    expect(json.n).toBe(3);
    expect(JSON.parse(json.text)).toEqual(whole.map((r) => JSON.parse(JSON.stringify(aggregateReportJson(r)))));
    const jsonl = await exportText(store, 'reports', 'jsonl');
    expect(jsonl.text.trim().split('\n').map((l) => JSON.parse(l))).toEqual(JSON.parse(json.text));
    const messages = (JSON.parse(json.text) as { records: { count: number }[] }[])[0]!.records.reduce((s, r) => s + r.count, 0);
    expect(messages).toBe(syntheticTotals(big).messages);
  });

  it('writes records as JSON and CSV rows equal to the shape, with one header', async () => {
    const expected = whole.flatMap((r) => recordRows(r));
    const json = await exportText(store, 'records', 'json');
    expect(json.n).toBe(big.records + small.records);
    expect(JSON.parse(json.text)).toEqual(JSON.parse(JSON.stringify(expected)));
    const csv = await exportText(store, 'records', 'csv');
    const rows = parseCsv(csv.text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(expected.length);
    expect(csv.text.match(/^xml_schema,/gm)).toHaveLength(1);
    expect(rows.map((r) => r.source_ip_address)).toEqual(expected.map((r) => r.source_ip_address));
    expect(rows.reduce((s, r) => s + Number(r.count), 0)).toBe(syntheticTotals(big).messages + syntheticTotals(small).messages);
    const reportsCsv = await exportText(store, 'reports', 'csv');
    expect(reportsCsv.n).toBe(3);
    expect(reportsCsv.text).toBe(csv.text);
  });
});
