/**
 * Enriches source IPs: reverse DNS (+ forward confirmation), base domain, ASN / AS org and country from the
 * offline databases. Runs after ingest, with bounded concurrency; fresh cache entries are not looked up again.
 * Never throws for a bad IP or a DNS failure: the result records the error kind. Memory stays bounded: IPs are
 * pulled from the (possibly lazy) input one at a time by at most `concurrency` workers, results are handed to
 * `onResult` and the cache, not collected.
 */
import { getDomain } from 'tldts';
import { sharedAsnDatabase, type AsnInfo } from './asn-db.ts';
import { sharedCountryDatabase } from './country-db.ts';
import { DEFAULT_TTLS, ttlFor, type EnrichErrorKind, type EnrichTtls, type Enrichment, type EnrichmentCache } from './enrichment.ts';
import { parseIp } from './ip-address.ts';
import { createLimiter } from './limiter.ts';
import { DEFAULT_DNS_TIMEOUT_MS, DEFAULT_DNS_TRIES, createResolver, queryDeadlineMs, type ReverseResolver } from './resolver.ts';
import { reverseLookup } from './reverse-dns.ts';

export interface EnrichProgress {
  done: number;
  fromCache: number;
  lookedUp: number;
  errors: number;
}

export interface EnrichOptions {
  /** a ready resolver (tests, shared instance); otherwise one is made from servers/timeoutMs/tries */
  resolver?: ReverseResolver;
  servers?: string[];
  timeoutMs?: number;
  tries?: number;
  /** most IPs in flight at once (default 32) */
  concurrency?: number;
  cache?: EnrichmentCache;
  /** look up again even when the cache holds a fresh entry */
  force?: boolean;
  ttls?: Partial<EnrichTtls>;
  asn?: OfflineDatabase<AsnInfo>;
  country?: OfflineDatabase<string>;
  /** epoch seconds */
  now?: () => number;
  onResult?: (e: Enrichment, fromCache: boolean) => void | Promise<void>;
  onProgress?: (p: EnrichProgress) => void;
  /** call onProgress every this many IPs (default 1000), and at the end unless that count was just reported */
  progressEvery?: number;
  signal?: AbortSignal;
}

export interface EnrichSummary extends EnrichProgress {
  /** IPs given more than once in the input (enriched once) */
  duplicates: number;
  errorsByKind: Partial<Record<EnrichErrorKind, number>>;
  /** the most look-ups that ran at the same time (≤ concurrency) */
  peakConcurrency: number;
  aborted: boolean;
}

export const DEFAULT_CONCURRENCY = 32;

/** An offline look-up table; `preload` reads it now (the installed databases load lazily otherwise). */
export interface OfflineDatabase<T> {
  lookup(ip: string): T | null;
  preload?(): void;
}

/** Enriches one IP without the cache. */
export async function enrichIp(ip: string, opts: EnrichOptions = {}): Promise<Enrichment> {
  const resolver = opts.resolver ?? createResolver({ servers: opts.servers, timeoutMs: opts.timeoutMs, tries: opts.tries });
  const dbs = databasesOf(opts);
  preload(dbs);
  return lookUp(ip, resolver, opts, dbs);
}

interface Databases {
  asn: OfflineDatabase<AsnInfo>;
  country: OfflineDatabase<string>;
}

function databasesOf(opts: EnrichOptions): Databases {
  return { asn: opts.asn ?? sharedAsnDatabase(), country: opts.country ?? sharedCountryDatabase() };
}

/**
 * Reading the ASN tables takes about a second of synchronous work. Done in the middle of a run, it would
 * stall the event loop while other look-ups are in flight: their answers would sit unread past the resolver
 * timeout and be recorded (and cached) as timeouts. So it is done before the first DNS query is sent.
 */
function preload(dbs: Databases): void {
  safeSync(() => dbs.asn.preload?.());
  safeSync(() => dbs.country.preload?.());
}

