/** Failure reports (ruf): per-day chart, list, and one report with the original message's headers. */
import { apiUrl, getJson, type Table } from '../api.ts';
import { barConfig, chartCard } from '../charts.ts';
import { h, link } from '../dom.ts';
import { noFailureReports, nothingMatches } from '../empty-states.ts';
import { num, text } from '../format.ts';
import { COLORS } from '../palette.ts';
import { navigate, rangeParams, routeHref, withParams } from '../route.ts';
import { activeFilters, card, type Column, dataTable, emptyState } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';
import { loadMore } from './load-more.ts';

type Row = Record<string, string | number | boolean | null>;

const COLUMNS: Column<Row>[] = [
  { key: 'arrival_date_utc', label: 'Arrived (UTC)', cell: (r) => text(r.arrival_date_utc).replace('T', ' ').replace('Z', '') },
  { key: 'reported_domain', label: 'Domain' },
  { key: 'source_ip_address', label: 'Source IP', cell: (r) => h('span', { class: 'mono' }, text(r.source_ip_address)) },
  { key: 'auth_failure', label: 'Failed', cell: (r) => text(r.auth_failure).replace(/\|/g, ', ') },
  { key: 'sample_from', label: 'From', minor: true },
  { key: 'sample_subject', label: 'Subject', minor: true },
  { key: 'reporter_org', label: 'Reporter', minor: true, cell: (r) => text(r.reporter_org ?? r.reporter_email) },
];

export const failuresView: ViewDef = {
  title: 'Failure reports',
  filters: 'range',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.failure === 0) return noFailureReports();
    const range = rangeParams(ctx.params);
    const [table, chart] = await Promise.all([
      getJson<Table<Row>>('/api/failures', { ...range, limit: 100 }),
      getJson<{ byDay: { day: string; reports: number }[] }>('/api/failures/chart', range),
    ]);
    const days = chart.byDay;
    const chartEl = chartCard(
      'Failure reports per day',
      barConfig(days.map((d) => d.day), [{ label: 'failure reports', data: days.map((d) => d.reports), color: COLORS.fail }]),
      { summary: `${num(days.reduce((n, d) => n + d.reports, 0))} failure reports on ${days.length} day(s)`, onPick: (i) => navigate(withParams({ from: days[i]?.day ?? null, to: days[i]?.day ?? null })), hint: 'click a bar to show that day', height: 200, id: 'chart-failures' },
    );
    const open = (r: Row) => navigate(routeHref('failure', { id: String(r.id) }));
    const tableEl = dataTable<Row>(COLUMNS, table.rows, { onRowClick: open, caption: 'failure reports', id: 'failures-table' });
    const tbody = tableEl.querySelector('tbody')!;
    const more = loadMore<Row>('/api/failures', { ...range, limit: 100 }, table.next, (rows) => {
      dataTable<Row>(COLUMNS, rows, { onRowClick: open }).querySelectorAll('tbody tr').forEach((tr) => tbody.appendChild(tr));
    });
    return [
      activeFilters(range.from || range.to ? [{ label: `${range.from ?? '…'} → ${range.to ?? '…'}`, clearHref: withParams({ from: null, to: null }) }] : []),
      days.length > 0 ? h('div', { class: 'grid one' }, chartEl) : null,
      card(`Failure reports (${num(table.total ?? table.rows.length)})`, table.rows.length === 0 ? nothingMatches(routeHref('failures')) : [tableEl, more], { csv: apiUrl('/api/failures.csv', range) }),
    ];
  },
};

interface FailureAnswer {
  id: number;
  report: Record<string, unknown> & { sample: Record<string, string | null>; reporter: Record<string, string | null>; source: { ip_address: string | null }; source_file: { input: string; member: string | null } };
  originalHeaders: string | null;
  fields: Record<string, string[]>;
}

export const failureDetailView: ViewDef = {
  title: 'Failure report',
  filters: 'none',
  async render(ctx: ViewContext) {
    const id = ctx.params.get('id');
    if (!id || !/^\d+$/.test(id)) return emptyState('No failure report chosen.', link(routeHref('failures'), '← back'));
    const a = await getJson<FailureAnswer>(`/api/failures/${id}`);
    const r = a.report;
    const dl = (...pairs: [string, unknown][]) => h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, text(Array.isArray(v) ? v.join(', ') : v))]));
    return [
      h('p', null, link(routeHref('failures'), '← all failure reports')),
      h(
        'div',
        { class: 'grid two' },
        card('Failure', dl(['Feedback type', r.feedback_type], ['Failed', r.auth_failure], ['Arrived (UTC)', r.arrival_date_utc], ['Source IP', r.source.ip_address], ['Reported domain', r.reported_domain], ['Delivery result', r.delivery_result], ['DKIM', `${text(r.dkim_domain)} / ${text(r.dkim_selector)}`], ['SPF DNS', r.spf_dns], ['Authentication-Results', r.authentication_results])),
        card('Message and reporter', dl(['From', r.sample.from], ['To', r.sample.to], ['Subject', r.sample.subject], ['Message-ID', r.sample.message_id], ['Date', r.sample.date], ['Reporter', r.reporter.org ?? r.reporter.email], ['User agent', r.reporter.user_agent], ['Reporting MTA', r.reporter.reporting_mta], ['Source file', r.source_file.input])),
      ),
      card('Original message headers', a.originalHeaders ? h('pre', { class: 'headers' }, a.originalHeaders) : h('p', { class: 'muted' }, 'not included (redacted or not sent)')),
      card('All feedback-report fields', h('dl', { class: 'facts' }, Object.entries(a.fields).map(([k, v]) => [h('dt', null, k), h('dd', null, v.join(' | '))]))),
    ];
  },
};
