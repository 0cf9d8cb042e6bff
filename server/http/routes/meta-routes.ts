/** GET /api/meta: what the client needs to draw its frame — domains for the filter, counts, what is available. */
import { Router } from 'express';
import type { AppContext } from '../app-context.ts';
import { listReportDomains } from '../queries/list-report-domains.ts';

export function metaRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/api/meta', async (_req, res) => {
    const [domains, counts] = await Promise.all([listReportDomains(ctx.db.driver), ctx.db.reports.counts()]);
    res.json({
      domains,
      counts,
      features: { analytics: ctx.analytics !== null, dnsChecks: ctx.checker !== null },
      now: ctx.now(),
    });
  });
  return router;
}
