/**
 * Daily rollups of aggregate records, maintained while a report is stored (inside saveAggregate's transaction)
 * so the analytics views never scan raw records.
 *
 * Tables (migration 002):
 *   rollup_auth       each distinct combination of a policy domain and the authentication facts of a record,
 *                     once: header_from, key DKIM signature (domain, selector, result), DKIM aligned pass, SPF
 *                     aligned pass, forwarding / ARC evidence, override reasons, passing signing domains; keyed by
 *                     a 52-bit hash of those values (auth_key)
 *   rollup_sources    per policy domain, UTC day, source IP, disposition and auth_key: messages
 *   rollup_selectors  per policy domain, day, DKIM signing domain, selector, result (every signature of a
 *                     record) and report: messages, first / last seen (report period)
 *   rollup_domains    per policy domain, day, disposition, DKIM / SPF aligned pass and report: messages
 *                     (overview, timeline)
 *
 * How: each record's count is pro-rated over the UTC days the report covers (prorateByDay: whole messages,
 * totals exact). While the records stream in, each record's facts are computed once per distinct combination
 * (a memo), its auth_key is written with the record (aggregate_records.auth_key), and its day shares are summed
 * per (auth_key, disposition, day) — the source of the domain and selector rows. At the end, the per-source
 * rows are summed by the database from the records just written — the same two-day split written in SQL for
 * the usual one- or two-day reports; in TypeScript for longer periods — and everything is added to the shared
 * rows with upserts. Every table therefore agrees on every day.
 *
 * Concurrent transactions (PostgreSQL) write shared rollup rows in one global order (tables, then keys), so
 * they cannot deadlock on each other's rows; the domain and selector rows are per report, so nobody waits for
 * those.
 */
import { hash } from 'node:crypto';
import { evaluateRecord } from '../domain/classify.ts';
import { MAX_PRORATE_DAYS, prorateByDay, utcDayStart, type DayShare } from '../domain/prorate.ts';
import type { AggregateHeader, AggregateRecord } from '../domain/report-types.ts';
import type { Capabilities, Driver, SqlRunner, SqlValue } from './driver.ts';
import { multiRowInsertSql, planInsertChunks } from './insert-many.ts';

export const AUTH_COLUMNS = [
  'domain', 'auth_key', 'header_from', 'dkim_domain', 'dkim_selector', 'dkim_result', 'dkim_aligned', 'spf_aligned', 'forwarded',
  'arc', 'override_reasons', 'dkim_pass_domains',
] as const;
const SOURCE_COLUMNS = ['domain', 'day', 'source_ip', 'disposition', 'auth_key', 'messages'] as const;
const SELECTOR_COLUMNS = ['domain', 'day', 'dkim_domain', 'selector', 'result', 'report_id', 'messages', 'first_seen', 'last_seen'] as const;
const DOMAIN_COLUMNS = ['domain', 'day', 'disposition', 'dkim_aligned', 'spf_aligned', 'report_id', 'messages'] as const;

const SEP = '\u0001';
const DAY = 86_400;
/** length caps keep every key well inside PostgreSQL's B-tree row limit, whatever a reporter sends */
const MAX_DOMAIN = 253;
const MAX_SELECTOR = 128;
const MAX_SHORT = 32;
const MAX_IP = 64;
const MAX_PASS_DOMAINS = 3;
const MAX_REASONS = 4;
/** per-report memo size (the records of a report repeat the same few combinations of facts) */
const MAX_MEMO = 20_000;

/** How source IP and disposition are normalized in the rollup rows (SQL over aggregate_records columns). */
const IP_SQL = `substr(coalesce(nullif(trim(source_ip), ''), 'unknown'), 1, ${MAX_IP})`;
const DISPOSITION_SQL = `CASE lower(trim(disposition)) WHEN 'none' THEN 'none' WHEN 'quarantine' THEN 'quarantine' WHEN 'reject' THEN 'reject' ELSE '' END`;

