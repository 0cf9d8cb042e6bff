/** GET /healthz (liveness + database round trip, no login) and GET /metrics (Prometheus text, login when required). */
import { Router } from 'express';
import type { AppContext } from '../app-context.ts';
import { pingDatabase } from '../queries/ping-database.ts';

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      await pingDatabase(ctx.db.driver);
      res.json({ status: 'ok', database: 'ok' });
    } catch (err) {
      ctx.log(`health check: database failed: ${(err as Error).message}`);
      res.status(503).json({ status: 'error', database: 'unreachable' });
    }
  });
  return router;
}

export function metricsRoute(ctx: AppContext): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const counts = await ctx.db.reports.counts().catch(() => null);
    res.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render(counts));
  });
  return router;
}
