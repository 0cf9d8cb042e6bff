/**
 * createAnalytics: the Analytics contract (analytics-types.ts) over the database — the daily rollups maintained
 * at ingest, the enrichment cache, the known-senders map with the operator's config and approvals — and the pure
 * rules of server/domain (classification, selectors, readiness). No raw records are read.
 */
import { readinessSourceOf, assessReadiness, type Readiness } from '../domain/readiness.ts';
import { selectorSlug, type Classification, type SourceGroup } from '../domain/classify.ts';
import { sharedAsnDatabase, type AsnInfo } from '../enrich/asn-db.ts';
import { sharedCountryDatabase } from '../enrich/country-db.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import { parseIp } from '../enrich/ip-address.ts';
import type { SenderConfig, SenderMatcher } from '../enrich/known-senders.ts';
import { deleteApproval, listApprovals, saveApproval, type StoredApproval } from '../store/analytics-approved-store.ts';
import type { Database } from '../store/database.ts';
import { createEnrichmentCacheStore } from '../store/enrichment-cache-store.ts';
import { DAY, dayFilter, isoDay, type DayFilter } from './analytics-filter.ts';
import type { Analytics, AnalyticsFilter, AuthCounts, DayPoint, DomainOverview, MonthlySummaryRow, SelectorRow, SourceRow } from './analytics-types.ts';
import { classifySources, sourceRow, type ClassifiedSource } from './classify-sources.ts';
import {
  authRows,
  distinctDomains,
  domainCells,
  failingSourceCounts,
  newestDay,
  newestPolicy,
  reportCounts,
  selectorCells,
  sourceAuthRows,
  sourceIps,
  type DomainDayRow,
} from './rollup-queries.ts';
import { selectorRows } from './selector-rows.ts';
import { senderMatcher, validApproval } from './sender-context.ts';
import { groupsFromRollups } from './source-groups.ts';

export interface AnalyticsDeps {
  /** the config file's `senders` section (own services, approved sources) */
  senders?: SenderConfig;
  /** epoch seconds */
  now?: () => number;
  /**
   * ASN / AS organization / country for IPs not enriched yet, from the offline databases (no network; they load
   * on first use, about a second). `false` turns this off; tests may pass their own tables.
   */
  offline?: false | { asn?: { lookup(ip: string): AsnInfo | null }; country?: { lookup(ip: string): string | null } };
}

/** The Analytics contract plus the operator's approvals as stored (for listing and undoing them). */
export interface StoreAnalytics extends Analytics {
  approvedSources(): Promise<StoredApproval[]>;
  /** false when no approval has this id */
  removeApprovedSource(id: number): Promise<boolean>;
  /** the classified sources with their groups and enrichment (CLI, readiness) */
  classifiedSources(filter: AnalyticsFilter): Promise<ClassifiedSource[]>;
}

export const DEFAULT_READINESS_DAYS = 30;
/** a timeline is filled with empty days between its ends, up to this many days */
const MAX_FILLED_DAYS = 3700;

