import { Command } from 'commander';
import { bufferSource } from '../ingest/input-sources.ts';
import { ingestInput } from '../ingest/pipeline.ts';
import type { ReportStore } from '../store/report-store.ts';
import type { Limits } from '../ingest/limits.ts';
import { addStoreOptions, boundHeapGrowth, withStore } from './common.ts';
import { addToSummary, emptySummary, formatSummary, type IngestSummary } from './ingest.ts';

export interface ReprocessResult {
  summary: IngestSummary;
  resolved: number;
  stillQuarantined: number;
  skippedTruncated: number;
}

/**
 * Runs every unresolved quarantined input through the pipeline again (after a parser fix). A quarantine row is
 * marked resolved when its member now ends stored or duplicate, or quarantined for a different reason (which is
 * then a new row).
 */
export async function reprocessQuarantine(store: ReportStore, limits: Limits, opts: { redactFailures?: boolean; domains?: string[]; ids?: number[] } = {}): Promise<ReprocessResult> {
  const rows = [];
  for await (const row of store.listQuarantine({ unresolvedOnly: true })) {
    if (!opts.ids || opts.ids.includes(row.id)) rows.push(row);
  }
  const result: ReprocessResult = { summary: emptySummary(), resolved: 0, stillQuarantined: 0, skippedTruncated: 0 };
  for (const row of rows) {
    if (row.truncated) {
      result.skippedTruncated++;
      continue;
    }
    const bytes = await store.getQuarantineBytes(row.id);
    if (!bytes) continue;
    const events = await ingestInput(bufferSource(row.input, bytes), { store, limits, redactFailures: opts.redactFailures, domains: opts.domains });
    result.summary.inputs++;
    events.forEach((e) => addToSummary(result.summary, e));
    const same = events.filter((e) => (e.member ?? null) === (row.member ?? null));
    const relevant = same.length > 0 ? same : events;
    if (relevant.some((e) => e.outcome === 'quarantined' && e.reason === row.code)) {
      result.stillQuarantined++;
    } else {
      await store.markQuarantineResolved(row.id);
      result.resolved++;
    }
  }
  return result;
}

export function registerReprocessCommand(program: Command): void {
  addStoreOptions(program.command('reprocess').description('run quarantined inputs through the parsers again (after an upgrade)'))
    .option('--id <id...>', 'only these quarantine ids')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { db?: string; config?: string; id?: string[]; json?: boolean }) => {
      boundHeapGrowth();
      await withStore(flags, async (store, config) => {
        const ids = flags.id?.map(Number);
        const r = await reprocessQuarantine(store, config.limits, { redactFailures: config.redactFailures, domains: config.domains, ids });
        if (flags.json) {
          process.stdout.write(JSON.stringify({ resolved: r.resolved, still_quarantined: r.stillQuarantined, skipped_truncated: r.skippedTruncated }) + '\n');
        } else {
          process.stdout.write(formatSummary(r.summary));
          process.stdout.write(`${r.resolved} quarantined input(s) resolved, ${r.stillQuarantined} still quarantined` +
            (r.skippedTruncated ? `, ${r.skippedTruncated} skipped (only a truncated copy was kept)` : '') + '\n');
        }
      });
    });
}
