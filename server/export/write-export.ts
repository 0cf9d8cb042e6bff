import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { ExportFilter, ReportStore } from '../store/report-store.ts';
import {
  aggregateReportJson,
  failureJson,
  failureRow,
  quarantineJson,
  recordJson,
  recordRows,
  tlsJson,
  tlsRows,
  type ShapeOptions,
} from './shapes.ts';

export const EXPORT_KINDS = ['reports', 'records', 'failures', 'tls', 'quarantine'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export const EXPORT_FORMATS = ['json', 'jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

type Row = Record<string, string | number | boolean | null>;

interface Item {
  json: unknown;
  rows: Row[];
}

/** failures, TLS reports and the quarantine: one item (JSON value and its CSV rows) per stored row */
function items(store: ReportStore, kind: Exclude<ExportKind, 'reports' | 'records'>, filter: ExportFilter): AsyncIterable<Item> {
  switch (kind) {
    case 'failures':
      return mapEach(store.listFailures(filter), (f) => ({ json: failureJson(f), rows: [failureRow(f)] }));
    case 'tls':
      return mapEach(store.listTls(filter), (t) => ({ json: tlsJson(t), rows: tlsRows(t) }));
    case 'quarantine':
      return mapEach(store.listQuarantine(filter), (q) => {
        const j = quarantineJson(q);
        return { json: j, rows: [j as Row] };
      });
  }
}

async function* mapEach<T>(source: AsyncIterable<T>, fn: (t: T) => Item): AsyncIterable<Item> {
  for await (const t of source) yield fn(t);
}

async function write(out: Writable, text: string): Promise<void> {
  if (text.length > 0 && !out.write(text)) await once(out, 'drain');
}

/**
 * Streams an export to `out`. CSV is RFC 4180 (CRLF line ends, quoted where needed), one row per record
 * for reports/records; the header comes from the first row (nothing is written when there are no rows).
 * Aggregate reports are read with their records in pages, so a report of any size is written in bounded
 * memory — also as one JSON value per report. Returns the number of items written (reports, records, …).
 */
export async function writeExport(
  store: ReportStore,
  kind: ExportKind,
  filter: ExportFilter,
  format: ExportFormat,
  out: Writable,
  options: { bom?: boolean; domains?: readonly string[] | undefined } = {},
): Promise<number> {
  const shape: ShapeOptions = { domains: options.domains };
  let n = 0;
  let columns: string[] | null = null;
  /** the text of CSV rows (with the header before the first ones) */
  const csv = (rows: Row[]): string => {
    if (rows.length === 0) return '';
    const header = columns === null;
    const cols = (columns ??= Object.keys(rows[0]!));
    // rows as arrays in column order: the writer then reads no property paths (much faster on large exports)
    const values = rows.map((row) => cols.map((c) => row[c]));
    return stringify(values, { header, columns: cols, record_delimiter: 'windows', cast: { boolean: (b) => (b ? 'true' : 'false') } });
  };
  /** separator before the next JSON value of a `json` array */
  const next = () => (format === 'json' ? (n === 0 ? '\n' : ',\n') : '');
  const end = format === 'jsonl' ? '\n' : '';

  if (format === 'csv' && options.bom) await write(out, '\uFEFF');
  if (format === 'json') await write(out, '[');
  if (kind === 'reports' || kind === 'records') {
    for await (const report of store.streamAggregates(filter)) {
      if (kind === 'reports' && format !== 'csv') {
        // one JSON value per report, its records array written page by page
        const head = JSON.stringify(aggregateReportJson({ ...report, records: [] }, shape));
        if (!head.endsWith(EMPTY_RECORDS)) throw new Error('aggregate report JSON: "records" must be the last member');
        await write(out, next() + head.slice(0, -2));
        let first = true;
        for await (const page of report.records) {
          if (page.length === 0) continue;
          await write(out, (first ? '' : ',') + page.map((r) => JSON.stringify(recordJson(r))).join(','));
          first = false;
        }
        await write(out, ']}' + end);
        n++;
        continue;
      }
      for await (const page of report.records) {
        const rows = recordRows({ ...report, records: page }, shape);
        if (format === 'csv') {
          await write(out, csv(rows));
          if (kind === 'records') n += rows.length;
        } else {
          for (const row of rows) {
            await write(out, next() + JSON.stringify(row) + end);
            n++;
          }
        }
      }
      if (kind === 'reports') n++;
    }
  } else {
    for await (const item of items(store, kind, filter)) {
      if (format === 'csv') await write(out, csv(item.rows));
      else await write(out, next() + JSON.stringify(item.json) + end);
      n++;
    }
  }
  if (format === 'json') await write(out, n === 0 ? ']\n' : '\n]\n');
  return n;
}

const EMPTY_RECORDS = '"records":[]}';
