/**
 * The Reports view: aggregate report search (reporter, report id, domain, dates), the reporter chart, one report
 * with its records (JSON, records CSV in the CLI's `export records` shape) and its XML — reconstructed from the
 * stored report, since the original file is not kept.
 */
import { Router } from 'express';
import { aggregateReportJson, recordJson, recordRows } from '../../export/shapes.ts';
import type { AppContext } from '../app-context.ts';
import { DATE_RANGE, rangeOf } from '../filters.ts';
import { notFound } from '../http-error.ts';
import { idParam, safeFileName } from '../id-param.ts';
import { getReportHead, getReportStream } from '../queries/get-report.ts';
import type { ReportFilter } from '../queries/report-where.ts';
import { reportsByReporter } from '../queries/reports-by-reporter.ts';
import { REPORT_COLUMNS, searchReports } from '../queries/search-reports.ts';
import { aggregateReportXmlFrame, recordXml } from '../report-xml.ts';
import { parseInput, text } from '../request-schema.ts';
import { addTable, streamCsv, streamText, type TableRow } from '../table-response.ts';

/** records shown in a report's detail (the downloads have all of them) */
export const DETAIL_RECORDS = 1000;
const EMPTY_RECORDS = '"records": []\n}';

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

  const stream = async (id: number) => {
    const report = await getReportStream(ctx.db.driver, id);
    if (!report) throw notFound(`no aggregate report ${id}`);
    return report;
  };

  // the detail shows the first records; the totals and the downloads cover all of them (read in pages)
  router.get('/api/reports/:id', async (req, res) => {
    const report = await getReportHead(ctx.db.driver, idParam(req), DETAIL_RECORDS);
    if (!report) throw notFound(`no aggregate report ${idParam(req)}`);
    res.json({
      id: report.id,
      report: aggregateReportJson(report),
      columns: RECORD_COLUMNS,
      records: recordRows(report),
      recordCount: report.recordCount,
      messageCount: report.messageCount,
      dmarcPassMessages: report.dmarcPassMessages,
    });
  });

  router.get('/api/reports/:id/records.csv', async (req, res) => {
    const report = await stream(idParam(req));
    const pages = (async function* () {
      for await (const page of report.records) yield recordRows({ ...report, records: page }) as TableRow[];
    })();
    await streamCsv(res, `dmarc-lens-report-${report.id}-records.csv`, RECORD_COLUMNS, pages);
  });

  router.get('/api/reports/:id/xml', async (req, res) => {
    const report = await stream(idParam(req));
    res.setHeader('Content-Disposition', `attachment; filename="${safeFileName(`${report.header.orgName ?? 'report'}!${report.header.policy.domain ?? ''}!${report.header.begin}!${report.header.end}`)}.xml"`);
    res.type('application/xml; charset=utf-8');
    const { head, tail } = aggregateReportXmlFrame(report);
    await streamText(res, head, (async function* () {
      for await (const page of report.records) yield page.map((rec) => recordXml(rec) + '\n').join('');
    })(), tail);
  });

  router.get('/api/reports/:id/json', async (req, res) => {
    const report = await stream(idParam(req));
    res.setHeader('Content-Disposition', `attachment; filename="dmarc-lens-report-${report.id}.json"`);
    res.type('application/json; charset=utf-8');
    // pretty-printed like JSON.stringify(…, null, 2), with the records written page by page
    const head = JSON.stringify(aggregateReportJson({ ...report, records: [] }), null, 2);
    if (!head.endsWith(EMPTY_RECORDS)) throw new Error('aggregate report JSON: "records" must be the last member');
    let first = true;
    await streamText(res, head.slice(0, -EMPTY_RECORDS.length) + '"records": [', (async function* () {
      for await (const page of report.records) {
        if (page.length === 0) continue;
        const text = page.map((rec) => '\n    ' + JSON.stringify(recordJson(rec), null, 2).replaceAll('\n', '\n    ')).join(',');
        yield (first ? '' : ',') + text;
        first = false;
      }
    })(), () => (first ? ']\n}\n' : '\n  ]\n}\n'));
  });
  return router;
}
