/** Reports: search aggregate reports (reporter, report id, domain, dates), the reporter chart, and the list. */
import { apiUrl, getJson, type Table } from '../api.ts';
import { barConfig, chartCard } from '../charts.ts';
import { h } from '../dom.ts';
import { noAggregateReports, nothingMatches } from '../empty-states.ts';
import { num, pct, period, text } from '../format.ts';
import { COLORS } from '../palette.ts';
import { navigate, rangeParams, routeHref, withParams } from '../route.ts';
import { activeFilters, card, dataTable, rateBar, type Column } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';
import { loadMore } from './load-more.ts';

type Row = Record<string, string | number | boolean | null>;

const COLUMNS: Column<Row>[] = [
  { key: 'period', label: 'Period (UTC)', cell: (r) => h('span', { class: 'nowrap' }, period(r.begin_date as string, r.end_date as string)) },
  { key: 'org_name', label: 'Reporter' },
  { key: 'report_id', label: 'Report id', minor: true, cell: (r) => h('span', { class: 'mono small clip', attrs: { title: text(r.report_id) } }, text(r.report_id)) },
  { key: 'domain', label: 'Domain' },
  { key: 'p', label: 'Policy', minor: true, cell: (r) => (r.p ? `p=${r.p}` : '—') },
  { key: 'messages', label: 'Messages', numeric: true, cell: (r) => num(Number(r.messages)) },
  { key: 'pass_rate', label: 'DMARC pass', cell: (r) => rateBar(r.pass_rate as number | null, pct(r.pass_rate as number | null)) },
];

export const reportsView: ViewDef = {
  title: 'Reports',
  filters: 'range',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.aggregate === 0) return noAggregateReports();
    const range = rangeParams(ctx.params);
    const q = ctx.params.get('q') ?? undefined;
    const org = ctx.params.get('org') ?? undefined;
    const filter = { ...range, q, org };
    const [table, chart] = await Promise.all([
      getJson<Table<Row>>('/api/reports', { ...filter, limit: 100 }),
      getJson<{ byReporter: { org: string | null; reports: number; messages: number }[] }>('/api/reports/chart', { ...range, q }),
    ]);
    const reporters = chart.byReporter;
    const chartEl = chartCard(
      'Messages by reporter',
      barConfig(reporters.map((r) => r.org ?? '(no name)'), [{ label: 'messages', data: reporters.map((r) => r.messages), color: COLORS.pass }], { horizontal: true }),
      { summary: reporters.map((r) => `${r.org ?? '(no name)'}: ${r.messages}`).join(', '), onPick: (i) => navigate(withParams({ org: reporters[i]?.org ?? null })), hint: 'click a bar to list that reporter’s reports', height: Math.max(160, reporters.length * 26 + 50), id: 'chart-reporters' },
    );
    const search = h(
      'form',
      { class: 'inline-search', attrs: { role: 'search' }, on: { submit: (e) => { e.preventDefault(); navigate(withParams({ q: (e.target as HTMLFormElement).querySelector('input')!.value.trim() || null })); } } },
      h('label', { attrs: { for: 'report-q' }, class: 'sr-only' }, 'Search reports'),
      h('input', { attrs: { id: 'report-q', type: 'search', placeholder: 'reporter, report id, domain', value: q ?? '' } }),
      h('button', { class: 'button small', attrs: { type: 'submit' } }, 'Search'),
    );
    const tableEl = dataTable<Row>(COLUMNS, table.rows, { onRowClick: (r) => navigate(routeHref('report', { id: String(r.id) })), caption: 'aggregate reports', id: 'reports-table' });
    const tbody = tableEl.querySelector('tbody')!;
    const more = loadMore<Row>('/api/reports', { ...filter, limit: 100 }, table.next, (rows) => {
      const extra = dataTable<Row>(COLUMNS, rows, { onRowClick: (r) => navigate(routeHref('report', { id: String(r.id) })) }).querySelectorAll('tbody tr');
      extra.forEach((tr) => tbody.appendChild(tr));
    });
    const chips = activeFilters([
      ...(org ? [{ label: `reporter ${org}`, clearHref: withParams({ org: null }) }] : []),
      ...(q ? [{ label: `search: ${q}`, clearHref: withParams({ q: null }) }] : []),
    ]);
    return [
      chips,
      reporters.length > 0 ? h('div', { class: 'grid one' }, chartEl) : null,
      card(`Aggregate reports (${num(table.total ?? table.rows.length)})`, table.rows.length === 0 ? nothingMatches(routeHref('reports')) : [tableEl, more], {
        csv: apiUrl('/api/reports.csv', filter),
        actions: search,
      }),
    ];
  },
};
