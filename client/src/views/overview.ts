/** Overview: volume and pass rates over time, per-domain figures and readiness, the top failing sources. */
import { apiUrl, ApiError, getJson, type Table } from '../api.ts';
import { barConfig, chartCard, lineConfig } from '../charts.ts';
import { h, link } from '../dom.ts';
import { analyticsMissing, noAggregateReports, nothingMatches } from '../empty-states.ts';
import { num, pct, ratio, text } from '../format.ts';
import { COLORS, DISPOSITION_COLORS } from '../palette.ts';
import { navigate, rangeParams, routeHref, withParams } from '../route.ts';
import { activeFilters, card, dataTable, kpi, rateBar, verdictBadge } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';
import { bucketDays, type DayRow } from './time-buckets.ts';

type Row = Record<string, string | number | boolean | null>;

interface Readiness {
  domain: string;
  nextStep: string;
  meaning: string[];
  messages: number;
  whatIf: Record<'quarantine' | 'reject', { affected: number; legitimate: number; forwarded: number; unknown: number; effect: string }>;
  blockers: { name: string; sources: string[]; messages: number; fix: string | null }[];
}

export const overviewView: ViewDef = {
  title: 'Overview',
  filters: 'range',
  async render(ctx: ViewContext) {
    if (ctx.meta.counts.aggregate === 0) return noAggregateReports();
    const range = rangeParams(ctx.params);
    let domains: Table<Row>, timeline: Table<DayRow>, failing: Table<Row>;
    try {
      [domains, timeline, failing] = await Promise.all([
        getJson<Table<Row>>('/api/overview/domains', { ...range, limit: 1000 }),
        getJson<Table<DayRow>>('/api/overview/timeline', { ...range, limit: 1000 }),
        getJson<Table<Row>>('/api/sources', { ...range, sort: 'failing', limit: 10 }),
      ]);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'analytics-unavailable') return analyticsMissing();
      throw err;
    }
    const readiness = range.domain ? (await getJson<{ readiness: Readiness[] }>('/api/overview/readiness', range)).readiness : [];
    if (domains.rows.length === 0 && timeline.rows.length === 0) return nothingMatches(routeHref('overview'));

    const t = timeline.rows.reduce(
      (a, r) => ({ m: a.m + r.messages, p: a.p + r.dmarc_pass, d: a.d + r.dkim_aligned_pass, s: a.s + r.spf_aligned_pass, q: a.q + r.quarantine, x: a.x + r.reject }),
      { m: 0, p: 0, d: 0, s: 0, q: 0, x: 0 },
    );
    const buckets = bucketDays(timeline.rows);
    const labels = buckets.map((b) => b.label);
    const drill = (i: number) => {
      const b = buckets[i];
      if (b) navigate(withParams({ from: b.from, to: b.to }));
    };
    const unit = buckets[0]?.unit ?? 'day';

    const charts = h(
      'div',
      { class: 'grid charts' },
      chartCard(
        `Messages per ${unit}`,
        barConfig(labels, [
          { label: 'DMARC pass', data: buckets.map((b) => b.dmarcPass), color: COLORS.pass },
          { label: 'DMARC fail', data: buckets.map((b) => b.dmarcFail), color: COLORS.fail },
        ], { stacked: true }),
        { summary: `${num(t.m)} messages, ${num(t.p)} passed DMARC.`, onPick: drill, hint: `click a bar to show that ${unit} only`, id: 'chart-volume', wide: true },
      ),
      chartCard(
        'Pass rates',
        lineConfig(labels, [
          { label: 'DMARC pass', data: buckets.map((b) => rate100(b.dmarcPass, b.messages)), color: COLORS.pass },
          { label: 'DKIM aligned', data: buckets.map((b) => rate100(b.dkimAlignedPass, b.messages)), color: COLORS.dkim },
          { label: 'SPF aligned', data: buckets.map((b) => rate100(b.spfAlignedPass, b.messages)), color: COLORS.spf },
        ], { percent: true }),
        { summary: `DMARC pass ${pct(ratio(t.p, t.m))}, DKIM aligned ${pct(ratio(t.d, t.m))}, SPF aligned ${pct(ratio(t.s, t.m))}.`, onPick: drill, id: 'chart-rates' },
      ),
      chartCard(
        'Disposition applied by receivers',
        barConfig(labels, [
          { label: 'none (delivered)', data: buckets.map((b) => b.none), color: DISPOSITION_COLORS.none },
          { label: 'quarantine', data: buckets.map((b) => b.quarantine), color: DISPOSITION_COLORS.quarantine },
          { label: 'reject', data: buckets.map((b) => b.reject), color: DISPOSITION_COLORS.reject },
        ], { stacked: true }),
        { summary: `${num(t.q)} quarantined, ${num(t.x)} rejected.`, onPick: drill, id: 'chart-disposition' },
      ),
    );

    const kpis = h(
      'div',
      { class: 'kpis' },
      kpi('Messages', num(t.m), `${num(domains.rows.length)} domain(s)`),
      kpi('DMARC pass', pct(ratio(t.p, t.m)), `${num(t.m - t.p)} failing`),
      kpi('DKIM aligned', pct(ratio(t.d, t.m))),
      kpi('SPF aligned', pct(ratio(t.s, t.m))),
    );

    const domainTable = card(
      'Domains',
      dataTable<Row>(
        [
          { key: 'domain', label: 'Domain', cell: (r) => link(withParams({ domain: String(r.domain) }), String(r.domain)) },
          { key: 'messages', label: 'Messages', numeric: true, cell: (r) => num(Number(r.messages)) },
          { key: 'pass_rate', label: 'DMARC pass', cell: (r) => rateBar(r.pass_rate as number | null, pct(r.pass_rate as number | null)) },
          { key: 'dkim_aligned_rate', label: 'DKIM aligned', numeric: true, minor: true, cell: (r) => pct(r.dkim_aligned_rate as number | null) },
          { key: 'spf_aligned_rate', label: 'SPF aligned', numeric: true, minor: true, cell: (r) => pct(r.spf_aligned_rate as number | null) },
          { key: 'policy_p', label: 'Policy', cell: (r) => (r.policy_p ? `p=${r.policy_p}${r.policy_pct !== null && r.policy_pct !== 100 ? ` pct=${r.policy_pct}` : ''}` : '—') },
          { key: 'readiness_step', label: 'Next step', minor: true, className: 'wide-text' },
        ],
        domains.rows,
        { onRowClick: (r) => navigate(withParams({ domain: String(r.domain) })), caption: 'messages and pass rates per domain', id: 'domains-table' },
      ),
      {
        csv: apiUrl('/api/overview/domains.csv', range),
        actions: [
          link(apiUrl('/api/overview/timeline.csv', range), '⤓ Daily figures', { class: 'button small', attrs: { download: '', title: 'the figures behind the charts, one row per day' } }),
          link(apiUrl('/api/summary.csv', range), '⤓ Monthly summary', { class: 'button small', attrs: { download: '', title: 'per domain per month: volume, pass rate, failing sources' } }),
        ],
      },
    );

    const failingTable = card(
      'Top failing sources',
      failing.rows.length === 0
        ? h('p', { class: 'note' }, 'No source failed DMARC in this range.')
        : dataTable<Row>(
            [
              { key: 'source', label: 'Source', cell: (r) => h('span', null, h('strong', null, text(r.service ?? r.base_domain ?? r.ip)), h('br'), h('span', { class: 'mono small' }, String(r.ip))) },
              { key: 'domain', label: 'Domain', minor: true },
              { key: 'messages', label: 'Messages', numeric: true, cell: (r) => num(Number(r.messages)) },
              { key: 'dmarc_fail', label: 'DMARC fail', numeric: true, cell: (r) => num(Number(r.dmarc_fail)) },
              { key: 'verdict', label: 'Classification', cell: (r) => verdictBadge(String(r.verdict)) },
              { key: 'fix', label: 'Fix', minor: true },
            ],
            failing.rows.filter((r) => Number(r.dmarc_fail) > 0),
            { caption: 'sources with the most DMARC failures', id: 'failing-table' },
          ),
      { csv: apiUrl('/api/sources.csv', { ...range, sort: 'failing' }), actions: link(routeHref('sources', range), 'All sources →', { class: 'button small' }) },
    );

    const dayChip = range.from || range.to ? [{ label: `${range.from ?? '…'} → ${range.to ?? '…'}`, clearHref: withParams({ from: null, to: null }) }] : [];
    const domainChip = range.domain ? [{ label: `domain ${range.domain}`, clearHref: withParams({ domain: null }) }] : [];
    return [activeFilters([...domainChip, ...dayChip]), kpis, readiness.map(readinessCard), charts, domainTable, failingTable];
  },
};

