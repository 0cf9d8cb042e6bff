/**
 * createAnalytics: the Analytics contract (analytics-types.ts) over the database — the daily rollups maintained
 * at ingest, the enrichment cache, the known-senders map with the operator's config and approvals — and the pure
 * rules of server/domain (classification, selectors, readiness). No raw records are read.
 */
import { readinessSourceOf, assessReadiness, type Readiness, type ReadinessSource } from '../domain/readiness.ts';
import { classifyVerdict, fixesOf, fixOf, selectorSlug, VERDICTS, type SourceGroup, type Verdict } from '../domain/classify.ts';
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
import { classifyContextOf, classifySourceVerdicts, type ClassifiedSource, type VerdictSource } from './classify-sources.ts';
import {
  distinctDomains,
  domainCells,
  newestDay,
  newestPolicy,
  reportCounts,
  selectorCells,
  sourceIps,
  type DomainDayRow,
} from './rollup-queries.ts';
import { selectorRows } from './selector-rows.ts';
import { senderMatcher, validApproval } from './sender-context.ts';
import { SourceIndex, type GroupSet } from './source-index.ts';
import { byFailing, needsClassification, sourceMatches, type SourceTableFilter, type SourceTablePage } from './source-table.ts';

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
  sourceTable(filter: SourceTableFilter, page: { offset: number; limit: number }): Promise<SourceTablePage>;
  sourceVerdicts(filter: SourceTableFilter): Promise<{ verdict: Verdict; messages: number; sources: number }[]>;
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

  const index = new SourceIndex(driver);
  /** the last few group sets (a CSV export pages through one; a view asks for its table and chart together) */
  const groupSets = new Map<string, GroupSet>();
  const groupSetOf = async (f: DayFilter): Promise<GroupSet> => {
    await index.refresh();
    const key = JSON.stringify([f.domain ?? null, f.fromDay ?? null, f.toDay ?? null, index.version]);
    let set = groupSets.get(key);
    if (set) {
      groupSets.delete(key);
    } else {
      set = index.groups(f);
      while (groupSets.size >= 4) groupSets.delete(groupSets.keys().next().value!);
    }
    groupSets.set(key, set);
    return set;
  };

  /**
   * Classifications by group content (GroupSet.contentHash) while the data, approvals and enrichment are the same
   * (`version`): ranges a few days apart share most of their groups, and classifying is the costly part.
   */
  let classMemo = { version: '', memo: new TwoGenerationMemo<number, { key: string; c: VerdictSource }>(50_000) };

  /** classifies groups `ids` of `set` by verdict (detail() adds the texts); the result keeps their order */
  const classifyInOrder = async (set: GroupSet, ids: readonly number[], matcher: SenderMatcher, version?: string): Promise<VerdictSource[]> => {
    const memoVersion = version === undefined ? null : `${index.version} ${version}`;
    if (memoVersion !== null && classMemo.version !== memoVersion) classMemo = { version: memoVersion, memo: new TwoGenerationMemo(50_000) };
    const out = new Array<VerdictSource | undefined>(ids.length);
    const keys = memoVersion === null ? null : ids.map((g) => set.contentHash(g));
    const todo: SourceGroup[] = [];
    const todoAt: number[] = [];
    ids.forEach((g, i) => {
      // by group id, then the content compared by its 64-bit hash and message total (a collision would need
      // the same group, the same total and equal 64-bit hashes of different pair lists)
      const hit = keys ? classMemo.memo.get(g) : undefined;
      if (hit && hit.key === keys![i]) out[i] = hit.c;
      else {
        todo.push(set.group(g));
        todoAt.push(i);
      }
    });
    if (todo.length > 0) {
      const { enrichments, offline } = await enrichmentsOf(todo);
      // in the order of `todo`: no need to sort them as classifySources does
      classifySourceVerdicts(todo, enrichments, matcher, offline).forEach((c, j) => {
        const i = todoAt[j]!;
        out[i] = c;
        if (keys && memoVersion === classMemo.version) classMemo.memo.set(ids[i]!, { key: keys[i]!, c });
      });
    }
    return out as VerdictSource[];
  };

  /**
   * The sources of the filter classified by verdict, largest first. `version` (dataVersion): classifications
   * may be reused from earlier requests of the same data.
   */
  const classify = async (f: DayFilter, matcher: SenderMatcher, opts: { limit?: number; version?: string } = {}): Promise<VerdictSource[]> => {
    const set = await groupSetOf(f);
    const limit = opts.limit !== undefined && opts.limit >= 0 ? Math.floor(opts.limit) : Infinity;
    return classifyInOrder(set, set.top(limit < set.count ? limit : set.count), matcher, opts.version);
  };

  /** derived from the cached sets and lists above, dropped with them */
  const filteredRows = new WeakMap<VerdictSource[], Map<string, VerdictSource[]>>();

  /** every classified source of the filter, kept while the data they come from is unchanged */
  const classifiedLists = new Map<string, Promise<VerdictSource[]>>();
  const allClassified = async (f: DayFilter, matcher: SenderMatcher, version: string): Promise<VerdictSource[]> => {
    await index.refresh();
    const key = JSON.stringify([f.domain ?? null, f.fromDay ?? null, f.toDay ?? null, index.version, version]);
    let list = classifiedLists.get(key);
    if (!list) {
      list = classify(f, matcher, { version });
      list.catch(() => classifiedLists.delete(key));
      while (classifiedLists.size >= 2) classifiedLists.delete(classifiedLists.keys().next().value!);
      classifiedLists.set(key, list);
    }
    return list;
  };

  /**
   * What is known about each source IP (stored enrichment, else the offline databases), remembered while the
   * enrichment cache is unchanged: a view classifies the same tens of thousands of IPs again and again.
   */
  let enrichMemo: { version: string; byIp: Map<string, { e: Enrichment | null; offline: boolean }> } = { version: '', byIp: new Map() };
  const MAX_ENRICH_MEMO = 1_000_000;
  const enrichmentsOf = async (groups: Iterable<Pick<SourceGroup, 'sourceIp'>>): Promise<{ enrichments: Map<string, Enrichment>; offline: Set<string> }> => {
    const [v] = await driver.query('SELECT count(*) AS n, coalesce(max(enriched_at), 0) AS e, coalesce(max(expires_at), 0) AS x FROM enrichment_cache');
    const version = JSON.stringify(v ?? {});
    if (enrichMemo.version !== version || enrichMemo.byIp.size > MAX_ENRICH_MEMO) enrichMemo = { version, byIp: new Map() };
    const memo = enrichMemo.byIp;
    const missing = new Map<string, string>();
    for (const g of groups) if (!memo.has(g.sourceIp)) missing.set(g.sourceIp, parseIp(g.sourceIp)?.text ?? g.sourceIp);
    if (missing.size > 0) {
      const stored = await cache.getMany(missing.values());
      for (const [ip, key] of missing) {
        const cached = stored.get(key)?.enrichment;
        memo.set(ip, cached ? { e: cached, offline: false } : { e: offlineFacts(key), offline: true });
      }
    }
    const out = new Map<string, Enrichment>();
    const offline = new Set<string>();
    const at = now();
    for (const g of groups) {
      const m = memo.get(g.sourceIp);
      if (!m?.e || out.has(g.sourceIp)) continue;
      // offline facts are as of now (updated in place: a copy per IP and request cost more than the rest)
      if (m.offline) m.e.enrichedAt = at;
      out.set(g.sourceIp, m.e);
      if (m.offline) offline.add(g.sourceIp);
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
    const set = await groupSetOf(window);
    // Groups whose every message passed DKIM aligned are compliant whoever sends them, and nothing about them
    // matters to readiness but their messages: they are neither looked up nor sorted. The failing ones are
    // classified by verdict in list order, the order the answer's lists follow — from their counts alone
    // (GroupSet.verdictFacts): a month has 100,000+ of them per domain, and building full SourceGroups and
    // source rows for them was most of the overview's first answer on large data. A full group is built only
    // for the fix texts of legitimate sources (see readinessSourceOf), the same as classifySourceVerdicts gives.
    const failing: number[] = [];
    const compliant: number[] = [];
    for (const g of set.ids()) (set.dkimAlignedPass(g) < set.messages(g) ? failing : compliant).push(g);
    set.sort(failing);
    const facts = failing.map((g) => set.verdictFacts(g));
    const { enrichments } = await enrichmentsOf(facts);
    const policy = await newestPolicy(driver, domain, endDay + DAY - 1);
    const rows: ReadinessSource[] = facts.map((f, i) => {
      const e = enrichments.get(f.sourceIp) ?? null;
      const ctx = classifyContextOf(f, e, matcher);
      const v = classifyVerdict(f, ctx);
      const explain = () => {
        const g = set.group(failing[i]!);
        return { fix: fixOf(g, ctx, v), fixes: fixesOf(g, ctx, v) };
      };
      return readinessSourceOf(f, v, e?.ptr ?? null, explain);
    });
    for (const g of compliant) rows.push(compliantSource(set.ip(g), set.messages(g)));
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
      return (await classify(dayFilter(filter), await senderMatcher(driver, config), opts)).map((s) => s.detail().row);
    },

    async sourceTable(filter, page) {
      const f = dayFilter(filter);
      const [matcher, version] = await Promise.all([senderMatcher(driver, config), dataVersion(driver)]);
      const offset = Math.max(0, Math.floor(page.offset));
      const end = offset + Math.max(0, Math.floor(page.limit));
      if (!needsClassification(filter)) {
        // the order and the total need only counts: classify just the page
        const set = await groupSetOf(f);
        const ids = set.top(end, filter.sort === 'failing' ? 'failing' : 'messages').slice(offset, end);
        const rows = (await classifyInOrder(set, ids, matcher, version)).map((c) => c.detail().row);
        return { rows, total: set.count };
      }
      const all = await allClassified(f, matcher, version);
      const filterKey = JSON.stringify([filter.verdict, filter.service, filter.q, filter.sort]);
      let byFilter = filteredRows.get(all);
      if (!byFilter) filteredRows.set(all, (byFilter = new Map()));
      let rows = byFilter.get(filterKey);
      if (!rows) {
        // filters and order read counts and identities only; texts are built for the page below
        rows = all.filter((s) => sourceMatches(s.row, filter));
        if (filter.sort === 'failing') byFailing(rows, (s) => s.row.dmarcFail, (s) => s.row.messages);
        if (byFilter.size >= 4) byFilter.delete(byFilter.keys().next().value!);
        byFilter.set(filterKey, rows);
      }
      return { rows: rows.slice(offset, end).map((s) => s.detail().row), total: rows.length };
    },

    async sourceVerdicts(filter) {
      const f = dayFilter(filter);
      const [matcher, version] = await Promise.all([senderMatcher(driver, config), dataVersion(driver)]);
      const rows = (await allClassified(f, matcher, version)).map((c) => c.row).filter((s) => sourceMatches(s, { ...filter, verdict: undefined }));
      return VERDICTS.map((verdict) => {
        const of = rows.filter((s) => s.verdict === verdict);
        return { verdict, messages: of.reduce((n, s) => n + s.messages, 0), sources: of.length };
      });
    },

    async classifiedSources(filter) {
      return (await classify(dayFilter(filter), await senderMatcher(driver, config))).map((s) => s.detail());
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
      // distinct failing IPs per domain and calendar month of the range (from the source index, one pass)
      await index.refresh();
      const monthList = [...new Set([...months.values()].map((m) => m.month))];
      const ranges = monthList.map((month): [number, number] => {
        const [y, mo] = month.split('-').map(Number) as [number, number];
        return [Math.max(Date.UTC(y, mo - 1, 1) / 1000, f.fromDay ?? -Infinity), Math.min(Date.UTC(y, mo, 1) / 1000 - DAY, f.toDay ?? Infinity)];
      });
      const failing = new Map<string, number>();
      for (const [key, n] of index.failingSourceCounts(f.domain, ranges)) {
        const [domain, r] = key.split('\u0000') as [string, string];
        failing.set(`${domain}\u0000${monthList[Number(r)]}`, n);
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

    // the index's refresh runs under its mutex: a request arriving during the load waits for it, then finds it current
    warm: () => index.refresh(),

    approvedSources: () => listApprovals(driver),
    removeApprovedSource: (id) => deleteApproval(driver, id),
  };
}

/**
 * A bounded memo that forgets in bulk: entries go into the current generation; when it is full it becomes the
 * old one (the previous old one is dropped), and a hit in the old generation moves back to the current one.
 * (Deleting a Map's oldest keys one by one instead gets slower as deleted slots pile up at its front.)
 */
class TwoGenerationMemo<K, V> {
  #current = new Map<K, V>();
  #old = new Map<K, V>();
  constructor(private readonly perGeneration: number) {}

  get(key: K): V | undefined {
    const hit = this.#current.get(key);
    if (hit !== undefined) return hit;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.#current.size >= this.perGeneration) {
      this.#old = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }
}

/** A fully DKIM-aligned group as readiness counts it: its messages, none failing. */
function compliantSource(sourceIp: string, messages: number): ReadinessSource {
  return { sourceIp, service: null, legitimate: false, verdict: 'compliant', messages, dmarcFail: 0, forwarded: 0, fix: null, label: null };
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
