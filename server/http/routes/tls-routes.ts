/** The TLS reports view: list (one row per policy), sessions-per-domain chart and one report in full. */
import { Router } from 'express';
import { tlsJson } from '../../export/shapes.ts';
import type { AppContext } from '../app-context.ts';
import { DATE_RANGE, rangeOf } from '../filters.ts';
import { notFound } from '../http-error.ts';
import { idParam } from '../id-param.ts';
import { getTls } from '../queries/get-tls.ts';
import { searchTls, TLS_COLUMNS, TLS_LIST_FILTERS, tlsListFilter, type TlsListFilter } from '../queries/search-tls.ts';
import { tlsByDomain } from '../queries/tls-by-domain.ts';
import { parseInput } from '../request-schema.ts';
import { addTable } from '../table-response.ts';

export function tlsRoutes(ctx: AppContext): Router {
  const router = Router();
  addTable<TlsListFilter>(router, {
    path: '/api/tls',
    name: 'tls',
    filters: TLS_LIST_FILTERS,
    columns: TLS_COLUMNS,
    toFilter: tlsListFilter,
    page: (f, cursor, limit) => searchTls(ctx.db.driver, f, cursor, limit),
  });
  router.get('/api/tls/chart', async (req, res) => {
    res.json({ byDomain: await tlsByDomain(ctx.db.driver, rangeOf(parseInput(DATE_RANGE, req.query))) });
  });
  router.get('/api/tls/:id', async (req, res) => {
    const id = idParam(req);
    const t = await getTls(ctx.db.driver, id);
    if (!t) throw notFound(`no TLS report ${id}`);
    res.json({ id: t.id, report: tlsJson(t) });
  });
  return router;
}