/** percent with one decimal; null (a gap, not a 0%) when there was no mail */
function rate100(n: number, of: number): number | null {
  return of > 0 ? Math.round((n / of) * 1000) / 10 : null;
}

function readinessCard(r: Readiness): HTMLElement {
  const w = (name: 'quarantine' | 'reject') =>
    h('li', null, h('strong', null, `p=${name}: `), `${num(r.whatIf[name].affected)} message(s) affected — ${num(r.whatIf[name].legitimate)} from legitimate senders, ${num(r.whatIf[name].forwarded)} forwarded, ${num(r.whatIf[name].unknown)} unknown (mostly spoofing).`);
  return card(
    `Policy readiness — ${r.domain}`,
    h(
      'div',
      { class: 'readiness' },
      h('p', { class: 'next-step' }, h('strong', null, 'Next step: '), r.nextStep),
      h('ul', { class: 'meaning' }, r.meaning.map((m) => h('li', null, m))),
      h('h4', null, 'What if you enforced now'),
      h('ul', null, w('quarantine'), w('reject')),
      r.blockers.length > 0
        ? [h('h4', null, 'Fix these senders first'), h('ul', { class: 'blockers' }, r.blockers.map((b) => h('li', null, h('strong', null, b.name), ` — ${num(b.messages)} message(s) from ${b.sources.slice(0, 5).join(', ')}${b.sources.length > 5 ? ' …' : ''}`, b.fix ? h('div', { class: 'fix' }, b.fix) : null)))]
        : null,
    ),
    { id: 'readiness' },
  );
}