export type RollupPeriod = Pick<AggregateHeader, 'begin' | 'end'> & { policy: Pick<AggregateHeader['policy'], 'domain' | 'adkim' | 'aspf'> };

/** The JSON texts of a record's lists, as stored in aggregate_records (fresh strings: the memo keeps them). */
export interface RecordJson {
  overrideReasons: string;
  dkim: string;
  spf: string;
}

/**
 * A value as it goes into a rollup row: no control characters, bounded length, and a string of its own: a
 * record's strings may be slices of a large parser buffer, which the memo must not keep alive.
 */
function keyPart(value: string | null | undefined, max: number): string {
  if (!value) return '';
  // eslint-disable-next-line no-control-regex
  let s = /[\u0000-\u001f]/.test(value) ? value.replace(/[\u0000-\u001f]/g, '') : value;
  if (s.length > max) s = s.slice(0, max);
  // V8 shares the memory of slices of 13 characters or more; a concatenation is copied when flattened
  return s.length >= 13 ? (SEP + s).slice(1) : s;
}

const domainForms = new Map<string, string>();

/** The form of a domain in the rollup tables (and of a domain filter matched against them). */
export function rollupDomain(d: string | null | undefined): string {
  if (!d) return '';
  let form = domainForms.get(d);
  if (form === undefined) {
    form = keyPart(d.trim().toLowerCase().replace(/\.$/, ''), MAX_DOMAIN);
    if (domainForms.size >= MAX_MEMO) domainForms.clear();
    domainForms.set(keyPart(d, 1000), form);
  }
  return form;
}

/** The facts of one combination (immutable: shared by every report through the memo). */
interface AuthFacts {
  key: number;
  /** AUTH_COLUMNS values (row[0]: the policy domain) */
  row: SqlValue[];
  /** [signing domain, selector, result] of every signature naming both */
  signatures: [string, string, string][];
  /**
   * what the report's sums are kept by: the key and the signatures (auth_key covers only the key signature).
   * Not the object: the memo may hand out a fresh, equal one after it was cleared.
   */
  sumKey: string;
}

/** Accumulates what one report adds to the rollups; `write` adds it, at the end of the report's transaction. */
export class ReportRollup {
  readonly #period: RollupPeriod;
  readonly #plan: DayPlan;
  readonly #policyKey: string;
  readonly #domain: string;
  readonly #auths = new Map<number, AuthFacts>();
  /**
   * this report's messages per facts (by AuthFacts.sumKey), by (day index · 4 + disposition index)
   */
  readonly #sums = new Map<string, { facts: AuthFacts; slots: Map<number, number> }>();
  readonly #shares = new Map<number, DayShare[]>();
  #messages = 0;
  /** only when the database cannot sum them (see constructor): `auth_key SEP ip SEP disposition SEP day` → messages */
  readonly #sources: Map<string, number> | null;

  constructor(period: RollupPeriod) {
    this.#period = period;
    this.#plan = dayPlan(period.begin, period.end);
    this.#policyKey = JSON.stringify([period.policy.domain, period.policy.adkim, period.policy.aspf]);
    this.#domain = rollupDomain(period.policy.domain);
    // the database sums the per-source rows when it can: one or two days, one policy domain for every record
    this.#sources = this.#plan.kind === 'ts' || this.#domain === '' ? new Map() : null;
  }

