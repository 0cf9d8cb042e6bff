/**
 * `dmarc-lens readiness [--domain D] [--days N] [--to DATE] [--json]`: for each domain, what the published
 * policy means today and what p=quarantine / p=reject would have done to the last N days of mail, split into
 * legitimate, forwarded and unknown sources, with the next step in plain language.
 */
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { DEFAULT_READINESS_DAYS } from '../analytics/analytics.ts';
import { withAnalytics } from '../analytics/open-analytics.ts';
import { formatReadiness } from '../analytics/readiness-text.ts';
import { addStoreOptions, parseDateOption, wholeNumberOption } from './common.ts';

export interface ReadinessCommandDeps {
  stdout?: Pick<Writable, 'write'>;
}

interface ReadinessFlags {
  db?: string;
  config?: string;
  domain?: string;
  days: number;
  to?: number;
  json?: boolean;
}


export function registerReadinessCommand(program: Command, deps: ReadinessCommandDeps = {}): void {
  addStoreOptions(
    program
      .command('readiness')
      .description('policy readiness per domain: what p=quarantine / p=reject would do, and what to fix first'),
  )
    .option('--domain <domain>', 'only this policy domain')
    .option('--days <n>', 'what-if window in days, ending at --to (default: the newest report)', wholeNumberOption(1, 3660, 'a whole number of days'), DEFAULT_READINESS_DAYS)
    .option('--to <date>', 'end of the window (YYYY-MM-DD or ISO 8601)', (v) => parseDateOption(v, true))
    .option('--json', 'print the readiness objects as JSON')
    .action(async (flags: ReadinessFlags) => {
      const out = deps.stdout ?? process.stdout;
      await withAnalytics(flags, async (analytics) => {
        const result = await analytics.readiness({
          ...(flags.domain !== undefined ? { domain: flags.domain } : {}),
          ...(flags.to !== undefined ? { to: flags.to } : {}),
          days: flags.days,
        });
        if (flags.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
        else if (result.length === 0) out.write('no aggregate reports stored yet: ingest some (dmarc-lens ingest FILE…) or poll a mailbox first\n');
        else out.write(result.map(formatReadiness).join('\n'));
      });
    });
}
