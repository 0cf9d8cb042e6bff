/**
 * The Sources view: every sending source per domain, classified (compliant / spf-only / unsigned vendor /
 * forwarded / failing) with the fix; its chart (messages per verdict); and "approve this source".
 */
import { Router } from 'express';
import ipaddr from 'ipaddr.js';
import { byFailing, sourceMatches } from '../../analytics/source-table.ts';
import { VERDICTS } from '../../domain/classify.ts';
import type { AppContext } from '../app-context.ts';
import { AnalyticsMemo } from '../analytics-memo.ts';
import { SOURCE_COLUMNS, sourceRow } from '../analytics-rows.ts';
import { DATE_RANGE, rangeOf, type RangeFilter } from '../filters.ts';
import { badRequest } from '../http-error.ts';
import { domainName, oneOf, parseInput, text } from '../request-schema.ts';
import { addTable, pageOfList } from '../table-response.ts';
import { needAnalytics } from './overview-routes.ts';

interface SourceFilter extends RangeFilter {
  verdict?: string;
  service?: string;
  q?: string;
  sort?: 'messages' | 'failing';
}

const FILTERS = {
  ...DATE_RANGE,
  verdict: oneOf(VERDICTS),
  service: text({ max: 200 }),
  q: text({ max: 200 }),
  sort: oneOf(['messages', 'failing'] as const),
};

const APPROVE_BODY = {
  ip: text({ max: 64 }),
  cidr: text({ max: 64 }),
  baseDomain: domainName(),
  service: text({ max: 200 }),
  note: text({ max: 500 }),
};

export function sourcesRoutes(ctx: AppContext): Router {
  const router = Router();
  // only for an Analytics without sourceTable(): the whole classified list, held briefly
  const memo = new AnalyticsMemo();
  const sources = (range: RangeFilter) => memo.get(`sources ${JSON.stringify(range)}`, () => needAnalytics(ctx).sources(range));

  addTable<SourceFilter>(router, {
    path: '/api/sources',
    name: 'sources',
    filters: FILTERS,
    columns: SOURCE_COLUMNS,
    toFilter: (p) => ({ ...rangeOf(p), ...(p as Omit<SourceFilter, keyof RangeFilter>) }),
    page: async (f, cursor, limit) => {
      const analytics = needAnalytics(ctx);
      if (analytics.sourceTable) {
        if (cursor !== null && !/^\d+$/.test(cursor)) throw badRequest('"cursor" is not a cursor from a previous page');
        const offset = cursor === null ? 0 : Number(cursor);
        const page = await analytics.sourceTable(f, { offset, limit });
        return { rows: page.rows.map(sourceRow), next: offset + limit < page.total ? String(offset + limit) : null, total: page.total };
      }
      const rows = (await sources(rangeOf(f as Record<string, unknown>))).filter((s) => sourceMatches(s, f));
      if (f.sort === 'failing') byFailing(rows, (s) => s.dmarcFail, (s) => s.messages);
      return pageOfList(rows, cursor, limit, sourceRow);
    },
  });

  /** messages per verdict over the filtered sources, all verdicts (the chart a click on which sets `verdict`) */
  router.get('/api/sources/chart', async (req, res) => {
    const p = parseInput(FILTERS, req.query) as SourceFilter;
    const analytics = needAnalytics(ctx);
    const filter = { ...rangeOf(p as Record<string, unknown>), ...p, verdict: undefined };
    if (analytics.sourceVerdicts) return void res.json({ byVerdict: await analytics.sourceVerdicts(filter) });
    const rows = (await sources(rangeOf(p as Record<string, unknown>))).filter((s) => sourceMatches(s, filter));
    const byVerdict = VERDICTS.map((verdict) => ({
      verdict,
      messages: rows.filter((s) => s.verdict === verdict).reduce((n, s) => n + s.messages, 0),
      sources: rows.filter((s) => s.verdict === verdict).length,
    }));
    res.json({ byVerdict });
  });

  router.post('/api/sources/approve', async (req, res) => {
    const body = parseInput(APPROVE_BODY, req.body, 'field');
    if (body.ip !== undefined && !ipaddr.isValid(body.ip)) throw badRequest('"ip" is not an IP address');
    if (body.cidr !== undefined) {
      try {
        ipaddr.parseCIDR(body.cidr);
      } catch {
        throw badRequest('"cidr" is not a CIDR range');
      }
    }
    if (body.ip === undefined && body.cidr === undefined && body.baseDomain === undefined && body.service === undefined) {
      throw badRequest('give one of ip, cidr, baseDomain or service');
    }
    await needAnalytics(ctx).approveSource(body);
    memo.clear();
    res.status(204).end();
  });
  return router;
}