export function createAnalytics(db: Database, deps: AnalyticsDeps = {}): StoreAnalytics {
  const driver = db.driver;
  const config = deps.senders ?? {};
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const cache = createEnrichmentCacheStore(driver, now);

  /** what the offline databases say about an IP not enriched yet (no PTR: that needs `dmarc-lens enrich`) */
  const offlineFacts = (ip: string): Enrichment | null => {
    if (deps.offline === false || !parseIp(ip)) return null;
    const safe = <T>(fn: () => T): T | null => {
      try {
        return fn();
      } catch {
        return null;
      }
    };
    const asn = safe(() => (deps.offline ? deps.offline.asn : undefined) ?? sharedAsnDatabase())?.lookup(ip) ?? null;
    const country = safe(() => ((deps.offline ? deps.offline.country : undefined) ?? sharedCountryDatabase()).lookup(ip));
    if (!asn && !country) return null;
    return { ip, ptr: null, forwardConfirmed: null, baseDomain: null, asn: asn?.asn ?? null, asOrg: asn?.org ?? null, country, dnsError: null, enrichedAt: now() };
  };

  const domainsOf = async (f: DayFilter): Promise<string[]> => (f.domain !== undefined ? [f.domain] : distinctDomains(driver));

  /**
   * The classified sources of the filter. `onlyFailing`: groups whose every message passed DKIM aligned are
   * compliant whatever else is known, and nothing about them matters to readiness but their count — they are
   * returned with a bare classification, without looking up who they are.
   */
  const classify = async (f: DayFilter, matcher: SenderMatcher, opts: { onlyFailing?: boolean; limit?: number } = {}): Promise<ClassifiedSource[]> => {
    const out: ClassifiedSource[] = [];
    const limit = opts.limit !== undefined && opts.limit >= 0 ? Math.floor(opts.limit) : Infinity;
    for (const domain of await domainsOf(f)) {
      const scoped = { ...f, domain };
      const [rows, auths] = await Promise.all([sourceAuthRows(driver, scoped), authRows(driver, domain)]);
      rows.sort((a, b) => b.messages - a.messages);
      let groups = [...groupsFromRollups(rows, auths).values()];
      if (groups.length > limit) groups = groups.sort((a, b) => b.messages - a.messages).slice(0, limit);
      const full = opts.onlyFailing ? groups.filter((g) => g.dkimAlignedPass < g.messages) : groups;
      const { enrichments, offline } = await enrichmentsOf(full);
      for (const c of classifySources(full, enrichments, matcher, offline)) out.push(c);
      if (opts.onlyFailing) for (const g of groups) if (g.dkimAlignedPass >= g.messages) out.push(bareCompliant(g));
    }
    out.sort((a, b) => b.group.messages - a.group.messages);
    return out.length > limit ? out.slice(0, limit) : out;
  };

  const enrichmentsOf = async (groups: Iterable<SourceGroup>): Promise<{ enrichments: Map<string, Enrichment>; offline: Set<string> }> => {
    const canonical = new Map<string, string>();
    for (const g of groups) canonical.set(g.sourceIp, parseIp(g.sourceIp)?.text ?? g.sourceIp);
    const stored = await cache.getMany(canonical.values());
    const out = new Map<string, Enrichment>();
    const offline = new Set<string>();
    for (const [ip, key] of canonical) {
      const cached = stored.get(key)?.enrichment;
      const e = cached ?? offlineFacts(key);
      if (!e) continue;
      out.set(ip, e);
      if (!cached) offline.add(ip);
    }
    return { enrichments: out, offline };
  };

  /** readiness answers, until the data they were computed from changes (see dataVersion); shared: not to be mutated */
  const readinessCache = new Map<string, Readiness>();

  const readinessOf = async (domain: string, to: number | undefined, days: number, matcher: SenderMatcher, version: string): Promise<Readiness> => {
    const newest = await newestDay(driver, domain);
    const endDay = to !== undefined ? Math.floor(to / DAY) * DAY : (newest ?? Math.floor(now() / DAY) * DAY);
    const cacheKey = JSON.stringify([domain, endDay, days, version]);
    const hit = readinessCache.get(cacheKey);
    if (hit) return hit;
    const window: DayFilter = { domain, fromDay: endDay - (days - 1) * DAY, toDay: endDay };
    const sources = await classify(window, matcher, { onlyFailing: true });
    const policy = await newestPolicy(driver, domain, endDay + DAY - 1);
    const rows = sources.map((s) => readinessSourceOf(s.group, s.classification, s.enrichment?.ptr ?? null));
    const result = assessReadiness(domain, { p: policy?.p ?? null, sp: policy?.sp ?? null, np: policy?.np ?? null, pct: policy?.pct ?? null, testing: policy?.testing ?? null }, rows, days);
    if (readinessCache.size >= 64) readinessCache.delete(readinessCache.keys().next().value!);
    readinessCache.set(cacheKey, result);
    return result;
  };

  return {
    domains: () => distinctDomains(driver),

    async overview(filter) {
      const f = dayFilter(filter);
      const [cells, reports, matcher, version] = await Promise.all([domainCells(driver, f, false), reportCounts(driver, f), senderMatcher(driver, config), dataVersion(driver)]);
      const byDomain = new Map<string, AuthCounts>();
      for (const c of cells) addCell(byDomain, c.domain, c);
      const out: DomainOverview[] = [];
      for (const [domain, counts] of [...byDomain].sort(([a], [b]) => a.localeCompare(b))) {
        const policy = await newestPolicy(driver, domain, filter.to);
        const readiness = await readinessOf(domain, filter.to, DEFAULT_READINESS_DAYS, matcher, version);
        out.push({ domain, ...counts, reports: reports.get(domain) ?? 0, policy, readinessStep: readiness.nextStep });
      }
      return out;
    },

    async timeline(filter) {
      const f = dayFilter(filter);
      const byDay = new Map<number, AuthCounts>();
      for (const c of await domainCells(driver, f, true)) addCell(byDay, c.day, c);
      if (byDay.size === 0) return [];
      const days = [...byDay.keys()];
      const first = f.fromDay ?? Math.min(...days);
      const last = f.toDay ?? Math.max(...days);
      const points: DayPoint[] = [];
      if ((last - first) / DAY <= MAX_FILLED_DAYS) {
        for (let day = first; day <= last; day += DAY) points.push({ day: isoDay(day), ...(byDay.get(day) ?? emptyCounts()) });
      } else {
        for (const day of days.sort((a, b) => a - b)) points.push({ day: isoDay(day), ...byDay.get(day)! });
      }
      return points;
    },

    async sources(filter): Promise<SourceRow[]> {
      const opts = filter.limit !== undefined ? { limit: filter.limit } : {};
      return (await classify(dayFilter(filter), await senderMatcher(driver, config), opts)).map((s) => s.row);
    },

    async classifiedSources(filter) {
      return classify(dayFilter(filter), await senderMatcher(driver, config));
    },

    async selectors(filter): Promise<SelectorRow[]> {
      const f = dayFilter(filter);
      const [cells, matcher] = await Promise.all([selectorCells(driver, f), senderMatcher(driver, config)]);
      const bySlug = new Map<string, string>();
      for (const s of matcher.services) if (!bySlug.has(selectorSlug(s.name))) bySlug.set(selectorSlug(s.name), s.name);
      const memo = new Map<string, string | null>();
      // the service that signs with this domain (its own DKIM domain), or whose name the selector carries
      const serviceOf = (_domain: string, dkimDomain: string, selector: string): string | null => {
        const key = `${dkimDomain}\u0000${selector}`;
        if (!memo.has(key)) {
          const byDomain = matcher.identify({ dkimPassDomains: [dkimDomain] }).service;
          const family = selector.toLowerCase().replace(/q[1-4]/g, '').replace(/[^a-z]+/g, '');
          memo.set(key, byDomain?.name ?? (family.length >= 4 ? (bySlug.get(family) ?? null) : null));
        }
        return memo.get(key)!;
      };
      return selectorRows(cells, serviceOf);
    },

    async readiness(filter) {
      const f = dayFilter(filter);
      const days = Math.max(1, Math.min(3660, Math.floor(filter.days ?? DEFAULT_READINESS_DAYS)));
      const [matcher, version] = await Promise.all([senderMatcher(driver, config), dataVersion(driver)]);
      const out: Readiness[] = [];
      for (const domain of await domainsOf({ ...(f.domain !== undefined ? { domain: f.domain } : {}) })) {
        out.push(await readinessOf(domain, filter.to, days, matcher, version));
      }
      return out;
    },

    async monthlySummary(filter) {
      const f = dayFilter(filter);
      const months = new Map<string, { domain: string; month: string; from: number; to: number; messages: number; dmarcPass: number }>();
      for (const c of await domainCells(driver, f, true)) {
        const month = isoDay(c.day).slice(0, 7);
        const key = `${c.domain}\u0000${month}`;
        let m = months.get(key);
        if (!m) months.set(key, (m = { domain: c.domain, month, from: c.day, to: c.day, messages: 0, dmarcPass: 0 }));
        m.messages += c.messages;
        if (c.dkimAligned || c.spfAligned) m.dmarcPass += c.messages;
        m.from = Math.min(m.from, c.day);
        m.to = Math.max(m.to, c.day);
      }
      // distinct failing IPs per domain, one query per calendar month of the range
      const failing = new Map<string, number>();
      for (const month of new Set([...months.values()].map((m) => m.month))) {
        const [y, mo] = month.split('-').map(Number) as [number, number];
        const start = Math.max(Date.UTC(y, mo - 1, 1) / 1000, f.fromDay ?? -Infinity);
        const end = Math.min(Date.UTC(y, mo, 1) / 1000 - DAY, f.toDay ?? Infinity);
        for (const [domain, n] of await failingSourceCounts(driver, f.domain, start, end)) failing.set(`${domain}\u0000${month}`, n);
      }
      return [...months]
        .map(([key, m]): MonthlySummaryRow => ({
          domain: m.domain,
          month: m.month,
          messages: m.messages,
          dmarcPass: m.dmarcPass,
          passRate: m.messages > 0 ? m.dmarcPass / m.messages : 0,
          failingSources: failing.get(key) ?? 0,
        }))
        .sort((a, b) => a.domain.localeCompare(b.domain) || a.month.localeCompare(b.month));
    },

    async approveSource(source) {
      const entry = validApproval(source);
      const note = typeof source.note === 'string' && source.note.trim() !== '' ? source.note.trim().slice(0, 500) : null;
      await saveApproval(driver, entry, note, now());
    },

    approvedSources: () => listApprovals(driver),
    removeApprovedSource: (id) => deleteApproval(driver, id),
  };
}

