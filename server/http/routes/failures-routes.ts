/** The Failure reports view: list (the CLI export's row shape), per-day chart and one report in full. */
import { Router } from 'express';
import { failureJson } from '../../export/shapes.ts';
import type { AppContext } from '../app-context.ts';
import { DATE_RANGE, rangeOf } from '../filters.ts';
import { notFound } from '../http-error.ts';
import { idParam } from '../id-param.ts';
import { failuresByDay } from '../queries/failures-by-day.ts';
import { getFailure } from '../queries/get-failure.ts';
import { FAILURE_COLUMNS, FAILURE_LIST_FILTERS, failureListFilter, searchFailures, type FailureListFilter } from '../queries/search-failures.ts';
import { parseInput } from '../request-schema.ts';
import { addTable } from '../table-response.ts';

export function failuresRoutes(ctx: AppContext): Router {
  const router = Router();
  addTable<FailureListFilter>(router, {
    path: '/api/failures',
    name: 'failures',
    filters: FAILURE_LIST_FILTERS,
    columns: FAILURE_COLUMNS,
    toFilter: failureListFilter,
    page: (f, cursor, limit) => searchFailures(ctx.db.driver, f, cursor, limit),
  });
  router.get('/api/failures/chart', async (req, res) => {
    res.json({ byDay: await failuresByDay(ctx.db.driver, rangeOf(parseInput(DATE_RANGE, req.query))) });
  });
  router.get('/api/failures/:id', async (req, res) => {
    const id = idParam(req);
    const f = await getFailure(ctx.db.driver, id);
    if (!f) throw notFound(`no failure report ${id}`);
    res.json({ id: f.id, report: failureJson(f), originalHeaders: f.report.originalHeaders, fields: f.report.fields });
  });
  return router;
}
