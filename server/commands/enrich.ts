/**
 * `dmarc-lens enrich`: reverse DNS (forward-confirmed), base domain, ASN and country of every stored source IP,
 * into the database's enrichment cache. Runs apart from ingest (never slows it) and can be re-run: fresh cache
 * entries are skipped unless --force. Bounded concurrency and per-query timeouts; progress on a terminal.
 */
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { enrichStoredSources } from '../analytics/enrich-stored.ts';
import { loadConfig } from '../config.ts';
import { DEFAULT_CONCURRENCY, type EnrichProgress } from '../enrich/enrich-ips.ts';
import { DEFAULT_DNS_TIMEOUT_MS, RESOLVER_ENV, resolverServersFrom } from '../enrich/resolver.ts';
import { openDatabase } from '../store/database.ts';
import { addStoreOptions, parseDateOption, wholeNumberOption } from './common.ts';

export interface EnrichCommandDeps {
  stdout?: Pick<Writable, 'write'>;
  stderr?: Pick<Writable, 'write'> & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

interface EnrichFlags {
  db?: string;
  config?: string;
  resolver?: string;
  concurrency: number;
  timeout: number;
  force?: boolean;
  since?: number;
  json?: boolean;
}


export function registerEnrichCommand(program: Command, deps: EnrichCommandDeps = {}): void {
  addStoreOptions(
    program
      .command('enrich')
      .description('look up reverse DNS, ASN and country of the stored source IPs (cached in the database)'),
  )
    .option('--resolver <ip:port>', `DNS server(s) to ask, comma-separated (env ${RESOLVER_ENV}; default: the system resolvers)`)
    .option('--concurrency <n>', 'look-ups in flight at once', wholeNumberOption(1, 1024), DEFAULT_CONCURRENCY)
    .option('--timeout <ms>', 'timeout of one DNS query in milliseconds', wholeNumberOption(1, 60_000), DEFAULT_DNS_TIMEOUT_MS)
    .option('--force', 'look up again even IPs whose cache entry is still fresh')
    .option('--since <date>', 'only IPs of reports ending on or after this date', (v) => parseDateOption(v))
    .option('--json', 'print the summary as JSON')
    .action(async (flags: EnrichFlags, cmd: Command) => {
      const stdout = deps.stdout ?? process.stdout;
      const stderr = deps.stderr ?? process.stderr;
      let servers: string[] | undefined;
      try {
        servers = resolverServersFrom(flags.resolver, deps.env ?? process.env);
      } catch (err) {
        cmd.error(`error: ${(err as Error).message}`, { exitCode: 2, code: 'dmarc-lens.enrich.usage' });
      }
      const config = loadConfig(flags, deps.env ?? process.env);
      const db = await openDatabase(config.db);
      const tty = stderr.isTTY === true;
      let lastDraw = 0;
      const draw = (p: EnrichProgress, final = false): void => {
        if (!tty) return;
        const now = Date.now();
        if (!final && now - lastDraw < 100) return;
        lastDraw = now;
        stderr.write(`\renriching: ${p.done.toLocaleString('en')} IP(s) — ${p.fromCache} cached, ${p.lookedUp} looked up, ${p.errors} without PTR\x1b[K`);
      };
      try {
        const summary = await enrichStoredSources(db, {
          ...(servers ? { servers } : {}),
          concurrency: flags.concurrency,
          timeoutMs: flags.timeout,
          force: flags.force === true,
          ...(flags.since !== undefined ? { since: flags.since } : {}),
          progressEvery: 50,
          onProgress: (p) => draw(p),
        });
        if (tty) stderr.write('\r\x1b[K');
        if (flags.json) stdout.write(`${JSON.stringify(summary)}\n`);
        else {
          const kinds = Object.entries(summary.errorsByKind).map(([k, v]) => `${k} ${v}`).join(', ');
          stdout.write(
            `${summary.done} source IP(s): ${summary.fromCache} fresh in the cache, ${summary.lookedUp} looked up` +
              `${summary.errors > 0 ? `, ${summary.errors} without a PTR name (${kinds})` : ''}; at most ${summary.peakConcurrency} at once\n`,
          );
        }
      } finally {
        await db.close();
      }
    });
}
