/**
 * The Quarantine view: rejected inputs with reason, origin and time; the per-reason chart; download of the kept
 * bytes (always as an attachment, never rendered); and "reprocess" (run the input through the parsers again).
 */
import { Router } from 'express';
import { reprocessQuarantine } from '../../commands/reprocess.ts';
import type { AppContext } from '../app-context.ts';
import { day, flag, parseInput, text } from '../request-schema.ts';
import { notFound } from '../http-error.ts';
import { idParam } from '../id-param.ts';
import type { QuarantineFilter } from '../queries/quarantine-where.ts';
import { quarantineByReason } from '../queries/quarantine-by-reason.ts';
import { QUARANTINE_COLUMNS, searchQuarantine } from '../queries/search-quarantine.ts';
import { rangeOf } from '../filters.ts';
import { addTable } from '../table-response.ts';

const FILTERS = { from: day(), to: day({ end: true }), reason: text({ max: 40, pattern: /^[a-z-]+$/, hint: 'must be a reason code' }), unresolved: flag() };

function filterOf(p: Record<string, unknown>): QuarantineFilter {
  return {
    ...rangeOf(p),
    ...(typeof p.reason === 'string' ? { reason: p.reason } : {}),
    ...(p.unresolved === true ? { unresolved: true } : {}),
  };
}

export function quarantineRoutes(ctx: AppContext): Router {
  const router = Router();
  addTable<QuarantineFilter>(router, {
    path: '/api/quarantine',
    name: 'quarantine',
    filters: FILTERS,
    columns: QUARANTINE_COLUMNS,
    toFilter: filterOf,
    page: (f, cursor, limit) => searchQuarantine(ctx.db.driver, f, cursor, limit),
  });
  router.get('/api/quarantine/chart', async (req, res) => {
    const f = filterOf(parseInput(FILTERS, req.query));
    res.json({ byReason: await quarantineByReason(ctx.db.driver, { ...f, reason: undefined }) });
  });
  router.get('/api/quarantine/:id/bytes', async (req, res) => {
    const id = idParam(req);
    const bytes = await ctx.db.reports.getQuarantineBytes(id);
    if (!bytes) throw notFound(`no quarantined input ${id}`);
    res.setHeader('Content-Disposition', `attachment; filename="quarantine-${id}.bin"`);
    res.type('application/octet-stream').send(bytes);
  });
  router.post('/api/quarantine/:id/reprocess', async (req, res) => {
    const id = idParam(req);
    if (!(await ctx.db.reports.getQuarantineBytes(id))) throw notFound(`no quarantined input ${id}`);
    const r = await reprocessQuarantine(ctx.db.reports, ctx.limits, { ids: [id], redactFailures: ctx.redactFailures });
    res.json({ resolved: r.resolved, stillQuarantined: r.stillQuarantined, skippedTruncated: r.skippedTruncated, summary: r.summary });
  });
  return router;
}
