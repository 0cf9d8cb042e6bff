/**
 * An in-memory index of the source rollups (rollup_sources + rollup_auth), so the Sources view, readiness and the
 * monthly summary aggregate a date range in a tight loop over typed arrays instead of asking the database to
 * GROUP BY hundreds of thousands of rollup rows per request (1,000,000 records give ~900,000 daily source rows:
 * real sources rarely repeat the same (IP, auth facts) on the same day, so daily rollups barely shrink them).
 *
 * Layout: every distinct (auth facts, source IP) of a domain is a "pair"; every (domain, IP, key DKIM signature)
 * a "group" (the unit the Sources view shows, see classify.ts). Per (domain, day) one chunk holds the pairs seen
 * that day and their messages (dispositions summed). A request walks the chunks of its days, sums per pair, and
 * per group the counts the sort, totals and verdict filters need; a full SourceGroup (lists, override reasons)
 * is built only for the groups a page shows, from the same rollup rows as before (groupsFromRollups order).
 *
 * Freshness: each use first compares (count, max id) of aggregate_reports with what the index has seen; the days
 * of newly stored reports are re-read for their domain (rows are upserted by ingest, so a day is replaced whole).
 * Anything else (reports deleted, ids missing below the newest) reloads everything. A rollup rebuild leaves the
 * reports as they are and gives the same rows, so it needs nothing. The first use loads every row (about 4 s
 * for 1,000,000 records on SQLite). Memory: 12 bytes per daily source row in typed arrays, plus a few flat
 * arrays and one Map entry per pair and group; a request allocates ~24 bytes per pair and group (of its domain,
 * when it asks for one) for its sums.
 */
import { rollupDomain } from '../store/analytics-rollup.ts';
import { AsyncMutex } from '../store/async-mutex.ts';
import type { Driver } from '../store/driver.ts';
import type { SourceGroup } from '../domain/classify.ts';
import { DAY, type DayFilter } from './analytics-filter.ts';
import { authRows, distinctDomains, type AuthRow, type SourceAuthRow } from './rollup-queries.ts';
import { addToGroup, newGroup } from './source-groups.ts';

/** reports stored out of id order (concurrent writers) are looked for this far below the newest id seen */
const LATE_ID_WINDOW = 5000;
/** days read per query on a full load */
const LOAD_WINDOW_DAYS = 31;
const MAX_REPORT_DAYS = 367;
/** SourceGroup lists keep at most this many entries (source-groups.ts) */
const MAX_LISTED_DOMAINS = 16;

interface Chunk {
  pairs: Int32Array;
  messages: Float64Array;
}

/** The groups of one date range with the counts that sorting, totals and verdicts need. */
export interface GroupSet {
  /** how many groups have messages in the range */
  readonly count: number;
  /**
   * The first `n` group ids in list order: by messages (largest first; ties: domain, IP, DKIM domain, selector) or
   * by failing messages (most first, then that order). A short head is selected without sorting every group.
   */
  top(n: number, by?: 'messages' | 'failing'): readonly number[];
  /** every group id of the set, in no particular order */
  ids(): readonly number[];
  /** sorts `ids` (some of the set's groups) in place into list order, as top() orders them */
  sort(ids: number[], by?: 'messages' | 'failing'): number[];
  /** the group's source IP */
  ip(g: number): string;
  messages(g: number): number;
  dmarcFail(g: number): number;
  dkimAlignedPass(g: number): number;
  /** the full SourceGroup of a group over the range (built on demand) */
  group(g: number): SourceGroup;
  /**
   * The part of group(g) a verdict needs (classifyVerdict, the sender match by passing DKIM domains) and
   * readiness counts: the same figures, without the lists, override reasons and key results a full group builds.
   */
  verdictFacts(g: number): VerdictFacts;
  /**
   * What the group's SourceGroup is made of in this range (its rollup pairs with their messages and days): two
   * ranges that give a group the same key give it the same SourceGroup, so its classification can be reused.
   */
  contentKey(g: number): string;
  /**
   * contentKey as a 64-bit hash in a string of 16 hex digits plus the group's message total: what the
   * classification memo compares (building the full key for 100,000 groups a request cost seconds).
   */
  contentHash(g: number): string;
}

