/**
 * The DKIM selectors view: per domain × selector, volume, pass rate, first/last seen, stale / failing flags and
 * the key's DNS status from the newest check of the signing domain (Domains view), if one ran.
 */
import { Router } from 'express';
import type { AppContext } from '../app-context.ts';
import { SELECTOR_COLUMNS, selectorRow } from '../analytics-rows.ts';
import { DATE_RANGE, rangeOf, type RangeFilter } from '../filters.ts';
import { flag, text } from '../request-schema.ts';
import { addTable, pageOfList } from '../table-response.ts';
import { needAnalytics } from './overview-routes.ts';

interface SelectorFilter extends RangeFilter {
  selector?: string;
  problems?: boolean;
}

export function selectorsRoutes(ctx: AppContext): Router {
  const router = Router();
  addTable<SelectorFilter>(router, {
    path: '/api/selectors',
    name: 'selectors',
    filters: { ...DATE_RANGE, selector: text({ max: 253 }), problems: flag() },
    columns: SELECTOR_COLUMNS,
    toFilter: (p) => ({
      ...rangeOf(p),
      ...(typeof p.selector === 'string' ? { selector: p.selector } : {}),
      ...(p.problems === true ? { problems: true } : {}),
    }),
    defaultLimit: 500,
    page: async (f, cursor, limit) => {
      const rows = (await needAnalytics(ctx).selectors(rangeOf(f as Record<string, unknown>)))
        .filter((s) => f.selector === undefined || s.selector.toLowerCase() === f.selector.toLowerCase())
        .filter((s) => !f.problems || s.stale || s.failing)
        // largest first: the selectors that sign most mail lead
        .sort((a, b) => b.messages - a.messages || a.signingDomain.localeCompare(b.signingDomain) || a.selector.localeCompare(b.selector));
      return pageOfList(rows, cursor, limit, (s) => selectorRow(s, ctx.checkLog.keyStatus(s.signingDomain, s.selector)));
    },
  });
  return router;
}
