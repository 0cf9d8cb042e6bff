/**
 * Daily rollups of aggregate records, computed while a report is stored (inside saveAggregate's transaction) so
 * the analytics views never scan raw records. One report's records are accumulated in memory per (authentication
 * facts, disposition, source IP) — bounded by the report's distinct sources, not its messages — and written at
 * the end of the transaction with upserts that add to the rows other reports already made.
 *
 * Tables (migration 002):
 *   rollup_auth       each distinct combination of authentication facts, once: header_from, key DKIM signature
 *                     (domain, selector, result), DKIM aligned pass, SPF aligned pass, forwarding / ARC evidence,
 *                     override reasons, passing signing domains; keyed by a 52-bit hash of those values
 *   rollup_sources    per policy domain, UTC day, source IP, disposition and auth_key: messages
 *   rollup_selectors  per policy domain, day, DKIM signing domain, selector and result (every signature of a
 *                     record): messages, first / last seen (report period)
 *   rollup_domains    per policy domain, day, disposition, DKIM / SPF aligned pass: messages (overview, timeline)
 * A report's total per (source IP, disposition, auth) is pro-rated over the days the report covers
 * (prorateByDay: whole messages, totals exact), and the domain and selector rows are summed from those very
 * shares, so every table agrees on every day.
 *
 * Concurrent transactions (PostgreSQL) take turns for the rollup writes (Capabilities.rollupLock), so they
 * cannot deadlock on each other's rows.
 */
import { createHash } from 'node:crypto';
import { evaluateRecord } from '../domain/classify.ts';
import { prorateByDay, type DayShare } from '../domain/prorate.ts';
import type { AggregateHeader, AggregateRecord } from '../domain/report-types.ts';
import type { Capabilities, SqlRunner, SqlValue } from './driver.ts';
import { multiRowInsertSql, planInsertChunks } from './insert-many.ts';

export const AUTH_COLUMNS = [
  'auth_key', 'header_from', 'dkim_domain', 'dkim_selector', 'dkim_result', 'dkim_aligned', 'spf_aligned', 'forwarded', 'arc',
  'override_reasons', 'dkim_pass_domains',
] as const;
const SOURCE_COLUMNS = ['domain', 'day', 'source_ip', 'disposition', 'auth_key', 'messages'] as const;
const SELECTOR_COLUMNS = ['domain', 'day', 'dkim_domain', 'selector', 'result', 'messages', 'first_seen', 'last_seen'] as const;
const DOMAIN_COLUMNS = ['domain', 'day', 'disposition', 'dkim_aligned', 'spf_aligned', 'messages'] as const;

const SEP = '\u0001';
/** length caps keep every key well inside PostgreSQL's B-tree row limit, whatever a reporter sends */
const MAX_DOMAIN = 253;
const MAX_SELECTOR = 128;
const MAX_SHORT = 32;
const MAX_IP = 64;
const MAX_PASS_DOMAINS = 3;
const MAX_REASONS = 4;
/** per-report memo sizes (the records of a report repeat the same authentication facts and counts) */
const MAX_MEMO = 50_000;

type Period = Pick<AggregateHeader, 'begin' | 'end'> & { policy: Pick<AggregateHeader['policy'], 'domain' | 'adkim' | 'aspf'> };

/**
 * A value as it goes into a rollup row: no control characters, bounded length, and a string of its own
 * (a record's strings may be slices of a large parser buffer, which must not be kept alive by the rollup).
 */
function keyPart(value: string | null | undefined, max: number): string {
  if (!value) return '';
  // eslint-disable-next-line no-control-regex
  let s = /[\u0000-\u001f]/.test(value) ? value.replace(/[\u0000-\u001f]/g, '') : value;
  if (s.length > max) s = s.slice(0, max);
  return own(s);
}

/** A copy of a string that shares no memory with a larger one (V8 makes slices of 13+ characters share). */
function own(s: string): string {
  return s.length >= 13 ? (SEP + s).slice(1) : s;
}

/** The form of a domain in the rollup tables (and of a domain filter matched against them). */
export function rollupDomain(d: string | null | undefined): string {
  return keyPart(d?.trim().toLowerCase().replace(/\.$/, ''), MAX_DOMAIN);
}

/** The authentication facts of a record, as one rollup_auth row. */
interface AuthFacts {
  /** policy domain (the report's, or the record's header_from when the report names none) */
  domain: string;
  key: number;
  /** AUTH_COLUMNS values, auth_key first */
  row: SqlValue[];
  dkimAligned: number;
  spfAligned: number;
  /** [signing domain, selector, result] of every signature naming both */
  signatures: [string, string, string][];
  /** disposition → source IP → messages over the report */
  sources: Map<string, Map<string, number>>;
}

