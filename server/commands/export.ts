import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { EXPORT_FORMATS, EXPORT_KINDS, writeExport, type ExportFormat, type ExportKind } from '../export/write-export.ts';
import { addStoreOptions, parseDateOption, withStore } from './common.ts';
import { ANALYTICS_EXPORT_KINDS, exportAnalytics, isAnalyticsExportKind } from './export-sources.ts';

export interface ExportCommandDeps {
  /** where the export goes (default: process.stdout) */
  stdout?: Writable;
}

export function registerExportCommand(program: Command, deps: ExportCommandDeps = {}): void {
  addStoreOptions(
    program
      .command('export')
      .description('write stored data to stdout as JSON, JSON lines or CSV (sources and selectors: classified, from the analytics)')
      .addArgument(program.createArgument('<what>', 'what to export').choices([...EXPORT_KINDS, ...ANALYTICS_EXPORT_KINDS])),
  )
    .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('json'))
    .option('--domain <domain>', 'only this policy / reported domain')
    .option('--from <date>', 'only reports covering this date or later (YYYY-MM-DD or ISO 8601)', (v) => parseDateOption(v))
    .option('--to <date>', 'only reports covering this date or earlier', (v) => parseDateOption(v, true))
    .option('--bom', 'start CSV with a UTF-8 byte order mark (for Excel)')
    .action(async (what: ExportKind | 'sources' | 'selectors', flags: { db?: string; config?: string; format: ExportFormat; domain?: string; from?: number; to?: number; bom?: boolean }) => {
      const out = deps.stdout ?? process.stdout;
      if (isAnalyticsExportKind(what)) {
        await exportAnalytics(what, flags, out);
        return;
      }
      await withStore(flags, async (store, config) => {
        const filter = { domain: flags.domain, from: flags.from, to: flags.to };
        await writeExport(store, what, filter, flags.format, out, { bom: flags.bom, domains: config.domains });
      });
    });
}
