/**
 * Seeded random aggregate reports for the rollup and analytics tests, and the rollups computed DIRECTLY from
 * records with the domain rules (evaluateRecord, keySignature, prorateByDay), to compare the stored ones with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { mulberry32 } from '../../bench/synthetic-aggregate.ts';
import { evaluateRecord } from '../../server/domain/classify.ts';
import { prorateByDay } from '../../server/domain/prorate.ts';
import type { AggregateHeader, AggregateRecord } from '../../server/domain/report-types.ts';
import type { Driver } from '../../server/store/driver.ts';
import { describePostgresUnavailable, getTestPostgres } from '../helpers/postgres.ts';

export const DAY = 86_400;
export const D0 = Date.UTC(2024, 0, 10) / 1000;
export const origin = { input: '/in/r.xml', member: null };
/** no offline ASN / country look-ups: classification depends only on what a test sets up */
export const OFFLINE = { asn: { lookup: () => null }, country: { lookup: () => null } };

/**
 * The databases an analytics suite runs on: a fresh SQLite file each time, and a fresh PostgreSQL database when a
 * server is reachable (else the loud skip message). Cleaned up after the suite.
 */
export async function analyticsTargets(suite: string): Promise<{ name: string; freshUrl(): Promise<string> }[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'dmarc-lens-analytics-'));
  let fileNo = 0;
  const targets: { name: string; freshUrl(): Promise<string> }[] = [{ name: 'sqlite', freshUrl: async () => `sqlite:${join(tmp, `a-${++fileNo}.db`)}` }];
  const postgres = await getTestPostgres();
  if (postgres) targets.push({ name: `postgres (${postgres.source})`, freshUrl: () => postgres.newDatabase() });
  else describePostgresUnavailable(suite);
  afterAll(async () => {
    await postgres?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  return targets;
}

/** the benchmark's seeded generator (mulberry32) */
export const rng = mulberry32;

export function header(reportId: string, begin: number, end: number, policy: Partial<AggregateHeader['policy']> = {}, org = 'reporter.test'): AggregateHeader {
  return {
    xmlSchema: '1.0',
    orgName: org,
    orgEmail: `dmarc@${org}`,
    orgExtraContactInfo: null,
    reportId,
    begin,
    end,
    errors: [],
    generator: null,
    policy: { domain: 'example.com', adkim: 'r', aspf: 'r', p: 'none', sp: null, np: null, pct: 100, fo: null, testing: null, discoveryMethod: null, ...policy },
  };
}

export function record(ordinal: number, r: Partial<AggregateRecord> = {}): AggregateRecord {
  return {
    ordinal,
    sourceIp: '192.0.2.1',
    count: 1,
    disposition: 'none',
    dkimEval: 'pass',
    spfEval: 'pass',
    overrideReasons: [],
    headerFrom: 'example.com',
    envelopeFrom: 'example.com',
    envelopeTo: null,
    dkim: [{ domain: 'example.com', selector: 's1', result: 'pass', humanResult: null }],
    spf: [{ domain: 'example.com', scope: 'mfrom', result: 'pass', humanResult: null }],
    problems: [],
    ...r,
  };
}

const IPS = ['192.0.2.1', '192.0.2.2', '198.51.100.7', '203.0.113.9', '2001:db8::25', ' 192.0.2.3 ', null];
const DOMAINS = ['example.com', 'mail.example.com', 'sendgrid.net', 'other.test'];
const SELECTORS = ['s1', 's2', '2017q1vendor', 'Google', null];
const DKIM_RESULTS = ['pass', 'fail', 'permerror', 'none', 'Pass'];
const SPF_RESULTS = ['pass', 'fail', 'softfail', 'none'];
const DISPOSITIONS = ['none', 'quarantine', 'reject', ' Quarantine', null, 'pass'];
const REASONS = ['forwarded', 'local_policy', 'mailing_list', 'trusted_forwarder'];

/** Records with every combination the rollups distinguish, including odd spellings and zero counts. */
export function randomRecords(seed: number, n: number): AggregateRecord[] {
  const rnd = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: AggregateRecord[] = [];
  for (let i = 0; i < n; i++) {
    const dkim = Array.from({ length: Math.floor(rnd() * 3) }, () => ({ domain: pick(DOMAINS), selector: pick(SELECTORS), result: pick(DKIM_RESULTS), humanResult: null }));
    const reasons = rnd() < 0.2 ? [{ type: pick(REASONS), comment: rnd() < 0.5 ? 'arc=pass' : null }] : [];
    out.push(record(i, {
      sourceIp: pick(IPS),
      count: rnd() < 0.05 ? 0 : rnd() < 0.8 ? 1 + Math.floor(rnd() * 5) : 1 + Math.floor(rnd() * 100_000),
      disposition: pick(DISPOSITIONS),
      dkimEval: rnd() < 0.6 ? 'pass' : 'fail',
      spfEval: rnd() < 0.6 ? 'pass' : 'fail',
      overrideReasons: reasons,
      headerFrom: rnd() < 0.9 ? 'example.com' : 'news.example.com',
      envelopeFrom: pick(DOMAINS),
      dkim,
      spf: [{ domain: pick(DOMAINS), scope: rnd() < 0.8 ? 'mfrom' : 'helo', result: pick(SPF_RESULTS), humanResult: null }],
    }));
  }
  return out;
}

export async function* batches<T>(items: readonly T[], size: number): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const DISPOSITION = (d: string | null): string => {
  const v = d?.trim().toLowerCase();
  return v === 'none' || v === 'quarantine' || v === 'reject' ? v : '';
};
const cleanDomain = (d: string | null | undefined): string => d?.trim().toLowerCase().replace(/\.$/, '') ?? '';

export type Expected = Map<string, number>;

export interface ExpectedRollups {
  domains: Expected;
  sources: Expected;
  selectors: Expected;
}

/** The rollups straight from the records: each record's count pro-rated over its report's days. */
export function expectedRollups(reports: { header: AggregateHeader; records: AggregateRecord[] }[]): ExpectedRollups {
  const out: ExpectedRollups = { domains: new Map(), sources: new Map(), selectors: new Map() };
  const add = (m: Expected, k: unknown[], n: number) => m.set(k.join('|'), (m.get(k.join('|')) ?? 0) + n);
  for (const { header: h, records } of reports) {
    for (const rec of records) {
      if (!(rec.count > 0)) continue;
      const auth = evaluateRecord(rec, h.policy);
      const domain = cleanDomain(h.policy.domain) || cleanDomain(auth.headerFrom);
      const disposition = DISPOSITION(rec.disposition);
      const sig = auth.signature;
      const da = auth.dkimAligned ? 1 : 0;
      const sa = auth.spfAligned ? 1 : 0;
      for (const share of prorateByDay(h.begin, h.end, rec.count)) {
        add(out.domains, [domain, share.day, disposition, da, sa], share.count);
        add(out.sources, [
          domain, share.day, rec.sourceIp?.trim() || 'unknown', disposition, cleanDomain(auth.headerFrom), cleanDomain(sig?.domain),
          sig?.selector?.trim().toLowerCase() ?? '', sig?.result?.trim().toLowerCase() || 'none', da, sa, auth.forwardEvidence ? 1 : 0, auth.arcEvidence ? 1 : 0,
        ], share.count);
        const seen = new Set<string>();
        for (const d of rec.dkim) {
          if (!d.domain || !d.selector) continue;
          const k = [domain, share.day, cleanDomain(d.domain), d.selector.trim().toLowerCase(), d.result?.trim().toLowerCase() || 'none'];
          if (seen.has(k.join('|'))) continue;
          seen.add(k.join('|'));
          add(out.selectors, k, share.count);
        }
      }
    }
  }
  return out;
}

/** The stored rollups, in the same key shapes. */
export async function storedRollups(driver: Driver): Promise<ExpectedRollups> {
  const toMap = (rows: Record<string, unknown>[], cols: string[]) => {
    const m: Expected = new Map();
    for (const r of rows) {
      const k = cols.map((c) => String(r[c])).join('|');
      m.set(k, (m.get(k) ?? 0) + Number(r.messages));
    }
    return m;
  };
  return {
    domains: toMap(await driver.query('SELECT * FROM rollup_domains'), ['domain', 'day', 'disposition', 'dkim_aligned', 'spf_aligned']),
    sources: toMap(
      await driver.query(
        `SELECT s.domain, s.day, s.source_ip, s.disposition, a.header_from, a.dkim_domain, a.dkim_selector, a.dkim_result, a.dkim_aligned, a.spf_aligned,
                a.forwarded, a.arc, s.messages
         FROM rollup_sources s JOIN rollup_auth a ON a.domain = s.domain AND a.auth_key = s.auth_key`,
      ),
      ['domain', 'day', 'source_ip', 'disposition', 'header_from', 'dkim_domain', 'dkim_selector', 'dkim_result', 'dkim_aligned', 'spf_aligned', 'forwarded', 'arc'],
    ),
    selectors: toMap(await driver.query('SELECT * FROM rollup_selectors'), ['domain', 'day', 'dkim_domain', 'selector', 'result']),
  };
}

export function total(m: Expected): number {
  let t = 0;
  for (const v of m.values()) t += v;
  return t;
}

/** Sorted entries, for readable diffs. */
export function entries(m: Expected): [string, number][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
