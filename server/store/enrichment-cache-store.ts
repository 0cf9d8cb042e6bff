/**
 * The enrichment cache in the database (table enrichment_cache, migration 004): source IP → what reverse DNS and
 * the offline ASN / country databases said, until it expires. `get` honours the expiry (a fresh look-up is due);
 * `getMany` is for display and returns expired entries too (an old PTR name is better than none).
 */
import type { Enrichment, EnrichmentCache } from '../enrich/enrichment.ts';
import type { Driver, SqlValue } from './driver.ts';

export interface StoredEnrichment {
  enrichment: Enrichment;
  /** epoch seconds */
  expiresAt: number;
}

export interface DbEnrichmentCache extends EnrichmentCache {
  /** every cached entry of these IPs, expired or not (IPs not cached are absent) */
  getMany(ips: Iterable<string>): Promise<Map<string, StoredEnrichment>>;
  /** how many entries there are, and how many are expired now */
  stats(): Promise<{ entries: number; expired: number }>;
}

const IN_CHUNK = 500;

export function createEnrichmentCacheStore(driver: Driver, now: () => number = () => Math.floor(Date.now() / 1000)): DbEnrichmentCache {
  return {
    async get(ip) {
      const [row] = await driver.query('SELECT data FROM enrichment_cache WHERE ip = ? AND expires_at > ?', [ip, now()]);
      return row ? parse(row.data) : null;
    },
    async put(ip, e, ttlSeconds) {
      const at = now();
      await driver.transaction((tx) =>
        tx.query(
          `INSERT INTO enrichment_cache (ip, data, enriched_at, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (ip) DO UPDATE SET data = excluded.data, enriched_at = excluded.enriched_at, expires_at = excluded.expires_at`,
          [ip, JSON.stringify(e), Math.floor(e.enrichedAt ?? at), at + Math.max(0, Math.floor(ttlSeconds))],
        ),
      );
    },
    async getMany(ips) {
      const out = new Map<string, StoredEnrichment>();
      const list = [...new Set(ips)];
      for (let i = 0; i < list.length; i += IN_CHUNK) {
        const chunk: SqlValue[] = list.slice(i, i + IN_CHUNK);
        const rows = await driver.query(
          `SELECT ip, data, expires_at FROM enrichment_cache WHERE ip IN (${chunk.map(() => '?').join(', ')})`,
          chunk,
        );
        for (const row of rows) {
          const e = parse(row.data);
          if (e) out.set(String(row.ip), { enrichment: e, expiresAt: Number(row.expires_at) });
        }
      }
      return out;
    },
    async stats() {
      const [row] = await driver.query(
        'SELECT count(*) AS entries, coalesce(sum(CASE WHEN expires_at <= ? THEN 1 ELSE 0 END), 0) AS expired FROM enrichment_cache',
        [now()],
      );
      return { entries: Number(row?.entries ?? 0), expired: Number(row?.expired ?? 0) };
    },
  };
}

function parse(data: unknown): Enrichment | null {
  try {
    const e = JSON.parse(String(data)) as Enrichment;
    return e && typeof e === 'object' && typeof e.ip === 'string' ? e : null;
  } catch {
    return null;
  }
}