/** A fully DKIM-aligned group: compliant, whoever sends it (readiness needs nothing more about it). */
function bareCompliant(g: SourceGroup): ClassifiedSource {
  const classification: Classification = {
    verdict: 'compliant',
    messages: g.messages,
    breakdown: { compliant: g.messages, forwarded: 0, 'unsigned-vendor': 0, 'spf-only': 0, failing: 0 },
    partial: false,
    evidence: [],
    fix: null,
    likelySpoofing: false,
    service: null,
    approved: false,
  };
  return { group: g, classification, enrichment: null, row: sourceRow(g, classification, null) };
}

/**
 * What readiness answers depend on besides the window: the reports stored, the approvals and the enrichment
 * cache. Cheap aggregate reads; a change of any of them gives another version.
 */
async function dataVersion(driver: Database['driver']): Promise<string> {
  const [row] = await driver.query(`SELECT
    (SELECT coalesce(max(id), 0) FROM aggregate_reports) AS reports,
    (SELECT count(*) FROM approved_sources) AS approvals,
    (SELECT coalesce(max(id), 0) FROM approved_sources) AS approval_id,
    (SELECT count(*) FROM enrichment_cache) AS enriched,
    (SELECT coalesce(max(enriched_at), 0) FROM enrichment_cache) AS enriched_at`);
  return JSON.stringify(row ?? {});
}

