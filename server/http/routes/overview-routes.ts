/**
 * The Overview view's tables and the management summary: per-domain figures, the daily timeline, the readiness
 * verdict, and the monthly summary CSV (per domain per month: volume, pass rate, failing sources).
 */
import { Router } from 'express';
import type { Analytics } from '../../analytics/analytics-types.ts';
import type { AppContext } from '../app-context.ts';
import { DAY_COLUMNS, dayRow, DOMAIN_COLUMNS, domainRow, MONTH_COLUMNS, monthRow } from '../analytics-rows.ts';
import { DATE_RANGE, rangeOf, type RangeFilter } from '../filters.ts';
import { HttpError } from '../http-error.ts';
import { integer, parseInput } from '../request-schema.ts';
import { addTable, pageOfList } from '../table-response.ts';

export function needAnalytics(ctx: AppContext): Analytics {
  if (!ctx.analytics) throw new HttpError(503, 'analytics-unavailable', 'the analytics module is not available in this build');
  return ctx.analytics;
}

export function overviewRoutes(ctx: AppContext): Router {
  const router = Router();
  addTable<RangeFilter>(router, {
    path: '/api/overview/domains',
    name: 'domains',
    filters: DATE_RANGE,
    columns: DOMAIN_COLUMNS,
    toFilter: rangeOf,
    page: async (f, cursor, limit) => {
      // largest first: the domains that matter most lead the table
      const rows = (await needAnalytics(ctx).overview(f)).sort((a, b) => b.messages - a.messages || (a.domain < b.domain ? -1 : 1));
      return pageOfList(rows, cursor, limit, domainRow);
    },
  });
  addTable<RangeFilter>(router, {
    path: '/api/overview/timeline',
    name: 'timeline',
    filters: DATE_RANGE,
    columns: DAY_COLUMNS,
    toFilter: rangeOf,
    defaultLimit: 1000,
    page: async (f, cursor, limit) => pageOfList(await needAnalytics(ctx).timeline(f), cursor, limit, dayRow),
  });
  addTable<RangeFilter>(router, {
    path: '/api/summary',
    name: 'monthly-summary',
    filters: DATE_RANGE,
    columns: MONTH_COLUMNS,
    toFilter: rangeOf,
    defaultLimit: 1000,
    page: async (f, cursor, limit) => pageOfList(await needAnalytics(ctx).monthlySummary(f), cursor, limit, monthRow),
  });
  router.get('/api/overview/readiness', async (req, res) => {
    const p = parseInput({ ...DATE_RANGE, days: integer({ min: 1, max: 366 }) }, req.query);
    const range = rangeOf(p);
    res.json({ readiness: await needAnalytics(ctx).readiness({ ...range, ...(p.days !== undefined ? { days: p.days } : {}) }) });
  });
  return router;
}