export async function enrichIps(ips: Iterable<string> | AsyncIterable<string>, opts: EnrichOptions = {}): Promise<EnrichSummary> {
  const resolver = opts.resolver ?? createResolver({ servers: opts.servers, timeoutMs: opts.timeoutMs, tries: opts.tries });
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const limiter = createLimiter(concurrency);
  const ttls: EnrichTtls = { ...DEFAULT_TTLS, ...opts.ttls };
  const every = Math.max(1, opts.progressEvery ?? 1000);
  const seen = new Set<string>();
  const dbs = databasesOf(opts);
  // loaded on the first cache miss (a run that finds everything fresh in the cache never reads them); that
  // worker loads them synchronously before its query, so no other query can be in flight yet
  let loaded = false;
  const s: EnrichSummary = { done: 0, fromCache: 0, lookedUp: 0, errors: 0, duplicates: 0, errorsByKind: {}, peakConcurrency: 0, aborted: false };
  let reported = -1;
  const report = (): void => {
    reported = s.done;
    opts.onProgress?.({ done: s.done, fromCache: s.fromCache, lookedUp: s.lookedUp, errors: s.errors });
  };

  const one = async (raw: string, key: string, valid: boolean): Promise<void> => {
    let e: Enrichment | null = null;
    let cached = false;
    if (opts.cache && !opts.force && valid) {
      e = await safely(() => opts.cache!.get(key));
      cached = e !== null;
    }
    if (!e) {
      if (!loaded) {
        loaded = true;
        preload(dbs);
      }
      e = await limiter.run(() => lookUp(raw, resolver, opts, dbs));
      s.lookedUp++;
      if (opts.cache && valid) await safely(() => opts.cache!.put(key, e!, ttlFor(e!, ttls)));
    } else s.fromCache++;
    if (e.dnsError) {
      s.errors++;
      s.errorsByKind[e.dnsError] = (s.errorsByKind[e.dnsError] ?? 0) + 1;
    }
    const done = ++s.done;
    if (done % every === 0) report();
    if (opts.onResult) await opts.onResult(e, cached);
  };

  // `concurrency` workers pull from one shared iterator: input is consumed lazily, never buffered whole.
  const iterator = toAsyncIterator(ips);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (opts.signal?.aborted) {
        s.aborted = true;
        return;
      }
      const next = await iterator.next();
      if (next.done) return;
      const raw = String(next.value);
      const parsed = parseIp(raw);
      const key = parsed?.text ?? raw;
      if (seen.has(key)) {
        s.duplicates++;
        continue;
      }
      seen.add(key);
      await one(raw, key, parsed !== null);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  s.peakConcurrency = limiter.peak;
  if (reported !== s.done) report();
  return s;
}

async function lookUp(raw: string, resolver: ReverseResolver, opts: EnrichOptions, dbs: Databases): Promise<Enrichment> {
  const now = opts.now?.() ?? Math.floor(Date.now() / 1000);
  const parsed = parseIp(raw);
  if (!parsed) {
    return { ip: raw, ptr: null, forwardConfirmed: null, baseDomain: null, asn: null, asOrg: null, country: null, dnsError: 'bad-ip', enrichedAt: now };
  }
  const deadline = queryDeadlineMs(opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS, opts.tries ?? DEFAULT_DNS_TRIES);
  const rdns = await reverseLookup(parsed.text, resolver, deadline);
  const asn = safeSync(() => dbs.asn.lookup(parsed.text));
  const country = safeSync(() => dbs.country.lookup(parsed.text));
  return {
    ip: parsed.text,
    ptr: rdns.ptr,
    forwardConfirmed: rdns.forwardConfirmed,
    baseDomain: rdns.ptr ? (getDomain(rdns.ptr) ?? null) : null,
    asn: asn?.asn ?? null,
    asOrg: asn?.org ?? null,
    country: country ?? null,
    dnsError: rdns.error,
    enrichedAt: now,
  };
}

function toAsyncIterator(ips: Iterable<string> | AsyncIterable<string>): AsyncIterator<string> {
  if (Symbol.asyncIterator in ips) return ips[Symbol.asyncIterator]();
  const it = ips[Symbol.iterator]();
  return { next: async () => it.next() };
}

/** A failing cache must not stop enrichment: a read error is a miss, a write error is ignored. */
async function safely<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch {
    return null;
  }
}

function safeSync<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