/** The fields of a SourceGroup that classifyVerdict and readiness read (GroupSet.verdictFacts). */
export type VerdictFacts = Pick<
  SourceGroup,
  'sourceIp' | 'messages' | 'dmarcPass' | 'dkimAlignedPass' | 'forwardEvidenceNoDkim' | 'spfOnlyNoDkim' | 'neitherNoDkim' | 'dkimPassDomains'
>;

export class SourceIndex {
  readonly #driver: Driver;
  readonly #mutex = new AsyncMutex();
  #loaded = false;
  #reportCount = -1;
  #maxReportId = 0;
  #reportIds = new Set<number>();
  /** bumped whenever the indexed data changed */
  version = 0;

  #domains: string[] = [];
  #domainIdx = new Map<string, number>();
  #ips: string[] = [];
  #ipIdx = new Map<string, number>();
  #auths: AuthRow[] = [];
  #authIdx = new Map<string, number>();
  #authGroupPart: number[] = [];
  /** sig = (domain, DKIM domain, selector) */
  #sigIdx = new Map<string, number>();
  #sigDomain: number[] = [];
  #sigText: [string, string][] = [];
  /** per auth: source IP → pair (small-integer keys hash fast) */
  #pairIdx: Map<number, number>[] = [];
  #pairAuth: number[] = [];
  #pairIp: number[] = [];
  #pairGroup: number[] = [];
  /** 1 when the pair's facts fail DMARC (neither DKIM nor SPF aligned) */
  #pairFailing: number[] = [];
  #pairDkimAligned: number[] = [];
  /** per group: its place in the tie-break order of the source list (see #tieRanks) */
  #tieRank: Int32Array | null = null;
  /** per sig: source IP → group */
  #groupIdx: Map<number, number>[] = [];
  #groupSig: number[] = [];
  #groupIp: number[] = [];
  /** each group's pairs as a linked list (first pair, next pair; -1 ends): two flat arrays, not one array per group, so the GC has millions fewer objects to visit */
  #groupFirstPair: number[] = [];
  #pairNextInGroup: number[] = [];
  /** per domain: day → chunk */
  #chunks: Map<number, Chunk>[] = [];
  /**
   * per domain: the lowest and highest pair and group ids of its own (-1: none yet). A full load numbers a
   * domain's pairs and groups contiguously, so a one-domain window sums into arrays of this span instead of
   * arrays sized to every pair of every domain (the overview asks ten windows at once; at millions of pairs
   * those arrays were most of what the garbage collector had to deal with).
   */
  #domainSpan: { pairLo: number; pairHi: number; groupLo: number; groupHi: number }[] = [];

  constructor(driver: Driver) {
    this.#driver = driver;
  }

  /** Brings the index up to date with the stored reports (cheap when nothing changed). */
  refresh(): Promise<void> {
    return this.#mutex.run(() => this.#refresh());
  }

