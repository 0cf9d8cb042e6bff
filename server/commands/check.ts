/**
 * `dmarc-lens check DOMAIN...`: live DNS checks (DMARC, SPF, DKIM, MX, MTA-STS, TLS-RPT, BIMI).
 * Exit code 1 when any finding is an error, 2 for bad arguments. `--json` prints one DomainCheck object
 * for one domain and an array of them for several.
 */
import { Option, type Command } from 'commander';
import { checkDomain, normalizeDomain } from '../dns/check-domain.ts';
import type { CheckHistory, DnsLookup, DomainCheck, PolicyFetcher, ReportedPolicySource, ReportSource, SelectorSource } from '../dns/check-types.ts';
import { formatDomainCheck } from '../dns/format-check.ts';
import { createResolver, parseResolverSpec, RESOLVER_ENV } from '../dns/resolver.ts';

export interface CheckCommandDeps {
  /** opens what `--db` points at to read the DKIM selectors (SPF source IPs, published policy) seen in stored reports */
  selectorSource?: (dbUrl: string) => Promise<SelectorSource & Partial<ReportedPolicySource> & { close(): Promise<void> }>;
  /** opens what `--db` points at to record each check (history of the records) */
  history?: (dbUrl: string) => Promise<CheckHistory & { close(): Promise<void> }>;
  stdout?: { write(s: string): unknown; isTTY?: boolean };
  stderr?: { write(s: string): unknown };
  env?: NodeJS.ProcessEnv;
  /** default: sets process.exitCode */
  setExitCode?: (code: number) => void;
  /** MTA-STS policy fetcher (default: HTTPS with a timeout) */
  fetchPolicy?: PolicyFetcher;
  now?: () => Date;
}

interface CheckFlags {
  selector: string[];
  resolver?: string;
  json?: boolean;
  db?: string;
  timeout: string;
}

const CONCURRENCY = 4;

export function registerCheckCommand(program: Command, deps: CheckCommandDeps = {}): void {
  program
    .command('check')
    .description('check the DNS records of domains: DMARC, SPF, DKIM, MX, MTA-STS, TLS-RPT, BIMI (exit 1 on any error)')
    .argument('<domain...>', 'domains to check')
    .addOption(new Option('-s, --selector <selector>', 'DKIM selector to check (repeatable, or comma-separated)').argParser(collect).default([]))
    .option('--resolver <ip:port>', `DNS server(s) to ask, comma-separated (env ${RESOLVER_ENV}; default: the system resolvers)`)
    .option('--json', 'print JSON: one object for one domain, an array for several')
    .option('--db <url>', 'also check the DKIM selectors and SPF source IPs seen in the reports stored there, and record the results')
    .option('--timeout <ms>', 'timeout of one DNS lookup in milliseconds', '2500')
    .action(async (domains: string[], flags: CheckFlags, cmd: Command) => {
      await runCheck(domains, flags, cmd, deps);
    });
}

async function runCheck(inputs: string[], flags: CheckFlags, cmd: Command, deps: CheckCommandDeps): Promise<void> {
  const env = deps.env ?? process.env;
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const setExitCode = deps.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const usage = (message: string): never => cmd.error(`error: ${message}`, { exitCode: 2, code: 'dmarc-lens.check.usage' });

  const domains = inputs.map((d) => normalizeDomain(d) ?? usage(`not a domain name: ${JSON.stringify(d)}`));
  const timeoutMs = Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) usage(`--timeout must be a number of milliseconds from 1 to 60000, not ${JSON.stringify(flags.timeout)}`);
  const spec = flags.resolver ?? env[RESOLVER_ENV];
  let servers: string[] | undefined;
  if (spec !== undefined && spec.trim() !== '') {
    try {
      servers = parseResolverSpec(spec);
    } catch (e) {
      usage(`${flags.resolver !== undefined ? '--resolver' : RESOLVER_ENV}: ${(e as Error).message}`);
    }
  }
  const lookup: DnsLookup = createResolver({ timeoutMs, tries: 2, ...(servers ? { servers } : {}) });

  const source = flags.db !== undefined ? await openOptional(deps.selectorSource, flags.db, 'reading selectors from the database', stderr) : null;
  const history = flags.db !== undefined ? await openOptional(deps.history, flags.db, 'recording check history', stderr) : null;
  try {
    const checks: DomainCheck[] = new Array(domains.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < domains.length; i = next++) {
        const domain = domains[i] as string;
        const fromReports = source ? await source.selectorsFor(domain) : [];
        const reportSources: ReportSource[] = source?.reportSourcesFor ? await source.reportSourcesFor(domain) : [];
        const reportedPolicy = source?.reportedPolicyFor ? await source.reportedPolicyFor(domain) : null;
        const check = await checkDomain(domain, {
          resolver: lookup,
          selectors: [...flags.selector, ...fromReports],
          reportSources,
          reportedPolicy,
          ...(deps.fetchPolicy ? { fetchPolicy: deps.fetchPolicy } : {}),
          ...(deps.now ? { now: deps.now } : {}),
        });
        if (history) await history.save(check);
        checks[i] = check;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, domains.length) }, worker));

    if (flags.json) stdout.write(`${JSON.stringify(checks.length === 1 ? checks[0] : checks, null, 2)}\n`);
    else {
      const color = stdout.isTTY === true && !env['NO_COLOR'];
      stdout.write(checks.map((c) => formatDomainCheck(c, { color })).join('\n'));
    }
    const failed = checks.some((c) => c.records.some((r) => r.findings.some((f) => f.severity === 'error')));
    setExitCode(failed ? 1 : 0);
  } finally {
    await source?.close();
    await history?.close();
  }
}

async function openOptional<T>(open: ((url: string) => Promise<T>) | undefined, url: string, what: string, stderr: { write(s: string): unknown }): Promise<T | null> {
  if (open === undefined) {
    stderr.write(`dmarc-lens check: --db given, but ${what} is not available in this build; continuing without it\n`);
    return null;
  }
  return open(url);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)];
}
