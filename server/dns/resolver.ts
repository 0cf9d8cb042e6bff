/**
 * The one place that talks to DNS: a thin wrapper over node's c-ares Resolver with a per-lookup timeout,
 * a bounded in-memory cache that honours TTLs (and coalesces identical lookups in flight), and
 * resolver errors turned into values (NXDOMAIN, NODATA, SERVFAIL, TIMEOUT, REFUSED, ERROR).
 */
import { promises as dnsPromises } from 'node:dns';
import type { DnsAnswer, DnsErrorKind, DnsLookup, MxRecord } from './check-types.ts';

// The --resolver value's parser lives in its own module, shared with enrichment.
export { parseResolverSpec, RESOLVER_ENV } from './resolver-address.ts';

export interface ResolverOptions {
  /** name servers as "IP", "IP:PORT" or "[IPv6]:PORT"; the system resolvers when absent */
  servers?: string[];
  /** timeout of one try in ms (default 2500) */
  timeoutMs?: number;
  /** tries per server (default 2) */
  tries?: number;
  /** false turns the cache off (default on) */
  cache?: boolean;
  maxCacheEntries?: number;
  /** TTL used for TXT and MX answers, for which node does not expose the TTL (default 300 s) */
  defaultTtlSec?: number;
  /** how long NXDOMAIN / NODATA are cached (default 60 s); SERVFAIL, TIMEOUT etc. are never cached */
  negativeTtlSec?: number;
  /** clock in ms, for tests */
  now?: () => number;
}

export interface CachingResolver extends DnsLookup {
  readonly servers: string[];
  /** number of lookups that went to the network (cache misses), for tests and stats */
  readonly networkLookups: number;
  clearCache(): void;
}

const ERROR_KINDS: Record<string, DnsErrorKind> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'NODATA',
  ESERVFAIL: 'SERVFAIL',
  ETIMEOUT: 'TIMEOUT',
  EREFUSED: 'REFUSED',
};

type Rrtype = 'TXT' | 'MX' | 'A' | 'AAAA';
type Entry = { expiresAt: number; answer: DnsAnswer<unknown> };

export function createResolver(options: ResolverOptions = {}): CachingResolver {
  const timeoutMs = options.timeoutMs ?? 2500;
  const tries = options.tries ?? 2;
  const useCache = options.cache ?? true;
  const maxEntries = options.maxCacheEntries ?? 5000;
  const defaultTtl = options.defaultTtlSec ?? 300;
  const negativeTtl = options.negativeTtlSec ?? 60;
  const now = options.now ?? Date.now;
  const resolver = new dnsPromises.Resolver({ timeout: timeoutMs, tries });
  if (options.servers && options.servers.length > 0) resolver.setServers(options.servers);
  // c-ares retries with a growing timeout; this guard only makes sure a lookup can never hang.
  const guardMs = timeoutMs * 2 ** Math.min(tries, 4) + 1000;

  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<DnsAnswer<unknown>>>();
  let networkLookups = 0;

  async function query(type: Rrtype, name: string): Promise<DnsAnswer<unknown>> {
    networkLookups++;
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<DnsAnswer<unknown>>((resolve) => {
      timer = setTimeout(() => resolve(failure('TIMEOUT', `no answer for ${type} ${name} within ${guardMs} ms`)), guardMs);
    });
    const lookup = runQuery(type, name).then(
      (answer) => answer,
      (err: unknown) => mapError(err, type, name),
    );
    try {
      return await Promise.race([lookup, guard]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function runQuery(type: Rrtype, name: string): Promise<DnsAnswer<unknown>> {
    switch (type) {
      case 'TXT': {
        const value = await resolver.resolveTxt(name);
        return nonEmpty(value, defaultTtl, type, name);
      }
      case 'MX': {
        const value: MxRecord[] = (await resolver.resolveMx(name)).map((r) => ({ priority: r.priority, exchange: r.exchange }));
        return nonEmpty(value, defaultTtl, type, name);
      }
      case 'A':
      case 'AAAA': {
        const records = type === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
        const ttl = records.reduce((min, r) => Math.min(min, r.ttl), Number.POSITIVE_INFINITY);
        return nonEmpty(records.map((r) => r.address), Number.isFinite(ttl) ? ttl : defaultTtl, type, name);
      }
    }
  }

  function mapError(err: unknown, type: Rrtype, name: string): DnsAnswer<unknown> {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'UNKNOWN';
    const kind = ERROR_KINDS[code] ?? 'ERROR';
    return failure(kind, `${type} ${name}: ${code}`, kind === 'NXDOMAIN' || kind === 'NODATA' ? negativeTtl : 0);
  }

  function nonEmpty(value: unknown[], ttl: number, type: Rrtype, name: string): DnsAnswer<unknown> {
    if (value.length === 0) return failure('NODATA', `${type} ${name}: no records`, negativeTtl);
    return { ok: true, value, ttl };
  }

  async function cached<T>(type: Rrtype, rawName: string): Promise<DnsAnswer<T>> {
    const name = normalizeName(rawName);
    if (!isQueryableName(name)) return failure('ERROR', `${type} ${JSON.stringify(rawName)}: not a valid DNS name`) as DnsAnswer<T>;
    if (!useCache) return (await query(type, name)) as DnsAnswer<T>;
    const key = `${type} ${name}`;
    const hit = cache.get(key);
    const t = now();
    if (hit && hit.expiresAt > t) return { ...hit.answer, ttl: Math.max(0, Math.ceil((hit.expiresAt - t) / 1000)) } as DnsAnswer<T>;
    if (hit) cache.delete(key);
    const pending = inFlight.get(key);
    if (pending) return (await pending) as DnsAnswer<T>;
    const promise = query(type, name);
    inFlight.set(key, promise);
    try {
      const answer = await promise;
      if (answer.ttl > 0) {
        cache.set(key, { expiresAt: now() + answer.ttl * 1000, answer });
        while (cache.size > maxEntries) {
          const oldest = cache.keys().next().value;
          if (oldest === undefined) break;
          cache.delete(oldest);
        }
      }
      return answer as DnsAnswer<T>;
    } finally {
      inFlight.delete(key);
    }
  }

  return {
    servers: options.servers ?? resolver.getServers(),
    get networkLookups() {
      return networkLookups;
    },
    clearCache: () => cache.clear(),
    txt: (name) => cached<string[][]>('TXT', name),
    mx: (name) => cached<MxRecord[]>('MX', name),
    a: (name) => cached<string[]>('A', name),
    aaaa: (name) => cached<string[]>('AAAA', name),
  };
}

function failure(error: DnsErrorKind, detail: string, ttl = 0): DnsAnswer<never> {
  return { ok: false, error, detail, ttl };
}

export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** Labels of 1..63 octets, 253 in all; underscores allowed (they appear in _dmarc, _domainkey, …). */
function isQueryableName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => label.length > 0 && label.length <= 63 && /^[a-z0-9_*-]+$/.test(label));
}
