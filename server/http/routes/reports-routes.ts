/**
 * The Reports view: aggregate report search (reporter, report id, domain, dates), the reporter chart, one report
 * with its records (JSON, records CSV in the CLI's `export records` shape) and its XML — reconstructed from the
 * stored report, since the original file is not kept.
 */
import { Router } from 'express';
import { aggregateReportJson, recordRows } from '../../export/shapes.ts';
import type { AppContext } from '../app-context.ts';
import { DATE_RANGE, rangeOf } from '../filters.ts';
import { notFound } from '../http-error.ts';
import { idParam, safeFileName } from '../id-param.ts';
import { getReport } from '../queries/get-report.ts';
import type { ReportFilter } from '../queries/report-where.ts';
import { reportsByReporter } from '../queries/reports-by-reporter.ts';
import { REPORT_COLUMNS, searchReports } from '../queries/search-reports.ts';
import { aggregateReportXml } from '../report-xml.ts';
import { parseInput, text } from '../request-schema.ts';
import { addTable, streamCsv, type TableRow } from '../table-response.ts';

const FILTERS = { ...DATE_RANGE, q: text({ max: 200 }), org: text({ max: 200 }) };

/** the record columns of `dmarc-lens export records` */
export const RECORD_COLUMNS = [
  'xml_schema', 'org_name', 'org_email', 'org_extra_contact_info', 'report_id', 'begin_date', 'end_date', 'errors', 'domain',
  'adkim', 'aspf', 'p', 'sp', 'np', 'pct', 'fo', 'testing', 'source_ip_address', 'count', 'spf_aligned', 'dkim_aligned',
  'dmarc_aligned', 'disposition', 'policy_override_reasons', 'policy_override_comments', 'envelope_from', 'header_from',
  'envelope_to', 'dkim_domains', 'dkim_selectors', 'dkim_results', 'spf_domains', 'spf_scopes', 'spf_results', 'problems',
] as const;

function filterOf(p: Record<string, unknown>): ReportFilter {
  return { ...rangeOf(p), ...(typeof p.q === 'string' ? { q: p.q } : {}), ...(typeof p.org === 'string' ? { org: p.org } : {}) };
}

export function reportsRoutes(ctx: AppContext): Router {
  const router = Router();
  addTable<ReportFilter>(router, {
    path: '/api/reports',
    name: 'reports',
    filters: FILTERS,
    columns: REPORT_COLUMNS,
    toFilter: filterOf,
    page: (f, cursor, limit) => searchReports(ctx.db.driver, f, cursor, limit),
  });

  router.get('/api/reports/chart', async (req, res) => {
    res.json({ byReporter: await reportsByReporter(ctx.db.driver, filterOf(parseInput(FILTERS, req.query))) });
  });

  const load = async (id: number) => {
    const report = await getReport(ctx.db.driver, id);
    if (!report) throw notFound(`no aggregate report ${id}`);
    return report;
  };

  router.get('/api/reports/:id', async (req, res) => {
    const report = await load(idParam(req));
    res.json({ id: report.id, report: aggregateReportJson(report), columns: RECORD_COLUMNS, records: recordRows(report) });
  });

  router.get('/api/reports/:id/records.csv', async (req, res) => {
    const report = await load(idParam(req));
    const rows = recordRows(report) as TableRow[];
    await streamCsv(res, `dmarc-lens-report-${report.id}-records.csv`, RECORD_COLUMNS, (async function* () {
      yield rows;
    })());
  });

  router.get('/api/reports/:id/xml', async (req, res) => {
    const report = await load(idParam(req));
    res.setHeader('Content-Disposition', `attachment; filename="${safeFileName(`${report.header.orgName ?? 'report'}!${report.header.policy.domain ?? ''}!${report.header.begin}!${report.header.end}`)}.xml"`);
    res.type('application/xml; charset=utf-8').send(aggregateReportXml(report));
  });

  router.get('/api/reports/:id/json', async (req, res) => {
    const report = await load(idParam(req));
    res.setHeader('Content-Disposition', `attachment; filename="dmarc-lens-report-${report.id}.json"`);
    res.type('application/json; charset=utf-8').send(JSON.stringify(aggregateReportJson(report), null, 2) + '\n');
  });
  return router;
}
