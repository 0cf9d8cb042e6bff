/**
 * Sources: who sends mail as your domains, grouped service → base domain → IP, each with its classification
 * (a badge with a word, not only a colour), the fix, and "approve this source".
 */
import { apiUrl, ApiError, getJson, postJson, type Table } from '../api.ts';
import { barConfig, chartCard } from '../charts.ts';
import { h, type Child } from '../dom.ts';
import { analyticsMissing, noAggregateReports, nothingMatches } from '../empty-states.ts';
import { num, pct, text } from '../format.ts';
import { VERDICT_STYLE } from '../palette.ts';
import { navigate, rangeParams, routeHref, withParams } from '../route.ts';
import { activeFilters, card, rateBar, verdictBadge } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';

type Row = Record<string, string | number | boolean | null>;

export const sourcesView: ViewDef = {
  title: 'Sources',
  filters: 'range',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.aggregate === 0) return noAggregateReports();
    const range = rangeParams(ctx.params);
    const verdict = ctx.params.get('verdict') ?? undefined;
    const q = ctx.params.get('q') ?? undefined;
    let table: Table<Row>, chart: { byVerdict: { verdict: string; messages: number; sources: number }[] };
    try {
      [table, chart] = await Promise.all([
        getJson<Table<Row>>('/api/sources', { ...range, verdict, q, limit: 1000 }),
        getJson<typeof chart>('/api/sources/chart', { ...range, q }),
      ]);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'analytics-unavailable') return analyticsMissing();
      throw err;
    }
    const verdicts = chart.byVerdict;
    const chartEl = chartCard(
      'Messages by classification',
      barConfig(
        verdicts.map((v) => VERDICT_STYLE[v.verdict]?.label ?? v.verdict),
        [{ label: 'messages', data: verdicts.map((v) => v.messages), color: verdicts.map((v) => VERDICT_STYLE[v.verdict]?.color ?? '#8C8C8C') }],
        { horizontal: true },
      ),
      { summary: verdicts.map((v) => `${VERDICT_STYLE[v.verdict]?.label ?? v.verdict}: ${v.messages}`).join(', '), onPick: (i) => navigate(withParams({ verdict: verdicts[i]?.verdict ?? null })), hint: 'click a bar to list those sources', height: 200, id: 'chart-verdicts' },
    );

    const search = h(
      'form',
      { class: 'inline-search', attrs: { role: 'search' }, on: { submit: (e) => { e.preventDefault(); navigate(withParams({ q: (e.target as HTMLFormElement).querySelector('input')!.value.trim() || null })); } } },
      h('label', { attrs: { for: 'source-q' }, class: 'sr-only' }, 'Search sources'),
      h('input', { attrs: { id: 'source-q', type: 'search', placeholder: 'IP, host, service, ASN…', value: q ?? '' } }),
      h('button', { class: 'button small', attrs: { type: 'submit' } }, 'Search'),
    );

    const chips = activeFilters([
      ...(verdict ? [{ label: `classification: ${VERDICT_STYLE[verdict]?.label ?? verdict}`, clearHref: withParams({ verdict: null }) }] : []),
      ...(q ? [{ label: `search: ${q}`, clearHref: withParams({ q: null }) }] : []),
    ]);
    const body = table.rows.length === 0 ? nothingMatches(routeHref('sources', range)) : groupedTable(table.rows);
    const note = table.total !== null && table.total > table.rows.length ? `Showing the ${num(table.rows.length)} largest of ${num(table.total)} sources; the CSV has all of them.` : null;
    return [
      chips,
      h('div', { class: 'grid one' }, chartEl),
      card(`Sending sources (${num(table.total ?? table.rows.length)})`, body, {
        csv: apiUrl('/api/sources.csv', { ...range, verdict, q }),
        actions: search,
        note: note ?? 'Grouped by service, then by the base domain of the reverse DNS name. Approve a source you recognize so it counts as legitimate.',
      }),
    ];
  },
};

