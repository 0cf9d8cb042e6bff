/**
 * The SQL of the analytics views, one function per query, over the rollup tables (server/store/analytics-rollup.ts)
 * and the report headers. `?` placeholders only; the same text runs on SQLite and PostgreSQL.
 */
import { rollupDomain } from '../store/analytics-rollup.ts';
import type { Driver } from '../store/driver.ts';
import { keyText } from '../store/report-keys.ts';
import { Where } from '../store/sql-build.ts';
import { DAY, rollupWhere, type DayFilter } from './analytics-filter.ts';
import type { PublishedPolicy } from './analytics-types.ts';

/** counts of one (domain, day, disposition, DKIM aligned, SPF aligned) cell */
export interface DomainDayRow {
  domain: string;
  day: number;
  disposition: string;
  dkimAligned: boolean;
  spfAligned: boolean;
  messages: number;
}

export async function distinctDomains(driver: Driver): Promise<string[]> {
  const rows = await driver.query('SELECT DISTINCT domain FROM rollup_domains ORDER BY domain');
  return rows.map((r) => String(r.domain));
}

/** The domain rollup cells, summed over days unless `byDay`. */
export async function domainCells(driver: Driver, f: DayFilter, byDay: boolean): Promise<DomainDayRow[]> {
  const where = rollupWhere(f);
  const day = byDay ? 'day' : '0';
  const rows = await driver.query(
    `SELECT domain, ${day} AS day, disposition, dkim_aligned, spf_aligned, CAST(sum(messages) AS BIGINT) AS messages
     FROM rollup_domains ${where} GROUP BY domain, ${byDay ? 'day, ' : ''}disposition, dkim_aligned, spf_aligned`,
    where.params,
  );
  return rows.map((r) => ({
    domain: String(r.domain),
    day: Number(r.day),
    disposition: String(r.disposition),
    dkimAligned: Number(r.dkim_aligned) === 1,
    spfAligned: Number(r.spf_aligned) === 1,
    messages: Number(r.messages),
  }));
}

/** the newest day with data for the domain (all domains when absent), or null */
export async function newestDay(driver: Driver, domain?: string): Promise<number | null> {
  const where = new Where();
  if (domain !== undefined) where.add('domain = ?', domain);
  const [row] = await driver.query(`SELECT max(day) AS day FROM rollup_domains ${where}`, where.params);
  return row?.day == null ? null : Number(row.day);
}

/** One (source IP, auth facts) row of a domain, summed over the filter's days. */
export interface SourceAuthRow {
  domain: string;
  ip: string;
  authKey: number;
  messages: number;
  firstDay: number;
  lastDay: number;
}

export async function sourceAuthRows(driver: Driver, f: DayFilter & { domain: string }): Promise<SourceAuthRow[]> {
  const where = rollupWhere(f);
  const rows = await driver.query(
    `SELECT source_ip, auth_key, CAST(sum(messages) AS BIGINT) AS messages, min(day) AS first_day, max(day) AS last_day
     FROM rollup_sources ${where} GROUP BY source_ip, auth_key`,
    where.params,
  );
  return rows.map((r) => ({
    domain: f.domain,
    ip: String(r.source_ip),
    authKey: Number(r.auth_key),
    messages: Number(r.messages),
    firstDay: Number(r.first_day),
    lastDay: Number(r.last_day),
  }));
}

/** The authentication facts behind rollup_sources.auth_key. */
export interface AuthRow {
  authKey: number;
  domain: string;
  headerFrom: string | null;
  dkimDomain: string | null;
  dkimSelector: string | null;
  dkimResult: string;
  dkimAligned: boolean;
  spfAligned: boolean;
  forwarded: boolean;
  arc: boolean;
  overrideReasons: string[];
  dkimPassDomains: string[];
}

export async function authRows(driver: Driver, domain: string): Promise<Map<number, AuthRow>> {
  const rows = await driver.query('SELECT * FROM rollup_auth WHERE domain = ?', [domain]);
  const list = (v: unknown) => (v ? String(v).split(',').filter(Boolean) : []);
  const orNull = (v: unknown) => (v == null || v === '' ? null : String(v));
  return new Map(
    rows.map((r) => {
      const a: AuthRow = {
        authKey: Number(r.auth_key),
        domain: String(r.domain),
        headerFrom: orNull(r.header_from),
        dkimDomain: orNull(r.dkim_domain),
        dkimSelector: orNull(r.dkim_selector),
        dkimResult: String(r.dkim_result || 'none'),
        dkimAligned: Number(r.dkim_aligned) === 1,
        spfAligned: Number(r.spf_aligned) === 1,
        forwarded: Number(r.forwarded) === 1,
        arc: Number(r.arc) === 1,
        overrideReasons: list(r.override_reasons),
        dkimPassDomains: list(r.dkim_pass_domains),
      };
      return [a.authKey, a];
    }),
  );
}