  async #refresh(): Promise<void> {
    const [v] = await this.#driver.query('SELECT count(*) AS n, coalesce(max(id), 0) AS max_id FROM aggregate_reports');
    const count = Number(v?.n ?? 0);
    const maxId = Number(v?.max_id ?? 0);
    if (this.#loaded && count === this.#reportCount && maxId === this.#maxReportId) return;
    if (!this.#loaded || count < this.#reportCount) return this.#fullLoad();
    const fresh = await this.#driver.query(
      'SELECT id, key_domain, period_begin, period_end FROM aggregate_reports WHERE id > ?',
      [Math.max(0, this.#maxReportId - LATE_ID_WINDOW)],
    );
    const added = fresh.filter((r) => !this.#reportIds.has(Number(r.id)));
    if (this.#reportIds.size + added.length !== count) return this.#fullLoad();
    const days = new Map<string, Set<number>>();
    for (const r of added) {
      const domain = rollupDomain(String(r.key_domain));
      let set = days.get(domain);
      if (!set) days.set(domain, (set = new Set()));
      for (const d of reportDays(Number(r.period_begin), Number(r.period_end))) set.add(d);
    }
    for (const [domain, set] of days) {
      await this.#loadAuths(domain);
      for (const day of set) await this.#loadDays(domain, day, day + DAY, true);
    }
    for (const r of added) this.#reportIds.add(Number(r.id));
    this.#reportCount = count;
    this.#maxReportId = Math.max(maxId, this.#maxReportId);
    this.#tieRank = null;
    this.version++;
  }

  async #fullLoad(): Promise<void> {
    this.#reset();
    // the version first: a report stored meanwhile is then re-read by the next refresh (a day is replaced whole)
    const ids = await this.#driver.query('SELECT id FROM aggregate_reports');
    for (const r of ids) this.#reportIds.add(Number(r.id));
    this.#reportCount = ids.length;
    this.#maxReportId = ids.reduce((m, r) => Math.max(m, Number(r.id)), 0);
    for (const domain of await distinctDomains(this.#driver)) {
      await this.#loadAuths(domain);
      const [span] = await this.#driver.query('SELECT min(day) AS lo, max(day) AS hi FROM rollup_sources WHERE domain = ?', [domain]);
      if (span?.lo == null) continue;
      for (let day = Number(span.lo); day <= Number(span.hi); day += LOAD_WINDOW_DAYS * DAY) await this.#loadDays(domain, day, day + LOAD_WINDOW_DAYS * DAY, false);
    }
    this.#loaded = true;
    this.version++;
  }

  #reset(): void {
    this.#reportIds = new Set();
    this.#domains = [];
    this.#domainIdx = new Map();
    this.#ips = [];
    this.#ipIdx = new Map();
    this.#auths = [];
    this.#authIdx = new Map();
    this.#authGroupPart = [];
    this.#sigIdx = new Map();
    this.#sigDomain = [];
    this.#sigText = [];
    this.#pairIdx = [];
    this.#pairAuth = [];
    this.#pairIp = [];
    this.#pairGroup = [];
    this.#pairFailing = [];
    this.#pairDkimAligned = [];
    this.#tieRank = null;
    this.#groupIdx = [];
    this.#groupSig = [];
    this.#groupIp = [];
    this.#groupFirstPair = [];
    this.#pairNextInGroup = [];
    this.#chunks = [];
    this.#domainSpan = [];
  }

  #domain(name: string): number {
    let i = this.#domainIdx.get(name);
    if (i === undefined) {
      i = this.#domains.length;
      this.#domains.push(name);
      this.#domainIdx.set(name, i);
      this.#chunks.push(new Map());
      this.#domainSpan.push({ pairLo: -1, pairHi: -1, groupLo: -1, groupHi: -1 });
    }
    return i;
  }

  async #loadAuths(domain: string): Promise<void> {
    const d = this.#domain(domain);
    for (const a of (await authRows(this.#driver, domain)).values()) {
      const key = `${domain}\u0000${a.authKey}`;
      if (this.#authIdx.has(key)) continue;
      this.#authIdx.set(key, this.#auths.length);
      this.#auths.push(a);
      const sigKey = `${d}\u0000${a.dkimDomain ?? ''}\u0000${a.dkimSelector ?? ''}\u0000${a.dkimDomain === null ? 0 : 1}${a.dkimSelector === null ? 0 : 1}`;
      let sig = this.#sigIdx.get(sigKey);
      if (sig === undefined) {
        sig = this.#sigDomain.length;
        this.#sigIdx.set(sigKey, sig);
        this.#sigDomain.push(d);
        this.#sigText.push([a.dkimDomain ?? '', a.dkimSelector ?? '']);
        this.#groupIdx.push(new Map());
      }
      this.#authGroupPart.push(sig);
      this.#pairIdx.push(new Map());
    }
  }

  /** (re)reads the domain's rows of days [from, to) */
  async #loadDays(domain: string, from: number, to: number, replace: boolean): Promise<void> {
    const d = this.#domain(domain);
    const rows = await this.#driver.query(
      'SELECT day, source_ip, auth_key, CAST(sum(messages) AS BIGINT) AS messages FROM rollup_sources WHERE domain = ? AND day >= ? AND day < ? GROUP BY day, source_ip, auth_key',
      [domain, from, to],
    );
    const byDay = new Map<number, { pairs: number[]; messages: number[] }>();
    for (const r of rows) {
      const auth = this.#authIdx.get(`${domain}\u0000${Number(r.auth_key)}`);
      const messages = Number(r.messages);
      // rows whose facts are unknown are skipped, as groupsFromRollups does
      if (auth === undefined || !(messages > 0)) continue;
      const day = Number(r.day);
      let c = byDay.get(day);
      if (!c) byDay.set(day, (c = { pairs: [], messages: [] }));
      c.pairs.push(this.#pair(auth, String(r.source_ip)));
      c.messages.push(messages);
    }
    const chunks = this.#chunks[d]!;
    if (replace) for (let day = from; day < to; day += DAY) chunks.delete(day);
    for (const [day, c] of byDay) chunks.set(day, { pairs: Int32Array.from(c.pairs), messages: Float64Array.from(c.messages) });
  }

  #pair(auth: number, ipText: string): number {
    let ip = this.#ipIdx.get(ipText);
    if (ip === undefined) {
      ip = this.#ips.length;
      this.#ips.push(ipText);
      this.#ipIdx.set(ipText, ip);
    }
    const pairsOfAuth = this.#pairIdx[auth]!;
    let p = pairsOfAuth.get(ip);
    if (p !== undefined) return p;
    p = this.#pairAuth.length;
    pairsOfAuth.set(ip, p);
    this.#pairAuth.push(auth);
    this.#pairIp.push(ip);
    const facts = this.#auths[auth]!;
    this.#pairFailing.push(facts.dkimAligned || facts.spfAligned ? 0 : 1);
    this.#pairDkimAligned.push(facts.dkimAligned ? 1 : 0);
    const sig = this.#authGroupPart[auth]!;
    const span = this.#domainSpan[this.#sigDomain[sig]!]!;
    if (span.pairLo < 0) span.pairLo = p;
    span.pairHi = p;
    const groupsOfSig = this.#groupIdx[sig]!;
    let g = groupsOfSig.get(ip);
    if (g === undefined) {
      g = this.#groupSig.length;
      groupsOfSig.set(ip, g);
      this.#groupSig.push(sig);
      this.#groupIp.push(ip);
      this.#groupFirstPair.push(-1);
      if (span.groupLo < 0) span.groupLo = g;
      span.groupHi = g;
    }
    this.#pairGroup.push(g);
    this.#pairNextInGroup.push(this.#groupFirstPair[g]!);
    this.#groupFirstPair[g] = p;
    return p;
  }

  /**
   * Each group's place in the tie-break order of the source list: policy domain (code points, as distinctDomains lists
   * them), then IP, DKIM domain and selector as String#localeCompare orders them (classifySources).
   */
  #tieRanks(): Int32Array {
    if (this.#tieRank && this.#tieRank.length === this.#groupSig.length) return this.#tieRank;
    const ipOrder = this.#ips.map((_, i) => i).sort((a, b) => this.#ips[a]!.localeCompare(this.#ips[b]!));
    const ipRank = new Int32Array(this.#ips.length);
    ipOrder.forEach((ip, rank) => (ipRank[ip] = rank));
    const t = this.#sigText;
    const sigOrder = t.map((_, i) => i).sort((a, b) => t[a]![0].localeCompare(t[b]![0]) || t[a]![1].localeCompare(t[b]![1]));
    const sigRank = new Int32Array(t.length);
    sigOrder.forEach((sig, rank) => (sigRank[sig] = rank));
    const domainOrder = this.#domains.map((_, i) => i).sort((a, b) => (this.#domains[a]! < this.#domains[b]! ? -1 : this.#domains[a]! > this.#domains[b]! ? 1 : 0));
    const domainRank = new Int32Array(this.#domains.length);
    domainOrder.forEach((d, rank) => (domainRank[d] = rank));
    const gs = this.#groupSig;
    const gi = this.#groupIp;
    const sd = this.#sigDomain;
    const order = Int32Array.from(gs.keys());
    order.sort((a, b) => domainRank[sd[gs[a]!]!]! - domainRank[sd[gs[b]!]!]! || ipRank[gi[a]!]! - ipRank[gi[b]!]! || sigRank[gs[a]!]! - sigRank[gs[b]!]!);
    const rank = new Int32Array(order.length);
    order.forEach((g, i) => (rank[g] = i));
    this.#tieRank = rank;
    return rank;
  }

  /** The groups with messages in the filter's days (call refresh() first). */
  groups(f: DayFilter): GroupSet {
    const domains = f.domain !== undefined ? [this.#domainIdx.get(f.domain)].filter((d): d is number => d !== undefined) : this.#domains.map((_, i) => i);
    // pair p is at p - pb of the pair arrays, group g at g - gb of the group arrays (see #domainSpan)
    let pb = 0;
    let pairCount = this.#pairAuth.length;
    let gb = 0;
    let groupCount = this.#groupSig.length;
    if (f.domain !== undefined) {
      const span = domains.length === 1 ? this.#domainSpan[domains[0]!]! : null;
      pb = span && span.pairLo >= 0 ? span.pairLo : 0;
      pairCount = span && span.pairLo >= 0 ? span.pairHi - span.pairLo + 1 : 0;
      gb = span && span.groupLo >= 0 ? span.groupLo : 0;
      groupCount = span && span.groupLo >= 0 ? span.groupHi - span.groupLo + 1 : 0;
    }
    const pairMessages = new Float64Array(pairCount);
    const pairFirst = new Float64Array(pairCount);
    const pairLast = new Float64Array(pairCount);
    const touched: number[] = [];
    const lo = f.fromDay ?? -Infinity;
    const hi = f.toDay ?? Infinity;
    for (const d of domains) {
      for (const [day, c] of this.#chunks[d]!) {
        if (day < lo || day > hi) continue;
        const { pairs, messages } = c;
        for (let i = 0; i < pairs.length; i++) {
          const p = pairs[i]!;
          const x = p - pb;
          if (pairMessages[x] === 0) {
            touched.push(p);
            pairFirst[x] = day;
            pairLast[x] = day;
          } else {
            if (day < pairFirst[x]!) pairFirst[x] = day;
            if (day > pairLast[x]!) pairLast[x] = day;
          }
          pairMessages[x] = pairMessages[x]! + messages[i]!;
        }
      }
    }
    const gMessages = new Float64Array(groupCount);
    const gPass = new Float64Array(groupCount);
    const gDkim = new Float64Array(groupCount);
    const order: number[] = [];
    for (const p of touched) {
      const g = this.#pairGroup[p]!;
      const y = g - gb;
      const n = pairMessages[p - pb]!;
      if (gMessages[y] === 0) order.push(g);
      gMessages[y] = gMessages[y]! + n;
      if (this.#pairFailing[p] === 0) gPass[y] = gPass[y]! + n;
      if (this.#pairDkimAligned[p] === 1) gDkim[y] = gDkim[y]! + n;
    }
    const tie = this.#tieRanks();
    const byMessages = (a: number, b: number) => gMessages[b - gb]! - gMessages[a - gb]! || tie[a]! - tie[b]!;
    const failOf = (g: number) => gMessages[g - gb]! - gPass[g - gb]!;
    const byFailing = (a: number, b: number) => failOf(b) - failOf(a) || byMessages(a, b);
    const sorted = new Map<string, number[]>();
    const top = (n: number, by: 'messages' | 'failing' = 'messages'): readonly number[] => {
      if (n <= 0) return [];
      const full = sorted.get(by);
      if (full) return n >= full.length ? full : full.slice(0, n);
      const cmp = by === 'failing' ? byFailing : byMessages;
      if (n * 4 >= order.length) {
        const all = [...order].sort(cmp);
        sorted.set(by, all);
        return n >= all.length ? all : all.slice(0, n);
      }
      // exact head: every group at or above the n-th largest key, sorted (ties at the threshold included)
      const key = by === 'failing' ? failOf : (g: number) => gMessages[g - gb]!;
      const threshold = nthLargest(Float64Array.from(order, key), n);
      return order.filter((g) => key(g) >= threshold).sort(cmp).slice(0, n);
    };
    // the tables as they are now: a full reload replaces them (an incremental one only appends), and a caller
    // may build groups of this set after another request refreshed the index
    const [domainNames, sigDomain, groupSig, firstPair, nextPair, auths, pairAuth, pairIp, ips] = [this.#domains, this.#sigDomain, this.#groupSig, this.#groupFirstPair, this.#pairNextInGroup, this.#auths, this.#pairAuth, this.#pairIp, this.#ips];
    const groupIp = this.#groupIp;
    const domainOf = (g: number) => sigDomain[groupSig[g]!]!;
    return {
      count: order.length,
      top,
      ids: () => order,
      sort: (ids, by = 'messages') => ids.sort(by === 'failing' ? byFailing : byMessages),
      ip: (g) => ips[groupIp[g]!]!,
      messages: (g) => gMessages[g - gb]!,
      dmarcFail: (g) => gMessages[g - gb]! - gPass[g - gb]!,
      dkimAlignedPass: (g) => gDkim[g - gb]!,
      group: (g) => {
        const domain = domainNames[domainOf(g)]!;
        const rows: { row: SourceAuthRow; auth: AuthRow }[] = [];
        // pairs added after this set was made have no messages in it (pairMessages[p] is undefined)
        for (let p = firstPair[g]!; p >= 0; p = nextPair[p]!) {
          const messages = pairMessages[p - pb]!;
          if (messages > 0) {
            const auth = auths[pairAuth[p]!]!;
            rows.push({ row: { domain, ip: ips[pairIp[p]!]!, authKey: auth.authKey, messages, firstDay: pairFirst[p - pb]!, lastDay: pairLast[p - pb]! }, auth });
          }
        }
        // as the rollup query gave them: largest first, ties in (source IP, auth_key) order
        if (rows.length > 1) rows.sort((a, b) => b.row.messages - a.row.messages || a.row.authKey - b.row.authKey);
        const out = newGroup(rows[0]!.row, rows[0]!.auth);
        for (const { row, auth } of rows) addToGroup(out, row, auth);
        return out;
      },
      verdictFacts: (g) => {
        const f: VerdictFacts = { sourceIp: ips[groupIp[g]!]!, messages: 0, dmarcPass: 0, dkimAlignedPass: 0, forwardEvidenceNoDkim: 0, spfOnlyNoDkim: 0, neitherNoDkim: 0, dkimPassDomains: [] };
        const rows: number[] = [];
        for (let p = firstPair[g]!; p >= 0; p = nextPair[p]!) if (pairMessages[p - pb]! > 0) rows.push(p);
        // in group()'s row order (largest first, then auth_key): the sums and the domain list come out the same
        if (rows.length > 1) rows.sort((a, b) => pairMessages[b - pb]! - pairMessages[a - pb]! || auths[pairAuth[a]!]!.authKey - auths[pairAuth[b]!]!.authKey);
        const list = f.dkimPassDomains;
        for (const p of rows) {
          const n = pairMessages[p - pb]!;
          const auth = auths[pairAuth[p]!]!;
          f.messages += n;
          if (auth.dkimAligned) f.dkimAlignedPass += n;
          if (auth.dkimAligned || auth.spfAligned) f.dmarcPass += n;
          if (!auth.dkimAligned) {
            if (auth.forwarded) f.forwardEvidenceNoDkim += n;
            else if (auth.spfAligned) f.spfOnlyNoDkim += n;
            else f.neitherNoDkim += n;
          }
          for (const d of auth.dkimPassDomains) if (d && list.length < MAX_LISTED_DOMAINS && !list.includes(d)) list.push(d);
        }
        return f;
      },
      contentHash: (g) => {
        // two independent 32-bit FNV-1a style hashes of (pair, messages, first day, last day) per pair
        let h1 = 0x811c9dc5 ^ g;
        let h2 = 0x01000193 ^ Math.imul(g, 0x9e3779b1);
        let total = 0;
        const mix = (x: number) => {
          const lo = x | 0;
          const hi = (x / 4294967296) | 0;
          h1 = Math.imul(Math.imul(h1 ^ lo, 0x01000193) ^ hi, 0x01000193);
          h2 = Math.imul(h2 ^ lo, 0x5bd1e995);
          h2 ^= h2 >>> 15;
          h2 = Math.imul(h2 ^ hi, 0x5bd1e995);
          h2 ^= h2 >>> 13;
        };
        for (let p = firstPair[g]!; p >= 0; p = nextPair[p]!) {
          const messages = pairMessages[p - pb]!;
          if (!(messages > 0)) continue;
          total += messages;
          mix(p);
          mix(messages);
          mix(pairFirst[p - pb]! / DAY);
          mix(pairLast[p - pb]! / DAY);
        }
        return `${(h1 >>> 0).toString(16)}.${(h2 >>> 0).toString(16)}.${total}`;
      },
      contentKey: (g) => {
        let key = String(g);
        for (let p = firstPair[g]!; p >= 0; p = nextPair[p]!) {
          const messages = pairMessages[p - pb]!;
          if (messages > 0) key += `|${p}:${messages}:${pairFirst[p - pb]}:${pairLast[p - pb]}`;
        }
        return key;
      },
    };
  }

  /**
   * Distinct source IPs with DMARC-failing messages (neither DKIM nor SPF aligned), per domain, in each of the
   * given day ranges (inclusive), keyed `domain NUL index-of-range`.
   */
  failingSourceCounts(domain: string | undefined, ranges: readonly [number, number][]): Map<string, number> {
    const out = new Map<string, number>();
    const domains = domain !== undefined ? [this.#domainIdx.get(domain)].filter((d): d is number => d !== undefined) : this.#domains.map((_, i) => i);
    // distinct IPs counted with a stamp per IP (one number per (domain, range)) instead of a Set per range
    const stampOf = new Float64Array(this.#ips.length).fill(-1);
    const counts = new Float64Array(ranges.length);
    const failing = this.#pairFailing;
    const ipOf = this.#pairIp;
    for (const d of domains) {
      counts.fill(0);
      // one range at a time, so an IP's stamp is only ever compared within the range that set it
      for (const [r, [lo, hi]] of ranges.entries()) {
        const stamp = d * ranges.length + r;
        for (const [day, c] of this.#chunks[d]!) {
          if (day < lo || day > hi) continue;
          const pairs = c.pairs;
          for (let i = 0; i < pairs.length; i++) {
            const p = pairs[i]!;
            if (failing[p] !== 1) continue;
            const ip = ipOf[p]!;
            if (stampOf[ip] !== stamp) {
              stampOf[ip] = stamp;
              counts[r] = counts[r]! + 1;
            }
          }
        }
      }
      counts.forEach((n, r) => {
        if (n > 0) out.set(`${this.#domains[d]}\u0000${r}`, n);
      });
    }
    return out;
  }
}

/** the UTC days a report's rollup rows can fall on (prorateByDay) */
function reportDays(begin: number, end: number): number[] {
  let from = Math.floor(begin);
  let to = Number.isFinite(end) ? Math.floor(end) : from;
  if (!Number.isFinite(from)) return [];
  if (to < from) [from, to] = [to, from];
  const first = Math.floor(from / DAY) * DAY;
  const last = Math.min(Math.floor(to / DAY) * DAY, first + (MAX_REPORT_DAYS - 1) * DAY);
  const out: number[] = [];
  for (let d = first; d <= last; d += DAY) out.push(d);
  return out;
}

/** the n-th largest value (1-based) of `values` (reordered in place); quickselect, O(length) */
function nthLargest(values: Float64Array, n: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const k = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k]!;
}