function groupedTable(rows: Row[]): HTMLElement {
  // service → base domain → rows, groups in order of volume
  const services = new Map<string, Map<string, Row[]>>();
  for (const r of rows) {
    const svc = r.service ? String(r.service) : 'Unrecognized senders';
    const base = r.base_domain ? String(r.base_domain) : 'no reverse DNS name';
    let bases = services.get(svc);
    if (!bases) services.set(svc, (bases = new Map()));
    let list = bases.get(base);
    if (!list) bases.set(base, (list = []));
    list.push(r);
  }
  const volume = (list: Row[]) => list.reduce((n, r) => n + Number(r.messages), 0);
  // the classification and the fix come first: they are what the view is for
  const head = h('thead', null, h('tr', null, ['Source', 'Classification', 'Messages', 'DMARC pass', 'Fix', 'DKIM signature', 'Network'].map((l, i) => h('th', { attrs: { scope: 'col' }, class: i === 2 ? 'num' : i === 5 || i === 6 ? 'minor' : '' }, l))));
  const body: HTMLElement[] = [];
  const sortedServices = [...services.entries()].sort((a, b) => volume([...b[1].values()].flat()) - volume([...a[1].values()].flat()));
  for (const [svc, bases] of sortedServices) {
    const all = [...bases.values()].flat();
    body.push(h('tr', { class: 'group service' }, h('th', { attrs: { colspan: 7, scope: 'rowgroup' } }, svc, h('span', { class: 'group-sum' }, ` — ${num(volume(all))} messages, ${all.length} source(s)`))));
    for (const [base, list] of [...bases.entries()].sort((a, b) => volume(b[1]) - volume(a[1]))) {
      body.push(h('tr', { class: 'group base' }, h('th', { attrs: { colspan: 7, scope: 'rowgroup' } }, base)));
      for (const r of list) body.push(sourceRow(r));
    }
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data sources', attrs: { id: 'sources-table' } }, head, h('tbody', null, body)));
}

function sourceRow(r: Row): HTMLElement {
  const location: Child[] = [r.country ? String(r.country) : '', r.asn ? ` AS${r.asn}` : '', r.as_org ? ` ${r.as_org}` : ''];
  const pass = r.pass_rate as number | null;
  return h(
    'tr',
    { class: r.verdict === 'failing' ? 'row-bad' : undefined, dataset: { ip: String(r.ip), verdict: String(r.verdict) } },
    h('td', { dataset: { col: 'ip' } }, h('span', { class: 'mono' }, String(r.ip)), r.reverse_dns ? [h('br'), h('span', { class: 'small muted break' }, String(r.reverse_dns))] : null, r.domain ? [h('br'), h('span', { class: 'small' }, `for ${r.domain}`)] : null),
    h('td', { dataset: { col: 'verdict' } }, verdictBadge(String(r.verdict)), r.approved ? h('div', { class: 'small muted' }, 'approved') : r.verdict === 'compliant' ? null : h('div', { class: 'approve' }, approveButton(String(r.ip)))),
    h('td', { class: 'num', dataset: { col: 'messages' } }, num(Number(r.messages))),
    h('td', { dataset: { col: 'pass_rate' } }, rateBar(pass, pct(pass))),
    h('td', { class: 'fix-cell', dataset: { col: 'fix' } }, text(r.fix)),
    h('td', { class: 'minor', dataset: { col: 'dkim' } }, r.dkim_domain ? `d=${r.dkim_domain} s=${text(r.dkim_selector)}` : 'unsigned'),
    h('td', { class: 'minor', dataset: { col: 'location' } }, location.filter(Boolean).length > 0 ? location : '—'),
  );
}

function approveButton(ip: string): HTMLElement {
  const button = h('button', { class: 'button small', attrs: { type: 'button', title: `count ${ip} as a legitimate sender` } }, 'Approve');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await postJson('/api/sources/approve', { ip });
      button.textContent = 'Approved ✓';
    } catch (err) {
      button.disabled = false;
      button.textContent = `Failed: ${(err as Error).message}`;
    }
  });
  return button;
}