  /**
   * Accounts for one record and returns its auth_key (stored with the record). `json` holds the record's lists
   * as stored. Each record's count is pro-rated over the report's days on its own (prorateByDay).
   */
  add(rec: AggregateRecord, json: RecordJson): number {
    const facts = factsOf(rec, json, this.#period.policy, this.#policyKey);
    if (!Number.isFinite(rec.count) || rec.count <= 0) return facts.key;
    const disposition = dispositionIndex(rec.disposition);
    const first = this.#plan.first;
    let sums = this.#sums.get(facts.sumKey)?.slots;
    if (sums === undefined) {
      this.#sums.set(facts.sumKey, { facts, slots: (sums = new Map()) });
      if (!this.#auths.has(facts.key)) this.#auths.set(facts.key, facts);
    }
    for (const share of this.#sharesOf(rec.count)) {
      const slot = ((share.day - first) / DAY) * 4 + disposition;
      sums.set(slot, (sums.get(slot) ?? 0) + share.count);
      if (this.#sources) add(this.#sources, `${facts.key}${SEP}${ipOf(rec.sourceIp)}${SEP}${DISPOSITIONS[disposition]}${SEP}${share.day}`, share.count);
    }
    this.#messages += rec.count;
    return facts.key;
  }

  /**
   * Adds the report's rollups; its records must already be written with their auth_key. Call inside the
   * report's transaction, as its last write (rows it shares with other reports stay locked until the commit).
   */
  async write(tx: SqlRunner, driver: Pick<Driver, 'caps'>, reportId: number): Promise<void> {
    if (this.#messages === 0) return;
    const caps = driver.caps;
    // Concurrent transactions (PostgreSQL) lock shared rows in one order — tables in this order, rows in key
    // order — so they cannot deadlock. Facts rows committed before (by this process) need no statement.
    const known = knownAuth.get(driver);
    const fresh = [...this.#auths.values()].filter((a) => !known?.has(`${a.row[0]}${SEP}${a.key}`));
    await upsert(tx, caps, 'rollup_auth', AUTH_COLUMNS, 2, null, fresh.map((a) => a.row).sort(byKeyOf(2)));
    if (this.#sources) await this.#sourcesInTs(tx, caps);
    else await sourcesInSql(tx, caps, reportId, this.#domain, this.#plan as Extract<DayPlan, { kind: 'sql' }>);
    // rows keyed by their key columns joined (the values of a row are kept with it: no split afterwards);
    // `messages` is the last column of a domain row and the 7th of a selector row
    const [firstSeen, lastSeen] = [Math.floor(this.#period.begin), Math.floor(this.#period.end)];
    const domains = new Map<string, SqlValue[]>();
    const selectors = new Map<string, SqlValue[]>();
    for (const { facts: a, slots: sums } of this.#sums.values()) {
      const domain = a.row[0] as string;
      for (const [slot, messages] of sums) {
        const day = this.#plan.first + Math.floor(slot / 4) * DAY;
        const disposition = DISPOSITIONS[slot % 4]!;
        const domainKey = `${domain}${SEP}${day}${SEP}${disposition}${SEP}${a.row[6]}${SEP}${a.row[7]}`;
        const domainRow = domains.get(domainKey);
        if (domainRow) (domainRow[6] as number) += messages;
        else domains.set(domainKey, [domain, day, disposition, a.row[6]!, a.row[7]!, reportId, messages]);
        for (const [d, sel, r] of a.signatures) {
          const selectorKey = `${domain}${SEP}${day}${SEP}${d}${SEP}${sel}${SEP}${r}`;
          const selectorRow = selectors.get(selectorKey);
          if (selectorRow) (selectorRow[6] as number) += messages;
          else selectors.set(selectorKey, [domain, day, d, sel, r, reportId, messages, firstSeen, lastSeen]);
        }
      }
    }
    await insert(tx, caps, 'rollup_selectors', SELECTOR_COLUMNS, [...selectors.values()].sort(byKeyOf(5)));
    await insert(tx, caps, 'rollup_domains', DOMAIN_COLUMNS, [...domains.values()].sort(byKeyOf(5)));
  }

  /** Tells the rollup its transaction committed: its facts rows exist now, later reports skip writing them. */
  committed(driver: object): void {
    let known = knownAuth.get(driver);
    if (!known || known.size > MAX_KNOWN) knownAuth.set(driver, (known = new Set()));
    for (const a of this.#auths.values()) known.add(`${a.row[0]}${SEP}${a.key}`);
  }

  async #sourcesInTs(tx: SqlRunner, caps: Capabilities): Promise<void> {
    const rows: SqlValue[][] = [];
    for (const [key, n] of this.#sources!) {
      const [authKey, ip, disposition, day] = key.split(SEP) as [string, string, string, string];
      rows.push([this.#auths.get(Number(authKey))!.row[0]!, Number(day), ip, disposition, Number(authKey), n]);
    }
    rows.sort(byKeyOf(5));
    await upsert(tx, caps, 'rollup_sources', SOURCE_COLUMNS, 5, ADD_MESSAGES, rows);
  }

  #sharesOf(count: number): DayShare[] {
    let shares = this.#shares.get(count);
    if (shares === undefined) {
      shares = prorateByDay(this.#period.begin, this.#period.end, count);
      if (this.#shares.size >= MAX_MEMO) this.#shares.clear();
      this.#shares.set(count, shares);
    }
    return shares;
  }
}

/**
 * Memo of the facts, shared by all reports (they depend only on the policy's domain / adkim / aspf and the
 * record's authentication fields): the records of a report, and of reports from the same senders, repeat a few
 * combinations. A nested map, so no long key is built per record; keys are fresh JSON texts, so the memo keeps
 * no slice of a large parser buffer alive. Bounded: cleared when full.
 */
let memo = new Map<string, Map<string, Map<string, AuthFacts>>>();
let memoSize = 0;

function factsOf(rec: AggregateRecord, json: RecordJson, policy: RollupPeriod['policy'], policyKey: string): AuthFacts {
  const rest = policyKey + restKey(rec) + json.overrideReasons;
  let bySpf = memo.get(json.dkim);
  let byRest = bySpf?.get(json.spf);
  let facts = byRest?.get(rest);
  if (facts === undefined) {
    facts = authFacts(rec, policy);
    if (++memoSize > MAX_MEMO) {
      memo = new Map();
      memoSize = 1;
      bySpf = byRest = undefined;
    }
    if (!bySpf) memo.set(json.dkim, (bySpf = new Map()));
    if (!byRest) bySpf.set(json.spf, (byRest = new Map()));
    byRest.set(rest, facts);
  }
  return facts;
}

const NULL_MARK = '\u0002';
/** a value holding one of the key's own marks (or the JSON form's) is keyed by JSON instead: never ambiguous */
const MARKS = /[\u0001-\u0003]/;

/**
 * The record's remaining fact inputs as one memo key: joined with SEP (null as NULL_MARK) — cheaper than JSON
 * for every record — or, when a value holds one of those marks, as '\u0003' + JSON.
 */
function restKey(rec: AggregateRecord): string {
  const values = [rec.headerFrom, rec.dkimEval, rec.spfEval, rec.envelopeFrom];
  if (values.some((v) => v != null && MARKS.test(v))) return '\u0003' + JSON.stringify(values);
  return values.map((v) => v ?? NULL_MARK).join(SEP);
}

/** as IP_SQL (and without the key separator, which no address contains) */
function ipOf(ip: string | null): string {
  return (ip?.trim() || 'unknown').slice(0, MAX_IP).replaceAll(SEP, '');
}

/** the dispositions a rollup row distinguishes ('' for anything else), as DISPOSITION_SQL */
const DISPOSITIONS = ['', 'none', 'quarantine', 'reject'] as const;

function dispositionIndex(d: string | null): number {
  if (d === 'none') return 1;
  const v = d?.trim().toLowerCase();
  return v === 'none' ? 1 : v === 'quarantine' ? 2 : v === 'reject' ? 3 : 0;
}

/**
 * One- or two-day periods: the report's source rows are summed by the database from the records just written,
 * each record's count split as prorateByDay splits it over two days — day 0 gets floor(c·w0/W) plus the one
 * leftover message when its remainder is the larger (a tie goes to the earlier day), day 1 the rest.
 */
async function sourcesInSql(tx: SqlRunner, caps: Capabilities, reportId: number, domain: string, plan: Extract<DayPlan, { kind: 'sql' }>): Promise<void> {
  const c = caps.codePointOrder;
  const [, day1] = plan.days;
  // the statement text does not depend on the report (bound parameters), so engines prepare it once
  const share0 =
    day1 === undefined
      ? 'message_count'
      : 'message_count * CAST(? AS BIGINT) / CAST(? AS BIGINT) + CASE WHEN 2 * ((message_count * CAST(? AS BIGINT)) % CAST(? AS BIGINT)) >= CAST(? AS BIGINT) THEN 1 ELSE 0 END';
  const shareParams = day1 === undefined ? [] : [plan.w0, plan.w, plan.w0, plan.w, plan.w];
  const days = day1 === undefined ? 'SELECT 0 AS i, CAST(? AS BIGINT) AS day' : 'SELECT 0 AS i, CAST(? AS BIGINT) AS day UNION ALL SELECT 1 AS i, CAST(? AS BIGINT) AS day';
  const messages = 'CASE WHEN d.i = 0 THEN g.s0 ELSE g.s1 END';
  await tx.query(
    `INSERT INTO rollup_sources (${SOURCE_COLUMNS.join(', ')})
     SELECT CAST(? AS TEXT), d.day, g.ip, g.disposition, g.auth_key, ${messages}
     FROM (
       SELECT ip, disposition, auth_key, CAST(sum(share0) AS BIGINT) AS s0, CAST(sum(message_count - share0) AS BIGINT) AS s1 FROM (
         SELECT ${IP_SQL} AS ip, ${DISPOSITION_SQL} AS disposition, auth_key, message_count, ${share0} AS share0
         FROM aggregate_records WHERE report_id = ? AND message_count > 0 AND auth_key IS NOT NULL
       ) r GROUP BY ip, disposition, auth_key
     ) g CROSS JOIN (${days}) d
     WHERE ${messages} > 0
     ORDER BY d.day, g.ip${c}, g.disposition${c}, g.auth_key
     ON CONFLICT (domain, day, source_ip, disposition, auth_key) DO UPDATE SET messages = rollup_sources.messages + excluded.messages`,
    [domain, ...shareParams, reportId, ...plan.days],
  );
}

/** `first`: 00:00 UTC of the first day (what the report's shares are counted from) */
type DayPlan = { kind: 'sql'; first: number; days: [number] | [number, number]; w0: number; w: number } | { kind: 'ts'; first: number };

/** How prorateByDay splits this period: onto one day, two days (weights w0 and w − w0), or more. */
export function dayPlan(begin: number, end: number): DayPlan {
  let from = Math.floor(begin);
  let to = Number.isFinite(end) ? Math.floor(end) : from;
  if (!Number.isFinite(from)) return { kind: 'ts', first: 0 };
  if (to < from) [from, to] = [to, from];
  const first = utcDayStart(from);
  const days = to === from ? 1 : Math.ceil((to - first) / DAY);
  if (days === 1 || days > MAX_PRORATE_DAYS) return { kind: 'sql', first, days: [first], w0: 1, w: 1 };
  if (days === 2) return { kind: 'sql', first, days: [first, first + DAY], w0: first + DAY - from, w: to - from };
  return { kind: 'ts', first };
}

/** primary-key order of rows whose first `width` values are the key (B-trees take ordered inserts faster) */
function byKeyOf(width: number): (x: SqlValue[], y: SqlValue[]) => number {
  return (x, y) => {
    for (let i = 0; i < width; i++) {
      const a = x[i]!;
      const b = y[i]!;
      if (a !== b) return a! < b! ? -1 : 1;
    }
    return 0;
  };
}

/**
 * The rollup_auth rows each database (driver) is known to hold, written by this process in committed
 * transactions. Forgotten by rebuildRollups (which deletes them) and when too many.
 */
let knownAuth = new WeakMap<object, Set<string>>();

/** After the rollup tables were emptied (rebuildRollups): no facts row is known to exist any more. */
export function forgetKnownFacts(): void {
  knownAuth = new WeakMap();
}
const MAX_KNOWN = 200_000;

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function authFacts(rec: AggregateRecord, policy: RollupPeriod['policy']): AuthFacts {
  const auth = evaluateRecord(rec, { domain: policy.domain, adkim: policy.adkim, aspf: policy.aspf });
  const sig = auth.signature;
  const reasons = [...new Set(rec.overrideReasons.map((o) => keyPart(o.type.trim().toLowerCase() || 'unspecified', MAX_SHORT)))]
    .sort()
    .slice(0, MAX_REASONS)
    .join(',');
  const passDomains = auth.dkimPassDomains.map((d) => rollupDomain(d)).filter(Boolean).sort().slice(0, MAX_PASS_DOMAINS).join(',');
  const values: SqlValue[] = [
    rollupDomain(policy.domain) || rollupDomain(auth.headerFrom),
    rollupDomain(auth.headerFrom),
    rollupDomain(sig?.domain),
    keyPart(sig?.selector?.trim().toLowerCase(), MAX_SELECTOR),
    keyPart(sig?.result?.trim().toLowerCase() || 'none', MAX_SHORT),
    auth.dkimAligned ? 1 : 0,
    auth.spfAligned ? 1 : 0,
    auth.forwardEvidence ? 1 : 0,
    auth.arcEvidence ? 1 : 0,
    reasons,
    passDomains,
  ];
  // 52 bits of SHA-1: an exact integer in JS and in a BIGINT column
  const key = parseInt(hash('sha1', values.join(SEP)).slice(0, 13), 16);
  const signatures = new Map<string, [string, string, string]>();
  for (const d of rec.dkim) {
    const dd = rollupDomain(d.domain);
    const ds = keyPart(d.selector?.trim().toLowerCase(), MAX_SELECTOR);
    const dr = keyPart(d.result?.trim().toLowerCase() || 'none', MAX_SHORT);
    if (dd && ds) signatures.set([dd, ds, dr].join(SEP), [dd, ds, dr]);
  }
  return { key, row: [values[0]!, key, ...values.slice(1)], signatures: [...signatures.values()], sumKey: [key, ...signatures.keys()].join(SEP + SEP) };
}

const ADD_MESSAGES = (t: string) => [`messages = ${t}.messages + excluded.messages`];

/** Rows of this report only (unique by construction): plain multi-row INSERTs. */
async function insert(tx: SqlRunner, caps: Capabilities, table: string, columns: readonly string[], rows: readonly SqlValue[][]): Promise<void> {
  if (rows.length > 0) await tx.insertMany(table, columns, rows.flat());
}

/**
 * Multi-row INSERT … ON CONFLICT (the first `keyWidth` columns) DO UPDATE SET `updates` (DO NOTHING when null),
 * within the engine's parameter limit. Rows must be unique by key (PostgreSQL refuses to update one row twice
 * in a statement).
 */
async function upsert(
  tx: SqlRunner,
  caps: Capabilities,
  table: string,
  columns: readonly string[],
  keyWidth: number,
  updates: ((table: string) => string[]) | null,
  rows: readonly SqlValue[][],
): Promise<void> {
  if (rows.length === 0) return;
  const key = columns.slice(0, keyWidth).join(', ');
  const suffix = ` ON CONFLICT (${key}) DO ${updates ? `UPDATE SET ${updates(table).join(', ')}` : 'NOTHING'}`;
  const width = columns.length;
  let at = 0;
  for (const size of planInsertChunks(rows.length, width, caps.maxParameters, caps.rowsPerInsert)) {
    const params = new Array<SqlValue>(size * width);
    for (let i = 0; i < size; i++) {
      const row = rows[at + i]!;
      for (let c = 0; c < width; c++) params[i * width + c] = row[c]!;
    }
    await tx.query(multiRowInsertSql(table, columns, size) + suffix, params);
    at += size;
  }
}
