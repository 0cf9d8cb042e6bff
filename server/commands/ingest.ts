import { Command } from 'commander';
import type { ReportType } from '../domain/report-types.ts';
import { expandPaths, fileSource, stdinSource } from '../ingest/input-sources.ts';
import { ingestMany } from '../ingest/ingest-many.ts';
import type { IngestEvent } from '../ingest/pipeline.ts';
import type { InputSource } from '../ingest/unpack-types.ts';
import { addStoreOptions, boundHeapGrowth, withStore } from './common.ts';
import { Progress } from './progress.ts';

export interface IngestSummary {
  inputs: number;
  byType: Record<ReportType | 'unknown', { stored: number; duplicate: number; quarantined: number }>;
  reasons: Record<string, number>;
  records: number;
}

export function emptySummary(): IngestSummary {
  const zero = () => ({ stored: 0, duplicate: 0, quarantined: 0 });
  return { inputs: 0, byType: { aggregate: zero(), failure: zero(), tls: zero(), unknown: zero() }, reasons: {}, records: 0 };
}

export function addToSummary(summary: IngestSummary, event: IngestEvent): void {
  summary.byType[event.type ?? 'unknown'][event.outcome]++;
  if (event.reason) summary.reasons[event.reason] = (summary.reasons[event.reason] ?? 0) + 1;
  if (event.outcome === 'stored') summary.records += event.records ?? 0;
}

export function formatSummary(s: IngestSummary): string {
  const lines = [`${s.inputs} input(s) read`];
  const labels: Record<string, string> = { aggregate: 'aggregate reports', failure: 'failure reports', tls: 'SMTP TLS reports', unknown: 'unrecognized inputs' };
  for (const [type, c] of Object.entries(s.byType)) {
    if (c.stored + c.duplicate + c.quarantined === 0) continue;
    lines.push(`  ${labels[type]}: ${c.stored} stored, ${c.duplicate} duplicate, ${c.quarantined} quarantined`);
  }
  if (s.records > 0) lines.push(`  ${s.records} aggregate records stored`);
  const reasons = Object.entries(s.reasons);
  if (reasons.length > 0) lines.push(`  quarantined by reason: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')} (see: dmarc-lens export quarantine)`);
  return lines.join('\n') + '\n';
}

export function registerIngestCommand(program: Command): void {
  addStoreOptions(
    program
      .command('ingest')
      .description('read report files, directories (recursively), archives, mails or mbox files ("-" for stdin) into the database')
      .argument('<path...>', 'files, directories or - for stdin'),
  )
    .option('--json', 'print one JSON line per report or rejected input')
    .option('--redact', 'drop identity headers (From, To, Subject, Message-ID) of failure-report samples')
    .action(async (paths: string[], flags: { db?: string; config?: string; json?: boolean; redact?: boolean }) => {
      boundHeapGrowth();
      await withStore(flags, async (store, config) => {
        const all: string[] = [];
        for await (const p of expandPaths(paths)) all.push(p);
        const summary = emptySummary();
        const progress = new Progress(all.length, 'ingest');
        // stdin can be read only once and is buffered, so it is not read ahead of its turn
        const sources = all.map((path) => (path === '-' ? () => stdinSource(config.limits.maxInputBytes) : () => fileSource(path)));
        const opts = { store, limits: config.limits, redactFailures: config.redactFailures, domains: config.domains };
        await ingestMany(lazily(sources), opts, (_input, events) => {
          summary.inputs++;
          for (const event of events) {
            addToSummary(summary, event);
            if (flags.json) process.stdout.write(JSON.stringify(event) + '\n');
          }
          const a = summary.byType.aggregate;
          progress.update(summary.inputs, `files | ${a.stored} stored, ${a.duplicate} dup | ${summary.records} records`);
        }, all.includes('-') ? 1 : undefined);
        progress.done();
        (flags.json ? process.stderr : process.stdout).write(formatSummary(summary));
      });
    });
}

function* lazily(makers: (() => InputSource | Promise<InputSource>)[]): Generator<InputSource | Promise<InputSource>> {
  for (const make of makers) yield make();
}