type Trie = Map<unknown, unknown>;
const LEAF = Symbol('facts');

/** Accumulates one report's rollup rows. */
export class ReportRollup {
  readonly #period: Period;
  /** memo of the authentication facts: a trie over the record fields they depend on (no key string per record) */
  #memo: Trie = new Map();
  #memoSize = 0;
  /** every distinct set of facts seen, with the sources counted under it */
  readonly #auths: AuthFacts[] = [];
  readonly #shares = new Map<number, DayShare[]>();

  constructor(period: Period) {
    this.#period = period;
  }

  add(rec: AggregateRecord): void {
    if (!Number.isFinite(rec.count) || rec.count <= 0) return;
    const auth = this.#authOf(rec);
    // looked up by the value as given; stored (on first sight) as a bounded copy
    const disposition = rec.disposition ?? '';
    let byIp = auth.sources.get(disposition);
    if (byIp === undefined) {
      const k = keyPart(disposition, MAX_SHORT);
      byIp = auth.sources.get(k);
      if (byIp === undefined) auth.sources.set(k, (byIp = new Map()));
    }
    const ip = rec.sourceIp ?? '';
    const n = byIp.get(ip);
    if (n !== undefined) byIp.set(ip, n + rec.count);
    else {
      const k = keyPart(ip, MAX_IP);
      byIp.set(k, (byIp.get(k) ?? 0) + rec.count);
    }
  }

