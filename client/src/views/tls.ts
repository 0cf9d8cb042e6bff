/** SMTP TLS reports: sessions per policy domain, the list (one row per policy) and one report in full. */
import { apiUrl, getJson, type Table } from '../api.ts';
import { barConfig, chartCard } from '../charts.ts';
import { h, link } from '../dom.ts';
import { noTlsReports, nothingMatches } from '../empty-states.ts';
import { num, period, text } from '../format.ts';
import { COLORS } from '../palette.ts';
import { navigate, rangeParams, routeHref, withParams } from '../route.ts';
import { activeFilters, badge, card, type Column, dataTable, emptyState } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';
import { loadMore } from './load-more.ts';

type Row = Record<string, string | number | boolean | null>;

const COLUMNS: Column<Row>[] = [
  { key: 'period', label: 'Period', cell: (r) => period(r.begin_date as string, r.end_date as string) },
  { key: 'organization_name', label: 'Reporter' },
  { key: 'policy_domain', label: 'Policy domain' },
  { key: 'policy_type', label: 'Policy', minor: true },
  { key: 'successful_session_count', label: 'Successful', numeric: true, cell: (r) => num(Number(r.successful_session_count)) },
  { key: 'failed_session_count', label: 'Failed', numeric: true, cell: (r) => (Number(r.failed_session_count) > 0 ? badge('bad', num(Number(r.failed_session_count)), '✗') : '0') },
  { key: 'failure_result_types', label: 'Failure types', minor: true, cell: (r) => text(r.failure_result_types).replace(/\|/g, ', ') },
];

export const tlsView: ViewDef = {
  title: 'TLS reports',
  filters: 'range',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.tls === 0) return noTlsReports();
    const range = rangeParams(ctx.params);
    const [table, chart] = await Promise.all([
      getJson<Table<Row>>('/api/tls', { ...range, limit: 100 }),
      getJson<{ byDomain: { domain: string | null; successful: number; failed: number }[] }>('/api/tls/chart', range),
    ]);
    const d = chart.byDomain;
    const chartEl = chartCard(
      'TLS sessions per policy domain',
      barConfig(d.map((x) => x.domain || '(none)'), [
        { label: 'successful', data: d.map((x) => x.successful), color: COLORS.pass },
        { label: 'failed', data: d.map((x) => x.failed), color: COLORS.fail },
      ], { stacked: true, horizontal: true }),
      { summary: d.map((x) => `${x.domain}: ${x.successful} successful, ${x.failed} failed`).join('; '), onPick: (i) => navigate(withParams({ domain: d[i]?.domain ?? null })), hint: 'click a bar to show that domain', height: Math.max(160, d.length * 28 + 60), id: 'chart-tls' },
    );
    const open = (r: Row) => navigate(routeHref('tls-report', { id: String(r.id) }));
    const tableEl = dataTable<Row>(COLUMNS, table.rows, { onRowClick: open, rowClass: (r) => (Number(r.failed_session_count) > 0 ? 'row-bad' : undefined), caption: 'TLS reports', id: 'tls-table' });
    const tbody = tableEl.querySelector('tbody')!;
    const more = loadMore<Row>('/api/tls', { ...range, limit: 100 }, table.next, (rows) => {
      dataTable<Row>(COLUMNS, rows, { onRowClick: open }).querySelectorAll('tbody tr').forEach((tr) => tbody.appendChild(tr));
    });
    return [
      activeFilters(range.domain ? [{ label: `domain ${range.domain}`, clearHref: withParams({ domain: null }) }] : []),
      d.length > 0 ? h('div', { class: 'grid one' }, chartEl) : null,
      card(`TLS report policies (${num(table.rows.length)})`, table.rows.length === 0 ? nothingMatches(routeHref('tls')) : [tableEl, more], { csv: apiUrl('/api/tls.csv', range) }),
    ];
  },
};

interface TlsAnswer {
  id: number;
  report: {
    organization_name: string;
    begin_date: string;
    end_date: string;
    contact_info: string | null;
    report_id: string;
    policies: {
      policy_domain: string;
      policy_type: string;
      policy_strings: string[];
      mx_host_patterns: string[];
      successful_session_count: number;
      failed_session_count: number;
      failure_details: Record<string, string | number | null>[];
    }[];
  };
}

export const tlsDetailView: ViewDef = {
  title: 'TLS report',
  filters: 'none',
  async render(ctx: ViewContext) {
    const id = ctx.params.get('id');
    if (!id || !/^\d+$/.test(id)) return emptyState('No TLS report chosen.', link(routeHref('tls'), '← back'));
    const a = await getJson<TlsAnswer>(`/api/tls/${id}`);
    const r = a.report;
    return [
      h('p', null, link(routeHref('tls'), '← all TLS reports')),
      card('TLS report', h('dl', { class: 'facts' }, [['Reporter', r.organization_name], ['Report id', r.report_id], ['Contact', r.contact_info], ['Period (UTC)', `${r.begin_date} → ${r.end_date}`]].map(([k, v]) => [h('dt', null, String(k)), h('dd', null, text(v))]))),
      r.policies.map((p) =>
        card(
          `${p.policy_domain} — ${p.policy_type}`,
          [
            h('p', null, `${num(p.successful_session_count)} successful, ${num(p.failed_session_count)} failed session(s). MX: ${p.mx_host_patterns.join(', ') || '—'}`),
            p.policy_strings.length > 0 ? h('pre', { class: 'record-value' }, p.policy_strings.join('\n')) : null,
            p.failure_details.length > 0
              ? dataTable(
                  [
                    { key: 'result_type', label: 'Result' },
                    { key: 'failed_session_count', label: 'Sessions', numeric: true },
                    { key: 'sending_mta_ip', label: 'Sending MTA' },
                    { key: 'receiving_mx_hostname', label: 'Receiving MX' },
                    { key: 'receiving_ip', label: 'Receiving IP', minor: true },
                    { key: 'failure_reason_code', label: 'Reason', minor: true },
                    { key: 'additional_information', label: 'Info', minor: true },
                  ],
                  p.failure_details,
                )
              : null,
          ],
        ),
      ),
    ];
  },
};
