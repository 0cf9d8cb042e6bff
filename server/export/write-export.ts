import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { ExportFilter, ReportStore } from '../store/report-store.ts';
import {
  aggregateReportJson,
  failureJson,
  failureRow,
  quarantineJson,
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

function items(store: ReportStore, kind: ExportKind, filter: ExportFilter, shape: ShapeOptions): AsyncIterable<Item[]> {
  switch (kind) {
    case 'reports':
      return mapEach(store.listAggregates(filter), (r) => [{ json: aggregateReportJson(r, shape), rows: recordRows(r, shape) }]);
    case 'records':
      return mapEach(store.listAggregates(filter), (r) => recordRows(r, shape).map((row) => ({ json: row, rows: [row] })));
    case 'failures':
      return mapEach(store.listFailures(filter), (f) => [{ json: failureJson(f), rows: [failureRow(f)] }]);
    case 'tls':
      return mapEach(store.listTls(filter), (t) => [{ json: tlsJson(t), rows: tlsRows(t) }]);
    case 'quarantine':
      return mapEach(store.listQuarantine(filter), (q) => {
        const j = quarantineJson(q);
        return [{ json: j, rows: [j as Row] }];
      });
  }
}

async function* mapEach<T>(source: AsyncIterable<T>, fn: (t: T) => Item[]): AsyncIterable<Item[]> {
  for await (const t of source) yield fn(t);
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Streams an export to `out`. CSV is RFC 4180 (CRLF line ends, quoted where needed), one row per record
 * for reports/records; the header comes from the first row (nothing is written when there are no rows).
 * Returns the number of items written (reports, records, …).
 */
export async function writeExport(
  store: ReportStore,
  kind: ExportKind,
  filter: ExportFilter,
  format: ExportFormat,
  out: Writable,
  options: { bom?: boolean; domains?: readonly string[] | undefined } = {},
): Promise<number> {
  let n = 0;
  let columns: string[] | null = null;
  if (format === 'csv' && options.bom) await write(out, '\uFEFF');
  if (format === 'json') await write(out, '[');
  for await (const batch of items(store, kind, filter, { domains: options.domains })) {
    for (const item of batch) {
      if (format === 'json') {
        await write(out, (n === 0 ? '\n' : ',\n') + JSON.stringify(item.json));
      } else if (format === 'jsonl') {
        await write(out, JSON.stringify(item.json) + '\n');
      } else if (item.rows.length > 0) {
        const header = columns === null;
        columns ??= Object.keys(item.rows[0]!);
        await write(out, stringify(item.rows, { header, columns, record_delimiter: 'windows', cast: { boolean: (b) => (b ? 'true' : 'false') } }));
      }
      n++;
    }
  }
  if (format === 'json') await write(out, n === 0 ? ']\n' : '\n]\n');
  return n;
}
