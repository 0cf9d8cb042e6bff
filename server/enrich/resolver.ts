/**
 * The DNS resolver used by enrichment (and later the record checks): node's c-ares resolver with a
 * per-query timeout, pointed at `--resolver IP:PORT` / DMARC_LENS_RESOLVER when given (a test server on
 * loopback, a local cache), otherwise at the system resolvers.
 */
import { promises as dnsPromises } from 'node:dns';
import { parseResolverSpec as parseResolverAddresses, RESOLVER_ENV } from '../dns/resolver-address.ts';

export { RESOLVER_ENV };

/**
 * The three look-ups reverse DNS needs; node's `dns.promises.Resolver` satisfies it, tests may fake it.
 * (Not `reverse()`: it goes through getHostByAddr, which reports every failure, timeouts included, as ENOTFOUND.)
 */
export interface ReverseResolver {
  resolvePtr(name: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface ResolverOptions {
  /** servers in node's setServers format ("127.0.0.1:5353", "[::1]:53"); default: the system's */
  servers?: string[];
  /** per-query timeout (c-ares initial timeout), milliseconds; default 2000 */
  timeoutMs?: number;
  /** attempts per server (a lost UDP packet is retried); default 2 */
  tries?: number;
}

export const DEFAULT_DNS_TIMEOUT_MS = 2000;
export const DEFAULT_DNS_TRIES = 2;

/** The longest one query can take in c-ares (each retry round doubles the timeout), plus a second of slack. */
export function queryDeadlineMs(timeoutMs: number, tries: number): number {
  return timeoutMs * (2 ** Math.max(1, tries) - 1) + 1000;
}

export function createResolver(opts: ResolverOptions = {}): dnsPromises.Resolver {
  const r = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS, tries: opts.tries ?? DEFAULT_DNS_TRIES });
  if (opts.servers && opts.servers.length > 0) r.setServers(opts.servers);
  return r;
}

/**
 * Parses "IP", "IP:PORT", "[IPv6]:PORT" or a comma-separated list of them into node's setServers format.
 * Returns null when any entry is malformed (so config loading can list the problem).
 */
export function parseResolverSpec(spec: string): string[] | null {
  try {
    return parseResolverAddresses(spec);
  } catch {
    return null;
  }
}

/**
 * The servers to use: the flag wins over the environment; undefined means the system resolvers.
 * Throws a RangeError naming the bad value (the CLI turns it into a config problem).
 */
export function resolverServersFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = flag ?? env[RESOLVER_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const servers = parseResolverSpec(raw);
  if (!servers) throw new RangeError(`resolver ${JSON.stringify(raw)}: expected IP, IP:PORT or [IPv6]:PORT (comma-separated)`);
  return servers;
}