/** Distinct source IPs of a domain in the filter's days. */
export async function sourceIps(driver: Driver, f: DayFilter & { domain: string }): Promise<string[]> {
  const where = rollupWhere(f);
  const rows = await driver.query(`SELECT DISTINCT source_ip FROM rollup_sources ${where}`, where.params);
  return rows.map((r) => String(r.source_ip));
}

export interface SelectorCell {
  domain: string;
  dkimDomain: string;
  selector: string;
  result: string;
  messages: number;
  firstSeen: number;
  lastSeen: number;
}

export async function selectorCells(driver: Driver, f: DayFilter): Promise<SelectorCell[]> {
  const where = rollupWhere(f);
  const rows = await driver.query(
    `SELECT domain, dkim_domain, selector, result, CAST(sum(messages) AS BIGINT) AS messages, min(first_seen) AS first_seen, max(last_seen) AS last_seen
     FROM rollup_selectors ${where} GROUP BY domain, dkim_domain, selector, result`,
    where.params,
  );
  return rows.map((r) => ({
    domain: String(r.domain),
    dkimDomain: String(r.dkim_domain),
    selector: String(r.selector),
    result: String(r.result),
    messages: Number(r.messages),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
  }));
}

/** aggregate_reports.key_domain values of a rollup domain (which drops a trailing dot; key_domain keeps it) */
function keyDomains(domain: string): [string, string] {
  const k = keyText(domain);
  return [k, `${k}.`];
}

/** Reports per policy domain whose period overlaps the filter's days. */
export async function reportCounts(driver: Driver, f: DayFilter): Promise<Map<string, number>> {
  const where = new Where();
  if (f.domain !== undefined) where.add('key_domain IN (?, ?)', ...keyDomains(f.domain));
  if (f.fromDay !== undefined) where.add('period_end >= ?', f.fromDay);
  if (f.toDay !== undefined) where.add('period_begin <= ?', f.toDay + DAY - 1);
  const rows = await driver.query(`SELECT key_domain, count(*) AS n FROM aggregate_reports ${where} GROUP BY key_domain`, where.params);
  const out = new Map<string, number>();
  for (const r of rows) {
    const d = rollupDomain(String(r.key_domain));
    out.set(d, (out.get(d) ?? 0) + Number(r.n));
  }
  return out;
}

/** The policy published in the newest report of the domain ending on or before `until` (epoch seconds). */
export async function newestPolicy(driver: Driver, domain: string, until?: number): Promise<PublishedPolicy | null> {
  const where = new Where().add('key_domain IN (?, ?)', ...keyDomains(domain));
  if (until !== undefined) where.add('period_begin <= ?', until);
  const [r] = await driver.query(
    `SELECT policy_p, policy_sp, policy_np, policy_pct, policy_adkim, policy_aspf, policy_testing, period_end
     FROM aggregate_reports ${where} ORDER BY period_begin DESC, id DESC LIMIT 1`,
    where.params,
  );
  if (!r) return null;
  const t = (v: unknown) => (v == null ? null : String(v));
  return {
    p: t(r.policy_p),
    sp: t(r.policy_sp),
    np: t(r.policy_np),
    pct: r.policy_pct == null ? null : Number(r.policy_pct),
    adkim: t(r.policy_adkim),
    aspf: t(r.policy_aspf),
    testing: t(r.policy_testing),
    seenAt: Number(r.period_end),
  };
}

/** Distinct source IPs with DMARC-failing messages, per domain, in [fromDay, toDay]. */
export async function failingSourceCounts(driver: Driver, domain: string | undefined, fromDay: number, toDay: number): Promise<Map<string, number>> {
  const where = new Where().add('s.day >= ?', fromDay).add('s.day <= ?', toDay).add('a.dkim_aligned = 0').add('a.spf_aligned = 0');
  if (domain !== undefined) where.add('s.domain = ?', domain);
  const rows = await driver.query(
    `SELECT s.domain AS domain, count(DISTINCT s.source_ip) AS n FROM rollup_sources s JOIN rollup_auth a ON a.domain = s.domain AND a.auth_key = s.auth_key ${where} GROUP BY s.domain`,
    where.params,
  );
  return new Map(rows.map((r) => [String(r.domain), Number(r.n)]));
}
