/**
 * Analytics query latency on a large synthetic database: reports stored through the store (rollups maintained
 * at ingest), then each view of the Analytics contract timed (p50 / p95 of several runs).
 *   node --import tsx bench/analytics.ts [RECORDS=1000000] [DB_URL]   (default: a temporary SQLite file)
 * The data: 3 domains, 120 days, many reporters per day, a pool of 30,000 source IPs (so rollup rows merge across
 * reporters as with real mail), 12 selectors, a mix of passing, forwarded, unsigned and spoofed mail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalytics } from '../server/analytics/analytics.ts';
import type { AggregateHeader, AggregateRecord } from '../server/domain/report-types.ts';
import { openDatabase } from '../server/store/database.ts';
import { mulberry32 } from './synthetic-aggregate.ts';

const DAY = 86_400;
const START = Date.UTC(2025, 0, 1) / 1000;
const DOMAINS = ['example.com', 'example.org', 'shop.example'];
const REPORTERS = ['google.com', 'outlook.com', 'yahoo.com', 'mail.ru', 'comcast.net', 'gmx.net', 'web.de', 'orange.fr'];
const SELECTORS = ['2025q1a', '2025q2a', 'google', 's1', 's2', 'k2', 'selector1', 'selector2', 'mandrill', 'smtpapi', 'zendesk1', 'hs1'];
const ESPS = ['sendgrid.net', 'mcsv.net', 'amazonses.com', 'zendesk.com', 'hubspotemail.net'];

function records(rnd: () => number, domain: string, n: number): AggregateRecord[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: n }, (_, ordinal) => {
    const ipN = Math.floor(rnd() ** 2 * 30_000);
    const sourceIp = `${10 + (ipN >> 16)}.${(ipN >> 8) & 255}.${ipN & 255}.${1 + (ipN % 250)}`;
    const kind = rnd();
    const own = kind < 0.6;
    const vendor = !own && kind < 0.8;
    const forwarded = kind >= 0.8 && kind < 0.9;
    const dkim = own || forwarded
      ? [{ domain, selector: pick(SELECTORS.slice(0, 4)), result: forwarded ? 'fail' : 'pass', humanResult: null }]
      : vendor ? [{ domain: pick(ESPS), selector: pick(SELECTORS.slice(4)), result: 'pass', humanResult: null }] : [];
    const spfPass = own || (vendor && rnd() < 0.5);
    return {
      ordinal,
      sourceIp,
      count: rnd() < 0.8 ? 1 + Math.floor(rnd() * 5) : 1 + Math.floor(rnd() * 500),
      disposition: own || spfPass ? 'none' : pick(['none', 'quarantine', 'reject']),
      dkimEval: own ? 'pass' : 'fail',
      spfEval: spfPass ? 'pass' : 'fail',
      overrideReasons: forwarded ? [{ type: 'forwarded', comment: null }] : [],
      headerFrom: domain,
      envelopeFrom: spfPass ? domain : 'bounce.other.test',
      envelopeTo: null,
      dkim,
      spf: [{ domain: spfPass ? domain : 'bounce.other.test', scope: 'mfrom', result: spfPass ? 'pass' : 'fail', humanResult: null }],
      problems: [],
    };
  });
}

function header(domain: string, org: string, day: number, id: string): AggregateHeader {
  return {
    xmlSchema: '1.0', orgName: org, orgEmail: `dmarc@${org}`, orgExtraContactInfo: null, reportId: id,
    begin: START + day * DAY, end: START + (day + 1) * DAY - 1, errors: [], generator: null,
    policy: { domain, adkim: 'r', aspf: 'r', p: 'none', sp: null, np: null, pct: 100, fo: null, testing: null, discoveryMethod: null },
  };
}

async function* one<T>(x: T): AsyncGenerator<T> {
  yield x;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function runAnalyticsBench(total = 1_000_000, url?: string): Promise<Record<string, unknown>> {
  const dir = url ? null : mkdtempSync(join(tmpdir(), 'dmarc-lens-analytics-bench-'));
  const db = await openDatabase(url ?? `sqlite:${join(dir!, 'a.db')}`);
  const result: Record<string, unknown> = { records: total, dialect: db.driver.dialect };
  try {
    const rnd = mulberry32(42);
    const days = 120;
    const perReport = Math.max(1, Math.round(total / (days * DOMAINS.length * REPORTERS.length)));
    let stored = 0;
    const t0 = performance.now();
    for (let day = 0; day < days && stored < total; day++) {
      for (const domain of DOMAINS) {
        for (const org of REPORTERS) {
          const recs = records(rnd, domain, Math.min(perReport, total - stored));
          await db.reports.saveAggregate(header(domain, org, day, `${org}-${domain}-${day}`), one(recs), { input: 'bench', member: null });
          stored += recs.length;
        }
      }
    }
    result.loadSeconds = Math.round((performance.now() - t0) / 100) / 10;
    const [rows] = await db.driver.query('SELECT (SELECT count(*) FROM rollup_sources) AS sources, (SELECT count(*) FROM rollup_auth) AS auth, (SELECT count(*) FROM rollup_selectors) AS selectors');
    result.rollupRows = rows;
    const analytics = createAnalytics(db);
    const last30 = { from: START + (days - 30) * DAY, to: START + days * DAY - 1 };
    const views: Record<string, () => Promise<unknown>> = {
      'overview (all domains)': () => analytics.overview({}),
      'timeline (one domain)': () => analytics.timeline({ domain: 'example.com' }),
      'sources (one domain, 30 days)': () => analytics.sources({ domain: 'example.com', ...last30 }),
      'sources (one domain, 30 days, top 200)': () => analytics.sources({ domain: 'example.com', ...last30, limit: 200 }),
      'sources (one domain, all days)': () => analytics.sources({ domain: 'example.com' }),
      'selectors (one domain)': () => analytics.selectors({ domain: 'example.com' }),
      'readiness (one domain)': () => analytics.readiness({ domain: 'example.com' }),
      'monthly summary': () => analytics.monthlySummary({}),
    };
    const latency: Record<string, { p50: number; p95: number; rows: number }> = {};
    for (const [name, fn] of Object.entries(views)) {
      const times: number[] = [];
      let n = 0;
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const out = await fn();
        times.push(performance.now() - t);
        n = Array.isArray(out) ? out.length : 0;
      }
      latency[name] = { p50: Math.round(pct(times, 50)), p95: Math.round(pct(times, 95)), rows: n };
      console.log(`${name.padEnd(40)} p50 ${String(latency[name].p50).padStart(6)} ms   p95 ${String(latency[name].p95).padStart(6)} ms   ${n} rows`);
    }
    result.latencyMs = latency;
  } finally {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const total = Number(process.argv[2] ?? 1_000_000);
  const r = await runAnalyticsBench(total, process.argv[3]);
  console.log(JSON.stringify(r));
}
