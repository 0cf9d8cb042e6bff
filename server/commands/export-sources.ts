/**
 * `dmarc-lens export sources` and `export selectors`: the classified sending sources and the DKIM selectors seen,
 * from the analytics (rollups, enrichment cache, known senders), as JSON, JSON lines or RFC 4180 CSV.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { AnalyticsFilter } from '../analytics/analytics-types.ts';
import { csvCells, SELECTOR_EXPORT_COLUMNS, selectorExportRow, SOURCE_EXPORT_COLUMNS, sourceExportRow, type ExportValue } from '../analytics/export-rows.ts';
import { withAnalytics } from '../analytics/open-analytics.ts';
import type { ConfigFlags } from '../config.ts';

export const ANALYTICS_EXPORT_KINDS = ['sources', 'selectors'] as const;
export type AnalyticsExportKind = (typeof ANALYTICS_EXPORT_KINDS)[number];

export function isAnalyticsExportKind(kind: string): kind is AnalyticsExportKind {
  return (ANALYTICS_EXPORT_KINDS as readonly string[]).includes(kind);
}

export interface AnalyticsExportFlags extends ConfigFlags {
  format: 'json' | 'jsonl' | 'csv';
  domain?: string;
  from?: number;
  to?: number;
  bom?: boolean;
}

/** Writes the export; returns the number of rows. */
export async function exportAnalytics(kind: AnalyticsExportKind, flags: AnalyticsExportFlags, out: Writable = process.stdout): Promise<number> {
  return withAnalytics(flags, async (analytics) => {
    const filter: AnalyticsFilter = {
      ...(flags.domain !== undefined ? { domain: flags.domain } : {}),
      ...(flags.from !== undefined ? { from: flags.from } : {}),
      ...(flags.to !== undefined ? { to: flags.to } : {}),
    };
    const rows = kind === 'sources' ? (await analytics.sources(filter)).map(sourceExportRow) : (await analytics.selectors(filter)).map(selectorExportRow);
    await writeRows(rows, kind === 'sources' ? SOURCE_EXPORT_COLUMNS : SELECTOR_EXPORT_COLUMNS, flags, out);
    return rows.length;
  });
}

async function writeRows(rows: Record<string, ExportValue>[], columns: readonly string[], flags: AnalyticsExportFlags, out: Writable): Promise<void> {
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (flags.format === 'json') {
    await write('[');
    for (const [i, row] of rows.entries()) await write((i === 0 ? '\n' : ',\n') + JSON.stringify(row));
    await write(rows.length === 0 ? ']\n' : '\n]\n');
  } else if (flags.format === 'jsonl') {
    for (const row of rows) await write(JSON.stringify(row) + '\n');
  } else {
    if (flags.bom) await write('\uFEFF');
    // the header even when there are no rows
    if (rows.length === 0) await write(stringify([], { header: true, columns: [...columns], record_delimiter: 'windows' }));
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500).map((row) => {
        const cells = csvCells(row);
        return columns.map((c) => cells[c] ?? null);
      });
      await write(stringify(chunk, { header: i === 0, columns: [...columns], record_delimiter: 'windows', cast: { boolean: (b) => (b ? 'true' : 'false') } }));
    }
  }
}
