/** Quarantine: inputs that could not be read — reason, origin, time — with download and "reprocess". */
import { apiUrl, getJson, postJson, type Table } from '../api.ts';
import { barConfig, chartCard } from '../charts.ts';
import { h, link } from '../dom.ts';
import { emptyQuarantine, nothingMatches } from '../empty-states.ts';
import { bytes, num, text } from '../format.ts';
import { COLORS } from '../palette.ts';
import { navigate, routeHref, withParams } from '../route.ts';
import { activeFilters, badge, card, dataTable, type Column } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';
import { loadMore } from './load-more.ts';

type Row = Record<string, string | number | boolean | null>;

export const quarantineView: ViewDef = {
  title: 'Quarantine',
  filters: 'dates',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.quarantine === 0) return emptyQuarantine();
    const from = ctx.params.get('from') ?? undefined;
    const to = ctx.params.get('to') ?? undefined;
    const reason = ctx.params.get('reason') ?? undefined;
    const unresolved = ctx.params.get('unresolved') === 'true' ? 'true' : undefined;
    const filter = { from, to, reason, unresolved };
    const [table, chart] = await Promise.all([
      getJson<Table<Row>>('/api/quarantine', { ...filter, limit: 100 }),
      getJson<{ byReason: { reason: string; inputs: number }[] }>('/api/quarantine/chart', { from, to, unresolved }),
    ]);
    const reasons = chart.byReason;
    const chartEl = chartCard(
      'Quarantined inputs by reason',
      barConfig(reasons.map((r) => r.reason), [{ label: 'inputs', data: reasons.map((r) => r.inputs), color: COLORS.spf }], { horizontal: true }),
      { summary: reasons.map((r) => `${r.reason}: ${r.inputs}`).join(', '), onPick: (i) => navigate(withParams({ reason: reasons[i]?.reason ?? null })), hint: 'click a bar to list those inputs', height: Math.max(140, reasons.length * 28 + 50), id: 'chart-reasons' },
    );
    const columns: Column<Row>[] = [
      { key: 'received_at', label: 'Received (UTC)', cell: (r) => text(r.received_at).replace('T', ' ').replace('Z', '') },
      { key: 'reason', label: 'Reason', cell: (r) => badge('warn', String(r.reason)) },
      { key: 'detail', label: 'Detail' },
      { key: 'input', label: 'Origin', minor: true, cell: (r) => [h('span', { class: 'mono small break', attrs: { title: String(r.input) } }, baseName(String(r.input))), r.member ? h('div', { class: 'small muted break' }, `› ${r.member}`) : null] },
      { key: 'size', label: 'Size', numeric: true, minor: true, cell: (r) => `${bytes(Number(r.size))}${r.truncated ? ' (truncated)' : ''}` },
      { key: 'status', label: 'Status', cell: (r) => (r.resolved_at ? badge('good', 'resolved', '✓') : badge('muted', 'open')) },
      { key: 'actions', label: '', cell: (r) => [link(`/api/quarantine/${r.id}/bytes`, 'Download', { class: 'button small', attrs: { download: '' } }), ' ', r.resolved_at ? null : reprocessButton(Number(r.id), ctx)] },
    ];
    const tableEl = dataTable<Row>(columns, table.rows, { caption: 'quarantined inputs', id: 'quarantine-table' });
    const tbody = tableEl.querySelector('tbody')!;
    const more = loadMore<Row>('/api/quarantine', { ...filter, limit: 100 }, table.next, (rows) => {
      dataTable<Row>(columns, rows).querySelectorAll('tbody tr').forEach((tr) => tbody.appendChild(tr));
    });
    return [
      activeFilters([
        ...(reason ? [{ label: `reason ${reason}`, clearHref: withParams({ reason: null }) }] : []),
        ...(unresolved ? [{ label: 'open only', clearHref: withParams({ unresolved: null }) }] : []),
      ]),
      reasons.length > 0 ? h('div', { class: 'grid one' }, chartEl) : null,
      card(`Quarantined inputs (${num(table.total ?? table.rows.length)})`, table.rows.length === 0 ? nothingMatches(routeHref('quarantine')) : [tableEl, more], {
        csv: apiUrl('/api/quarantine.csv', filter),
        actions: link(withParams({ unresolved: unresolved ? null : 'true' }), unresolved ? 'Show all' : 'Open only', { class: 'button small' }),
        note: 'Inputs that could not be read are kept with the reason. After an upgrade, "Reprocess" runs one through the parsers again; "Download" saves the kept bytes.',
      }),
    ];
  },
};

function reprocessButton(id: number, ctx: ViewContext): HTMLElement {
  const button = h('button', { class: 'button small', attrs: { type: 'button' } }, 'Reprocess');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Reprocessing…';
    try {
      const r = await postJson<{ resolved: number; stillQuarantined: number; skippedTruncated: number }>(`/api/quarantine/${id}/reprocess`);
      button.textContent = r.resolved > 0 ? 'Resolved ✓' : r.skippedTruncated > 0 ? 'Only a truncated copy was kept' : 'Still unreadable';
      await ctx.refreshMeta();
    } catch (err) {
      button.disabled = false;
      button.textContent = `Failed: ${(err as Error).message}`;
    }
  });
  return button;
}

/** the last part of a path or mailbox input name (the full one is in the title) */
function baseName(input: string): string {
  return input.split(/[\\/]/).filter(Boolean).at(-1) ?? input;
}
