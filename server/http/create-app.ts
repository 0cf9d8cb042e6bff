/**
 * createApp(deps): the Express application of `dmarc-lens serve` — the JSON/CSV API, /healthz, /metrics and the
 * bundled client — without listening. One router per resource under routes/.
 */
import express, { type Express } from 'express';
import { authenticate, requireLogin } from './auth/authenticate.ts';
import { csrfGuard } from './auth/csrf-guard.ts';
import { hostGuard } from './auth/host-guard.ts';
import { resolveContext, type AppDeps } from './app-context.ts';
import { errorHandler, sendError } from './http-error.ts';
import { dnsRoutes } from './routes/dns-routes.ts';
import { failuresRoutes } from './routes/failures-routes.ts';
import { healthRoutes, metricsRoute } from './routes/health-routes.ts';
import { metaRoutes } from './routes/meta-routes.ts';
import { overviewRoutes } from './routes/overview-routes.ts';
import { quarantineRoutes } from './routes/quarantine-routes.ts';
import { reportsRoutes } from './routes/reports-routes.ts';
import { selectorsRoutes } from './routes/selectors-routes.ts';
import { sessionRoutes } from './routes/session-routes.ts';
import { sourcesRoutes } from './routes/sources-routes.ts';
import { staticRoutes } from './routes/static-routes.ts';
import { tlsRoutes } from './routes/tls-routes.ts';
import { securityHeaders } from './security-headers.ts';

export type { AppDeps } from './app-context.ts';

export function createApp(deps: AppDeps): Express {
  const ctx = resolveContext(deps);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.set('etag', false);

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path.startsWith('/api/') ? 'unmatched' : 'static';
      ctx.metrics.observeRequest(route, req.method, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  });
  app.use(securityHeaders());
  app.use(hostGuard(ctx.auth.required, deps.allowedHosts ?? []));
  app.use(healthRoutes(ctx));
  app.use(staticRoutes(ctx));

  const api = express.Router();
  // everything below is the API (and /metrics); other paths leave this router
  api.use((req, _res, next) => (req.path.startsWith('/api/') || req.path === '/metrics' ? next() : next('router')));
  api.use(authenticate(ctx.db.driver, ctx.auth, ctx.now));
  api.use(express.json({ limit: '64kb' }));
  api.use(csrfGuard());
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.use(sessionRoutes(ctx));
  api.use(requireLogin(ctx.auth));
  api.use(metricsRoute(ctx));
  for (const routes of [metaRoutes, overviewRoutes, sourcesRoutes, selectorsRoutes, dnsRoutes, reportsRoutes, failuresRoutes, tlsRoutes, quarantineRoutes]) {
    api.use(routes(ctx));
  }
  api.use('/api', (_req, res) => sendError(res, 404, 'not-found', 'no such API endpoint'));
  app.use(api);
  app.use((_req, res) => sendError(res, 404, 'not-found', 'not found'));
  app.use(errorHandler(ctx.log));
  return app;
}