function emptyCounts(): AuthCounts {
  return { messages: 0, dmarcPass: 0, dmarcFail: 0, dkimAlignedPass: 0, spfAlignedPass: 0, none: 0, quarantine: 0, reject: 0 };
}

function addCell<K>(into: Map<K, AuthCounts>, key: K, c: DomainDayRow): void {
  let t = into.get(key);
  if (!t) into.set(key, (t = emptyCounts()));
  const n = c.messages;
  t.messages += n;
  if (c.dkimAligned || c.spfAligned) t.dmarcPass += n;
  else t.dmarcFail += n;
  if (c.dkimAligned) t.dkimAlignedPass += n;
  if (c.spfAligned) t.spfAlignedPass += n;
  if (c.disposition === 'none' || c.disposition === 'quarantine' || c.disposition === 'reject') t[c.disposition] += n;
}

/** IPs with rollup rows of the filter (for the enrich command and tests). */
export async function rolledUpIps(db: Database, filter: AnalyticsFilter): Promise<string[]> {
  const f = dayFilter(filter);
  const domains = f.domain !== undefined ? [f.domain] : await distinctDomains(db.driver);
  const ips = new Set<string>();
  for (const domain of domains) for (const ip of await sourceIps(db.driver, { ...f, domain })) ips.add(ip);
  return [...ips];
}
