/**
 * CachedChecker: checkDomain for the web server, which may ask for the same domain many times.
 * A result is kept for the smallest TTL of the answers it was built from, bounded to [minTtl, maxTtl];
 * concurrent requests for the same check share one run; fresh results go to the optional CheckHistory.
 */
import { checkDomain, normalizeDomain } from './check-domain.ts';
import {
  InvalidDomainError,
  type CheckHistory,
  type DnsAnswer,
  type DnsLookup,
  type DomainCheck,
  type PolicyFetcher,
  type ReportedPolicy,
  type ReportSource,
} from './check-types.ts';

export interface CachedCheckerOptions {
  lookup: DnsLookup;
  fetchPolicy?: PolicyFetcher;
  history?: CheckHistory;
  /** called when saving to the history fails (the check itself still succeeds) */
  onHistoryError?: (err: unknown) => void;
  minTtlSec?: number;
  maxTtlSec?: number;
  maxEntries?: number;
  now?: () => Date;
}

export interface CachedResult {
  check: DomainCheck;
  /** true when served from the cache */
  cached: boolean;
  /** ISO time after which the next call runs the check again */
  expiresAt: string;
}

export interface CheckRequest {
  selectors?: string[];
  reportSources?: ReportSource[];
  /** the DMARC policy the stored reports show and since when (p=none for long) */
  reportedPolicy?: ReportedPolicy | null;
  /** run the check even if a cached result is still fresh */
  force?: boolean;
}

type Entry = { result: DomainCheck; expiresAt: number };

export class CachedChecker {
  private readonly entries = new Map<string, Entry>();
  private readonly running = new Map<string, Promise<CachedResult>>();
  private readonly minTtl: number;
  private readonly maxTtl: number;
  private readonly maxEntries: number;
  private readonly now: () => Date;

  constructor(private readonly options: CachedCheckerOptions) {
    this.minTtl = options.minTtlSec ?? 60;
    this.maxTtl = Math.max(options.maxTtlSec ?? 3600, this.minTtl);
    this.maxEntries = options.maxEntries ?? 1000;
    this.now = options.now ?? (() => new Date());
  }

  async check(input: string, request: CheckRequest = {}): Promise<CachedResult> {
    const domain = normalizeDomain(input);
    if (domain === null) throw new InvalidDomainError(input);
    const key = cacheKey(domain, request);
    const hit = this.entries.get(key);
    if (hit && !request.force && hit.expiresAt > this.now().getTime()) {
      return { check: hit.result, cached: true, expiresAt: new Date(hit.expiresAt).toISOString() };
    }
    const pending = this.running.get(key);
    if (pending) return pending;
    const run = this.run(domain, key, request).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** Forgets cached results for one domain (all selector sets), or for every domain. */
  invalidate(input?: string): void {
    if (input === undefined) {
      this.entries.clear();
      return;
    }
    const domain = normalizeDomain(input);
    for (const key of this.entries.keys()) if (key.startsWith(`${domain}|`)) this.entries.delete(key);
  }

  private async run(domain: string, key: string, request: CheckRequest): Promise<CachedResult> {
    let minTtl = Number.POSITIVE_INFINITY;
    const observe = <T>(answer: DnsAnswer<T>): DnsAnswer<T> => {
      if (answer.ttl > 0) minTtl = Math.min(minTtl, answer.ttl);
      return answer;
    };
    const inner = this.options.lookup;
    const recording: DnsLookup = {
      txt: async (n) => observe(await inner.txt(n)),
      mx: async (n) => observe(await inner.mx(n)),
      a: async (n) => observe(await inner.a(n)),
      aaaa: async (n) => observe(await inner.aaaa(n)),
    };
    const check = await checkDomain(domain, {
      resolver: recording,
      ...(request.selectors ? { selectors: request.selectors } : {}),
      ...(request.reportSources ? { reportSources: request.reportSources } : {}),
      ...(request.reportedPolicy ? { reportedPolicy: request.reportedPolicy } : {}),
      ...(this.options.fetchPolicy ? { fetchPolicy: this.options.fetchPolicy } : {}),
      now: this.now,
    });
    const ttl = Math.min(this.maxTtl, Math.max(this.minTtl, Number.isFinite(minTtl) ? minTtl : this.minTtl));
    const expiresAt = this.now().getTime() + ttl * 1000;
    this.entries.delete(key);
    this.entries.set(key, { result: check, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    if (this.options.history) {
      try {
        await this.options.history.save(check);
      } catch (err) {
        this.options.onHistoryError?.(err);
      }
    }
    return { check, cached: false, expiresAt: new Date(expiresAt).toISOString() };
  }
}

function cacheKey(domain: string, request: CheckRequest): string {
  const selectors = [...new Set((request.selectors ?? []).map((s) => s.trim().toLowerCase()))].sort().join(',');
  const sources = (request.reportSources ?? []).map((s) => `${s.ip}${s.spfPassed ? '+' : '-'}`).sort().join(',');
  const policy = request.reportedPolicy ? `${request.reportedPolicy.p}@${request.reportedPolicy.since}` : '';
  return `${domain}|${selectors}|${sources}|${policy}`;
}
