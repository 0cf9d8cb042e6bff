/**
 * The Domains view: the live DNS check of each domain (DMARC, SPF, DKIM with the selectors seen in reports, MX,
 * MTA-STS, TLS-RPT, BIMI) with findings, severity and fix. GET answers from the checker's TTL cache;
 * POST …/check runs the check again now. Every fresh check is recorded in the database (dns_check_history), so
 * "checked N min ago" survives a restart and GET …/history tells when the records changed.
 */
import { Router } from 'express';
import type { DomainCheck, ReportedPolicy, ReportedPolicySource, ReportSource } from '../../dns/check-types.ts';
import { normalizeDomain } from '../../dns/check-domain.ts';
import { createStoreSelectorSource } from '../../store/analytics-selector-source.ts';
import { createCheckHistoryStore, type CheckPeriod } from '../../store/check-history-store.ts';
import type { AppContext } from '../app-context.ts';
import { badRequest, HttpError } from '../http-error.ts';
import { listReportDomains } from '../queries/list-report-domains.ts';

/** most DKIM selectors / report sources given to one check (each costs lookups) */
const MAX_SELECTORS = 20;
const MAX_SOURCES = 30;

/** most history periods one request returns */
const HISTORY_LIMIT = 50;

export function dnsRoutes(ctx: AppContext): Router {
  const router = Router();
  const history = createCheckHistoryStore(ctx.db.driver);
  const reports = createStoreSelectorSource(ctx.db.driver);
  // concurrent requests share one run of the checker (both see cached: false): record each check once
  const recorded = new WeakSet<DomainCheck>();
  const record = async (check: DomainCheck) => {
    if (recorded.has(check)) return;
    recorded.add(check);
    try {
      await history.save(check);
    } catch (e) {
      ctx.log(`could not record the DNS check of ${check.domain}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  router.get('/api/dns', async (_req, res) => {
    const domains = await listReportDomains(ctx.db.driver);
    const withChecks = await Promise.all(
      domains.map(async (d) => ({ ...d, lastCheck: ctx.checkLog.summary(d.domain) ?? summaryOf(await history.latest(d.domain)) })),
    );
    res.json({ now: ctx.now(), available: ctx.checker !== null, domains: withChecks });
  });

  const domainOf = (raw: string): string => {
    const domain = normalizeDomain(raw);
    if (domain === null) throw badRequest(`not a domain name: ${JSON.stringify(raw.slice(0, 100))}`, 'invalid-domain');
    return domain;
  };

  const run = async (raw: string, force: boolean) => {
    if (!ctx.checker) throw new HttpError(503, 'checks-unavailable', 'DNS checks are not configured on this server');
    const domain = domainOf(raw);
    const { selectors, reportSources, reportedPolicy } = await reportFacts(ctx, reports, domain);
    const result = await ctx.checker.check(domain, { selectors, reportSources, reportedPolicy, force });
    ctx.checkLog.remember(result.check);
    if (!result.cached) await record(result.check);
    return { now: ctx.now(), cached: result.cached, expiresAt: result.expiresAt, check: result.check };
  };

  /** Periods during which the check gave the same result, newest first: when each began, and what changed then. */
  router.get('/api/dns/:domain/history', async (req, res) => {
    const domain = domainOf(String(req.params.domain));
    const periods = await history.history(domain, HISTORY_LIMIT);
    res.json({
      now: ctx.now(),
      domain,
      periods: periods.map((p) => ({ ...counts(p.check), firstCheckedAt: p.firstCheckedAt, lastCheckedAt: p.lastCheckedAt, checks: p.checks, changes: p.changes })),
    });
  });

  router.get('/api/dns/:domain', async (req, res) => {
    res.json(await run(String(req.params.domain), false));
  });
  router.post('/api/dns/:domain/check', async (req, res) => {
    res.json(await run(String(req.params.domain), true));
  });
  return router;
}

function counts(check: DomainCheck): { errors: number; warnings: number } {
  const findings = check.records.flatMap((r) => r.findings);
  return { errors: findings.filter((f) => f.severity === 'error').length, warnings: findings.filter((f) => f.severity === 'warning').length };
}

/** the newest recorded check in the shape of DnsCheckLog.summary (checkedAt: the newest check of the period) */
function summaryOf(period: CheckPeriod | null): { domain: string; checkedAt: string; errors: number; warnings: number } | null {
  if (!period) return null;
  return { domain: period.domain, checkedAt: new Date(period.lastCheckedAt * 1000).toISOString(), ...counts(period.check) };
}

/** the DKIM selectors and source IPs the reports show for the domain (none when analytics is unavailable) */
async function reportFacts(
  ctx: AppContext,
  reports: ReportedPolicySource,
  domain: string,
): Promise<{ selectors: string[]; reportSources: ReportSource[]; reportedPolicy: ReportedPolicy | null }> {
  // the policy the stored reports show, and since when ("p=none for long")
  const reportedPolicy = await reports.reportedPolicyFor(domain);
  if (!ctx.analytics) return { selectors: [], reportSources: [], reportedPolicy };
  const [selectorRows, sourceRows] = await Promise.all([ctx.analytics.selectors({ domain }), ctx.analytics.sources({ domain })]);
  const selectors = [
    ...new Set(selectorRows.filter((s) => s.signingDomain.toLowerCase() === domain).sort((a, b) => b.messages - a.messages).map((s) => s.selector)),
  ].slice(0, MAX_SELECTORS);
  const byIp = new Map<string, ReportSource>();
  for (const s of [...sourceRows].sort((a, b) => b.messages - a.messages)) {
    const seen = byIp.get(s.ip);
    if (seen) seen.spfPassed ||= s.spfAlignedPass > 0;
    else if (byIp.size < MAX_SOURCES) byIp.set(s.ip, { ip: s.ip, spfPassed: s.spfAlignedPass > 0 });
  }
  return { selectors, reportSources: [...byIp.values()], reportedPolicy };
}
