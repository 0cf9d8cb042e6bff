/**
 * Enrichment of the stored sources (never part of ingest): the distinct source IPs of the stored aggregate
 * records, newest reports first, streamed (one report's IPs at a time) into enrichIps with the database cache.
 * Used by `dmarc-lens enrich` and by a server that enriches in the background after new reports arrive.
 */
import { enrichIps, type EnrichOptions, type EnrichSummary } from '../enrich/enrich-ips.ts';
import { parseIp } from '../enrich/ip-address.ts';
import type { Database } from '../store/database.ts';
import { createEnrichmentCacheStore } from '../store/enrichment-cache-store.ts';

const REPORT_PAGE = 200;

/** Distinct valid source IPs of the stored records, newest reports first (each IP once). */
export async function* storedSourceIps(db: Database, opts: { since?: number } = {}): AsyncGenerator<string> {
  const seen = new Set<string>();
  let after: [number, number] | null = null;
  for (;;) {
    const params: number[] = [];
    const where: string[] = [];
    if (opts.since !== undefined) {
      where.push('period_end >= ?');
      params.push(opts.since);
    }
    if (after) {
      where.push('(period_end < ? OR (period_end = ? AND id < ?))');
      params.push(after[0], after[0], after[1]);
    }
    const reports = await db.driver.query(
      `SELECT id, period_end FROM aggregate_reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY period_end DESC, id DESC LIMIT ${REPORT_PAGE}`,
      params,
    );
    for (const r of reports) {
      const rows = await db.driver.query('SELECT DISTINCT source_ip FROM aggregate_records WHERE report_id = ?', [Number(r.id)]);
      for (const row of rows) {
        const ip = row.source_ip == null ? null : parseIp(String(row.source_ip))?.text;
        if (!ip || seen.has(ip)) continue;
        seen.add(ip);
        yield ip;
      }
    }
    const last = reports.at(-1);
    if (!last || reports.length < REPORT_PAGE) return;
    after = [Number(last.period_end), Number(last.id)];
  }
}

/** Enriches every stored source IP whose cache entry is missing or expired (all of them with `force`). */
export async function enrichStoredSources(
  db: Database,
  opts: Omit<EnrichOptions, 'cache'> & { since?: number } = {},
): Promise<EnrichSummary> {
  const cache = createEnrichmentCacheStore(db.driver, opts.now);
  return enrichIps(storedSourceIps(db, { ...(opts.since !== undefined ? { since: opts.since } : {}) }), { ...opts, cache });
}
