/**
 * The Domains view: the live DNS check of each domain (DMARC, SPF, DKIM with the selectors seen in reports, MX,
 * MTA-STS, TLS-RPT, BIMI) with findings, severity and fix. GET answers from the checker's TTL cache;
 * POST …/check runs the check again now.
 */
import { Router } from 'express';
import type { ReportSource } from '../../dns/check-types.ts';
import { normalizeDomain } from '../../dns/check-domain.ts';
import type { AppContext } from '../app-context.ts';
import { badRequest, HttpError } from '../http-error.ts';
import { listReportDomains } from '../queries/list-report-domains.ts';

/** most DKIM selectors / report sources given to one check (each costs lookups) */
const MAX_SELECTORS = 20;
const MAX_SOURCES = 30;

export function dnsRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/dns', async (_req, res) => {
    const domains = await listReportDomains(ctx.db.driver);
    res.json({
      now: ctx.now(),
      available: ctx.checker !== null,
      domains: domains.map((d) => ({ ...d, lastCheck: ctx.checkLog.summary(d.domain) })),
    });
  });

  const run = async (raw: string, force: boolean) => {
    if (!ctx.checker) throw new HttpError(503, 'checks-unavailable', 'DNS checks are not configured on this server');
    const domain = normalizeDomain(raw);
    if (domain === null) throw badRequest(`not a domain name: ${JSON.stringify(raw.slice(0, 100))}`, 'invalid-domain');
    const { selectors, reportSources } = await reportFacts(ctx, domain);
    const result = await ctx.checker.check(domain, { selectors, reportSources, force });
    ctx.checkLog.remember(result.check);
    return { now: ctx.now(), cached: result.cached, expiresAt: result.expiresAt, check: result.check };
  };

  router.get('/api/dns/:domain', async (req, res) => {
    res.json(await run(String(req.params.domain), false));
  });
  router.post('/api/dns/:domain/check', async (req, res) => {
    res.json(await run(String(req.params.domain), true));
  });
  return router;
}

/** the DKIM selectors and source IPs the reports show for the domain (none when analytics is unavailable) */
async function reportFacts(ctx: AppContext, domain: string): Promise<{ selectors: string[]; reportSources: ReportSource[] }> {
  if (!ctx.analytics) return { selectors: [], reportSources: [] };
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
  return { selectors, reportSources: [...byIp.values()] };
}