  /**
   * Writes (adds) the report's rollups. Call inside the report's transaction, as its last write: on engines
   * with concurrent writers, the rollup lock is held from here to the commit.
   */
  async write(tx: SqlRunner, caps: Capabilities): Promise<void> {
    const auths = this.#merged();
    if (auths.length === 0) return;
    if (caps.rollupLock) await tx.query(caps.rollupLock);
    const domains = new Map<string, number>();
    const selectors = new Map<string, number>();
    let sourceRows = 0;
    for (const a of auths) {
      for (const [disposition, byIp] of a.sources) {
        const byDay = new Map<number, number>();
        for (const total of byIp.values()) {
          const shares = this.#sharesOf(total);
          sourceRows += shares.length;
          for (const s of shares) byDay.set(s.day, (byDay.get(s.day) ?? 0) + s.count);
        }
        for (const [day, n] of byDay) {
          add(domains, [a.domain, day, disposition, a.dkimAligned, a.spfAligned].join(SEP), n);
          for (const sig of a.signatures) add(selectors, [a.domain, day, ...sig].join(SEP), n);
        }
      }
    }
    await upsert(tx, caps, 'rollup_auth', AUTH_COLUMNS, 1, null, auths.length, function* () {
      for (const a of auths) yield* a.row;
    });
    const sharesOf = (n: number): DayShare[] => this.#sharesOf(n);
    await upsert(tx, caps, 'rollup_sources', SOURCE_COLUMNS, 5, ADD_MESSAGES, sourceRows, function* () {
      for (const a of auths) {
        for (const [disposition, byIp] of a.sources) {
          for (const [ip, total] of byIp) {
            for (const s of sharesOf(total)) {
              yield a.domain;
              yield s.day;
              yield ip;
              yield disposition;
              yield a.key;
              yield s.count;
            }
          }
        }
      }
    });
    const seen = [Math.floor(this.#period.begin), Math.floor(this.#period.end)];
    await upsert(tx, caps, 'rollup_selectors', SELECTOR_COLUMNS, 5, ADD_MESSAGES_AND_SEEN, selectors.size, function* () {
      for (const [key, n] of selectors) {
        const [domain, day, d, s, r] = key.split(SEP);
        yield* [domain!, Number(day), d!, s!, r!, n, ...seen];
      }
    });
    await upsert(tx, caps, 'rollup_domains', DOMAIN_COLUMNS, 5, ADD_MESSAGES, domains.size, function* () {
      for (const [key, n] of domains) {
        const [domain, day, disposition, da, sa] = key.split(SEP);
        yield* [domain!, Number(day), disposition!, Number(da), Number(sa), n];
      }
    });
  }

  /**
   * The facts seen, one per auth_key, with their sources normalized (trimmed, lower-cased disposition, 'unknown'
   * for a missing IP) and merged: records differing only in spelling become one row.
   */
  #merged(): AuthFacts[] {
    const byKey = new Map<number, AuthFacts>();
    for (const a of this.#auths) {
      if (a.sources.size === 0) continue;
      let into = byKey.get(a.key);
      if (!into) byKey.set(a.key, (into = { ...a, sources: new Map() }));
      for (const [rawDisposition, byIp] of a.sources) {
        const disposition = rawDisposition.trim().toLowerCase();
        let target = into.sources.get(disposition);
        if (!target) into.sources.set(disposition, (target = new Map()));
        for (const [rawIp, n] of byIp) {
          const ip = rawIp.trim() || 'unknown';
          target.set(ip, (target.get(ip) ?? 0) + n);
        }
      }
    }
    return [...byKey.values()];
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

  #authOf(rec: AggregateRecord): AuthFacts {
    let node = step(this.#memo, rec.headerFrom);
    node = step(node, rec.dkimEval);
    node = step(node, rec.spfEval);
    node = step(node, rec.envelopeFrom);
    node = step(node, rec.dkim.length);
    for (const d of rec.dkim) node = step(step(step(node, d.domain), d.selector), d.result);
    node = step(node, rec.spf.length);
    for (const x of rec.spf) node = step(step(step(node, x.domain), x.scope), x.result);
    node = step(node, rec.overrideReasons.length);
    for (const o of rec.overrideReasons) node = step(step(node, o.type), o.comment);
    let facts = node.get(LEAF) as AuthFacts | undefined;
    if (facts === undefined) {
      facts = authFacts(rec, this.#period.policy);
      this.#auths.push(facts);
      if (++this.#memoSize > MAX_MEMO) {
        this.#memo = new Map();
        this.#memoSize = 0;
      } else node.set(LEAF, facts);
    }
    return facts;
  }
}

/** the child of a memo trie node for one field value (created on first use) */
function step(node: Trie, value: unknown): Trie {
  let next = node.get(value) as Trie | undefined;
  if (next === undefined) node.set(typeof value === 'string' ? own(value) : value, (next = new Map()));
  return next;
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function authFacts(rec: AggregateRecord, policy: Period['policy']): AuthFacts {
  const auth = evaluateRecord(rec, { domain: policy.domain, adkim: policy.adkim, aspf: policy.aspf });
  const domain = rollupDomain(policy.domain) || rollupDomain(auth.headerFrom);
  const sig = auth.signature;
  const reasons = [...new Set(rec.overrideReasons.map((o) => keyPart(o.type.trim().toLowerCase() || 'unspecified', MAX_SHORT)))]
    .sort()
    .slice(0, MAX_REASONS)
    .join(',');
  const passDomains = auth.dkimPassDomains.map((d) => rollupDomain(d)).filter(Boolean).sort().slice(0, MAX_PASS_DOMAINS).join(',');
  const dkimAligned = auth.dkimAligned ? 1 : 0;
  const spfAligned = auth.spfAligned ? 1 : 0;
  const values: SqlValue[] = [
    rollupDomain(auth.headerFrom),
    rollupDomain(sig?.domain),
    keyPart(sig?.selector?.trim().toLowerCase(), MAX_SELECTOR),
    keyPart(sig?.result?.trim().toLowerCase() || 'none', MAX_SHORT),
    dkimAligned,
    spfAligned,
    auth.forwardEvidence ? 1 : 0,
    auth.arcEvidence ? 1 : 0,
    reasons,
    passDomains,
  ];
  // 52 bits of SHA-1: an exact integer in JS and in a BIGINT column
  const key = parseInt(createHash('sha1').update(values.join(SEP)).digest('hex').slice(0, 13), 16);
  const signatures = new Map<string, [string, string, string]>();
  for (const d of rec.dkim) {
    const dd = rollupDomain(d.domain);
    const ds = keyPart(d.selector?.trim().toLowerCase(), MAX_SELECTOR);
    const dr = keyPart(d.result?.trim().toLowerCase() || 'none', MAX_SHORT);
    if (dd && ds) signatures.set([dd, ds, dr].join(SEP), [dd, ds, dr]);
  }
  return { domain, key, row: [key, ...values], dkimAligned, spfAligned, signatures: [...signatures.values()], sources: new Map() };
}

const ADD_MESSAGES = (t: string) => [`messages = ${t}.messages + excluded.messages`];
const ADD_MESSAGES_AND_SEEN = (t: string) => [
  ...ADD_MESSAGES(t),
  `first_seen = CASE WHEN excluded.first_seen < ${t}.first_seen THEN excluded.first_seen ELSE ${t}.first_seen END`,
  `last_seen = CASE WHEN excluded.last_seen > ${t}.last_seen THEN excluded.last_seen ELSE ${t}.last_seen END`,
];

/**
 * Multi-row INSERT … ON CONFLICT (the first `keyWidth` columns) DO UPDATE SET `updates` (DO NOTHING when null),
 * within the engine's parameter limit. `values()` yields `rowCount` rows' values one after another, in `columns`
 * order. Rows must be unique by key (PostgreSQL refuses to update one row twice in a statement).
 */
async function upsert(
  tx: SqlRunner,
  caps: Capabilities,
  table: string,
  columns: readonly string[],
  keyWidth: number,
  updates: ((table: string) => string[]) | null,
  rowCount: number,
  values: () => Iterator<SqlValue>,
): Promise<void> {
  if (rowCount === 0) return;
  const key = columns.slice(0, keyWidth).join(', ');
  const suffix = ` ON CONFLICT (${key}) DO ${updates ? `UPDATE SET ${updates(table).join(', ')}` : 'NOTHING'}`;
  const it = values();
  for (const size of planInsertChunks(rowCount, columns.length, caps.maxParameters, caps.rowsPerInsert)) {
    const params = new Array<SqlValue>(size * columns.length);
    for (let i = 0; i < params.length; i++) {
      const next = it.next();
      if (next.done) throw new Error(`rollup ${table}: fewer values than ${rowCount} rows`);
      params[i] = next.value;
    }
    await tx.query(multiRowInsertSql(table, columns, size) + suffix, params);
  }
}

/** Writes (adds) one report's rollups. Call inside the report's transaction, as its last write. */
export async function writeRollups(tx: SqlRunner, caps: Capabilities, r: ReportRollup): Promise<void> {
  await r.write(tx, caps);
}

const REPORT_PAGE = 200;
const RECORD_PAGE = 5000;

/**
 * Recomputes every rollup from the stored records (the backfill of migration 002; also usable after a change
 * of the rollup rules). Runs inside the caller's transaction; memory is bounded by one report's rollup.
 */
export async function rebuildRollups(tx: SqlRunner, caps: Capabilities): Promise<{ reports: number }> {
  if (caps.rollupLock) await tx.query(caps.rollupLock);
  await tx.exec('DELETE FROM rollup_sources; DELETE FROM rollup_selectors; DELETE FROM rollup_domains; DELETE FROM rollup_auth;');
  let lastId = 0;
  let reports = 0;
  for (;;) {
    const page = await tx.query(
      `SELECT id, period_begin, period_end, policy_domain, policy_adkim, policy_aspf FROM aggregate_reports WHERE id > ? ORDER BY id LIMIT ${REPORT_PAGE}`,
      [lastId],
    );
    for (const row of page) {
      lastId = Number(row.id);
      const rollup = new ReportRollup({
        begin: Number(row.period_begin),
        end: Number(row.period_end),
        policy: { domain: nullableText(row.policy_domain), adkim: nullableText(row.policy_adkim), aspf: nullableText(row.policy_aspf) },
      });
      let lastOrdinal = -1;
      for (;;) {
        const records = await tx.query(
          `SELECT ordinal, source_ip, message_count, disposition, dkim_eval, spf_eval, header_from, envelope_from, override_reasons, dkim, spf
           FROM aggregate_records WHERE report_id = ? AND ordinal > ? ORDER BY ordinal LIMIT ${RECORD_PAGE}`,
          [lastId, lastOrdinal],
        );
        for (const rec of records) {
          lastOrdinal = Number(rec.ordinal);
          rollup.add(storedRecord(rec));
        }
        if (records.length < RECORD_PAGE) break;
      }
      await rollup.write(tx, caps);
      reports++;
    }
    if (page.length < REPORT_PAGE) return { reports };
  }
}

function nullableText(v: unknown): string | null {
  return v == null ? null : String(v);
}

function storedRecord(row: Record<string, unknown>): AggregateRecord {
  return {
    ordinal: Number(row.ordinal),
    sourceIp: nullableText(row.source_ip),
    count: Number(row.message_count),
    disposition: nullableText(row.disposition),
    dkimEval: nullableText(row.dkim_eval),
    spfEval: nullableText(row.spf_eval),
    overrideReasons: JSON.parse(String(row.override_reasons)) as AggregateRecord['overrideReasons'],
    headerFrom: nullableText(row.header_from),
    envelopeFrom: nullableText(row.envelope_from),
    envelopeTo: null,
    dkim: JSON.parse(String(row.dkim)) as AggregateRecord['dkim'],
    spf: JSON.parse(String(row.spf)) as AggregateRecord['spf'],
    problems: [],
  };
}
