/**
 * What enrichment knows about one source IP, and the cache it is kept in.
 * Facts only: which service an IP belongs to is decided later by the known-senders matcher, so a change of the
 * operator's config takes effect without re-running DNS.
 */

/** Why reverse DNS gave no (confirmed) name. Stable, kebab-case. */
export type EnrichErrorKind = 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'refused' | 'error' | 'bad-ip';

export interface Enrichment {
  /** canonical text of the address (IPv4-mapped IPv6 shown as IPv4); the raw input when it is not an address */
  ip: string;
  /** PTR name (lower-case, no trailing dot); the forward-confirmed one when several exist */
  ptr: string | null;
  /** true: an A/AAAA of `ptr` is the IP; false: it is not (or the name does not resolve); null: no PTR or unknown */
  forwardConfirmed: boolean | null;
  /** registrable domain of `ptr` by the public suffix list (ICANN section), e.g. "outlook.com" */
  baseDomain: string | null;
  asn: number | null;
  asOrg: string | null;
  /** ISO 3166-1 alpha-2 */
  country: string | null;
  /** why there is no PTR name (null when the reverse look-up answered) */
  dnsError: EnrichErrorKind | null;
  /** epoch seconds */
  enrichedAt: number;
}

/** Persistent cache with TTL. `get` returns null when absent or expired. */
export interface EnrichmentCache {
  get(ip: string): Promise<Enrichment | null>;
  put(ip: string, e: Enrichment, ttlSeconds: number): Promise<void>;
}

export interface EnrichTtls {
  /** a PTR was found (seconds) */
  found: number;
  /** definitive negative answer: NXDOMAIN / NODATA / bad IP */
  negative: number;
  /** transient failure: timeout / SERVFAIL / REFUSED / other */
  transient: number;
}

export const DEFAULT_TTLS: Readonly<EnrichTtls> = Object.freeze({
  found: 7 * 86400,
  negative: 86400,
  transient: 3600,
});

/**
 * How long an entry stays fresh. A PTR name whose forward confirmation is unknown (the A/AAAA look-up timed out
 * or failed) counts as a transient failure: known senders are matched only by confirmed names, so keeping
 * such an entry for the week of a found name would leave the source unrecognized all that time.
 */
export function ttlFor(e: Enrichment, ttls: EnrichTtls = DEFAULT_TTLS): number {
  if (e.dnsError === null) return e.ptr !== null && e.forwardConfirmed === null ? ttls.transient : ttls.found;
  if (e.dnsError === 'nxdomain' || e.dnsError === 'nodata' || e.dnsError === 'bad-ip') return ttls.negative;
  return ttls.transient;
}

/**
 * In-memory implementation (the store-backed one lives with the store). Bounded: beyond `maxEntries` the
 * oldest inserted entry is dropped.
 */
export class MemoryEnrichmentCache implements EnrichmentCache {
  private readonly map = new Map<string, { e: Enrichment; expires: number }>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  gets = 0;
  hits = 0;

  constructor(opts: { now?: () => number; maxEntries?: number } = {}) {
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.maxEntries = opts.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.map.size;
  }

  async get(ip: string): Promise<Enrichment | null> {
    this.gets++;
    const hit = this.map.get(ip);
    if (!hit) return null;
    if (hit.expires <= this.now()) {
      this.map.delete(ip);
      return null;
    }
    this.hits++;
    return hit.e;
  }

  async put(ip: string, e: Enrichment, ttlSeconds: number): Promise<void> {
    this.map.delete(ip);
    this.map.set(ip, { e, expires: this.now() + ttlSeconds });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }
}
