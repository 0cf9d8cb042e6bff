/** DKIM selectors: per domain × selector, volume and pass rate, first/last seen, stale and failing ones flagged. */
import { apiUrl, ApiError, getJson, type Table } from '../api.ts';
import { barConfig, chartCard } from '../charts.ts';
import { h, link } from '../dom.ts';
import { analyticsMissing, noAggregateReports, nothingMatches } from '../empty-states.ts';
import { day, num, pct, text } from '../format.ts';
import { COLORS } from '../palette.ts';
import { navigate, rangeParams, routeHref, withParams } from '../route.ts';
import { activeFilters, badge, card, dataTable, rateBar, statusBadge } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';

type Row = Record<string, string | number | boolean | null>;
const TOP = 15;

export const selectorsView: ViewDef = {
  title: 'DKIM selectors',
  filters: 'range',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.aggregate === 0) return noAggregateReports();
    const range = rangeParams(ctx.params);
    const selector = ctx.params.get('selector') ?? undefined;
    const problems = ctx.params.get('problems') === 'true' ? 'true' : undefined;
    let all: Table<Row>;
    try {
      all = await getJson<Table<Row>>('/api/selectors', { ...range, problems, limit: 1000 });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'analytics-unavailable') return analyticsMissing();
      throw err;
    }
    const rows = selector ? all.rows.filter((r) => String(r.selector).toLowerCase() === selector.toLowerCase()) : all.rows;
    // the chart shows every selector (so another can be picked); the table the picked one
    const top = [...all.rows].sort((a, b) => Number(b.messages) - Number(a.messages)).slice(0, TOP);
    const label = (r: Row) => `${r.selector} (${r.signing_domain})`;
    const chart = chartCard(
      'Messages per selector',
      barConfig(top.map(label), [
        { label: 'DKIM pass', data: top.map((r) => Number(r.pass)), color: COLORS.pass },
        { label: 'DKIM not passing', data: top.map((r) => Number(r.messages) - Number(r.pass)), color: COLORS.fail },
      ], { stacked: true, horizontal: true }),
      { summary: top.map((r) => `${label(r)}: ${r.messages} messages, ${pct(r.pass_rate as number)} pass`).join('; '), onPick: (i) => navigate(withParams({ selector: top[i] ? String(top[i].selector) : null })), hint: 'click a bar to show that selector', height: Math.max(160, top.length * 28 + 60), id: 'chart-selectors' },
    );
    const toggle = link(withParams({ problems: problems ? null : 'true' }), problems ? 'Show all selectors' : 'Only stale or failing', { class: 'button small' });
    const table = dataTable<Row>(
      [
        { key: 'selector', label: 'Selector', cell: (r) => h('span', { class: 'mono break' }, String(r.selector)) },
        { key: 'signing_domain', label: 'Signing domain (d=)', cell: (r) => h('span', { class: 'break' }, String(r.signing_domain)) },
        { key: 'messages', label: 'Messages', numeric: true, cell: (r) => num(Number(r.messages)) },
        { key: 'pass_rate', label: 'DKIM pass', cell: (r) => rateBar(r.pass_rate as number, pct(r.pass_rate as number)) },
        { key: 'flags', label: 'Status', cell: (r) => [r.failing ? badge('bad', 'failing', '✗') : null, r.stale ? badge('warn', 'stale', '⏱') : null, !r.failing && !r.stale ? badge('good', 'ok', '✓') : null] },
        { key: 'key_status', label: 'DNS key', cell: (r) => (r.key_status === 'not checked' ? link(routeHref('domains', { domain: String(r.signing_domain) }), 'check') : [statusBadge(String(r.key_status)), r.key_detail ? h('div', { class: 'small' }, String(r.key_detail)) : null]) },
        { key: 'last_seen', label: 'Last seen', cell: (r) => h('span', { class: 'nowrap' }, day(r.last_seen as string)) },
        { key: 'first_seen', label: 'First seen', minor: true, cell: (r) => h('span', { class: 'nowrap' }, day(r.first_seen as string)) },
        { key: 'domain', label: 'Policy domain', minor: true, cell: (r) => h('span', { class: 'break' }, String(r.domain)) },
        { key: 'service', label: 'Service', minor: true },
        { key: 'notes', label: 'Notes', minor: true, className: 'wide-text', cell: (r) => text(r.notes) },
      ],
      rows,
      { rowClass: (r) => (r.failing ? 'row-bad' : r.stale ? 'row-warn' : undefined), caption: 'DKIM selectors', id: 'selectors-table' },
    );
    const chips = activeFilters(selector ? [{ label: `selector ${selector}`, clearHref: withParams({ selector: null }) }] : []);
    return [
      chips,
      all.rows.length > 0 ? h('div', { class: 'grid one' }, chart) : null,
      card(`Selectors (${num(rows.length)})`, rows.length === 0 ? nothingMatches(routeHref('selectors', range)) : table, {
        csv: apiUrl('/api/selectors.csv', { ...range, selector, problems }),
        actions: toggle,
        note: 'Stale: not seen in recent reports (retire the key once its mail is gone). Failing: signatures with this selector mostly fail. DNS key: from the newest check on the Domains page.',
      }),
    ];
  },
};
