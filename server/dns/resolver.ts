/**
 * The one place that talks to DNS: A/AAAA through node's c-ares Resolver, TXT/MX through dns-wire.ts (node does
 * not report their TTLs), each with a per-lookup timeout; a bounded in-memory cache that honours the answers'
 * TTLs (and coalesces identical lookups in flight); resolver errors turned into values (NXDOMAIN, NODATA,
 * SERVFAIL, TIMEOUT, REFUSED, ERROR).
 */
import { promises as dnsPromises } from 'node:dns';
import type { DnsAnswer, DnsErrorKind, DnsLookup, MxRecord } from './check-types.ts';
import { parseServer, queryServer, WireError, type WireAnswer, type WireType } from './dns-wire.ts';

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
  /** TTL used when an answer carries none (default 300 s) */
  defaultTtlSec?: number;
  /** the longest NXDOMAIN / NODATA are cached (default 60 s; less when the zone's SOA says so); SERVFAIL, TIMEOUT etc. are never cached */
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
  const wireServers = resolver.getServers().map(parseServer);
  // c-ares retries with a growing timeout, dns-wire with `tries` tries per server; this guard only makes sure a
  // lookup can never hang, however many servers there are.
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
      case 'TXT':
      case 'MX':
        return wireQuery(type, name);
      case 'A':
      case 'AAAA': {
        const records = type === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
        const ttl = records.reduce((min, r) => Math.min(min, r.ttl), Number.POSITIVE_INFINITY);
        return nonEmpty(records.map((r) => r.address), Number.isFinite(ttl) ? ttl : defaultTtl, type, name);
      }
    }
  }

  /** Like c-ares: `tries` attempts per server, the next server after SERVFAIL, REFUSED or an unreachable one. */
  async function wireQuery(type: WireType, name: string): Promise<DnsAnswer<unknown>> {
    let last: DnsAnswer<unknown> = failure('ERROR', `${type} ${name}: no name server`);
    for (const server of wireServers) {
      for (let attempt = 0; attempt < tries; attempt++) {
        let answer: WireAnswer;
        try {
          answer = await queryServer(server, name, type, timeoutMs);
        } catch (e) {
          const code = e instanceof WireError ? e.code : 'UNKNOWN';
          last = code === 'ETIMEOUT' ? failure('TIMEOUT', `${type} ${name}: ${code}`) : failure('ERROR', `${type} ${name}: ${code}`);
          if (code === 'ETIMEOUT') continue;
          break;
        }
        const mapped = fromWire(answer, type, name);
        if (answer.rcode !== 2 && answer.rcode !== 5) return mapped;
        last = mapped;
        break;
      }
    }
    return last;
  }

  function fromWire(answer: WireAnswer, type: WireType, name: string): DnsAnswer<unknown> {
    const negative = Math.min(answer.negativeTtl ?? negativeTtl, negativeTtl);
    switch (answer.rcode) {
      case 0:
        return answer.records.length > 0 ? { ok: true, value: answer.records, ttl: answer.ttl ?? defaultTtl } : failure('NODATA', `${type} ${name}: no records`, negative);
      case 3:
        return failure('NXDOMAIN', `${type} ${name}: ENOTFOUND`, negative);
      case 2:
        return failure('SERVFAIL', `${type} ${name}: ESERVFAIL`);
      case 5:
        return failure('REFUSED', `${type} ${name}: EREFUSED`);
      default:
        return failure('ERROR', `${type} ${name}: rcode ${answer.rcode}`);
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
