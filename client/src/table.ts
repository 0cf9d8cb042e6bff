/** Data tables, cards, badges and empty states: the building blocks every view shares. */
import { h, link, type Child } from './dom.ts';
import { text } from './format.ts';
import { VERDICT_STYLE } from './palette.ts';

export interface Column<R> {
  key: string;
  label: string;
  cell?: (row: R) => Child;
  numeric?: boolean;
  /** hidden on narrow screens */
  minor?: boolean;
  className?: string;
}

export function dataTable<R extends Record<string, unknown>>(
  columns: Column<R>[],
  rows: R[],
  opts: { onRowClick?: (row: R) => void; rowClass?: (row: R) => string | undefined; caption?: string; id?: string } = {},
): HTMLElement {
  const head = h('thead', null, h('tr', null, columns.map((c) => h('th', { attrs: { scope: 'col' }, class: cls(c) }, c.label))));
  const body = h(
    'tbody',
    null,
    rows.map((row) => {
      const tr = h('tr', { class: opts.rowClass?.(row) }, columns.map((c) => h('td', { class: cls(c), dataset: { col: c.key } }, c.cell ? c.cell(row) : text(row[c.key]))));
      if (opts.onRowClick) {
        const go = opts.onRowClick;
        tr.classList.add('clickable');
        tr.tabIndex = 0;
        tr.addEventListener('click', (e) => {
          if ((e.target as HTMLElement).closest('a,button')) return;
          go(row);
        });
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') go(row);
        });
      }
      return tr;
    }),
  );
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', attrs: { id: opts.id } }, opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null, head, body));
}

function cls<R>(c: Column<R>): string {
  return [c.numeric ? 'num' : '', c.minor ? 'minor' : '', c.className ?? ''].filter(Boolean).join(' ');
}

/** a card with a title, optional CSV link / actions, and a body */
export function card(title: string, body: Child, opts: { csv?: string; actions?: Child; note?: Child; id?: string } = {}): HTMLElement {
  return h(
    'section',
    { class: 'card', attrs: { id: opts.id } },
    h('div', { class: 'card-head' }, h('h3', null, title), h('div', { class: 'card-actions' }, opts.actions ?? null, opts.csv ? link(opts.csv, '⤓ CSV', { class: 'button small csv', attrs: { download: '' } }) : null)),
    opts.note ? h('p', { class: 'note' }, opts.note) : null,
    body,
  );
}

export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'muted';

export function badge(tone: Tone, label: string, symbol?: string): HTMLElement {
  return h('span', { class: `badge ${tone}` }, symbol ? h('span', { attrs: { 'aria-hidden': 'true' } }, `${symbol} `) : null, label);
}

const VERDICT_TONE: Record<string, Tone> = { compliant: 'good', 'spf-only': 'warn', 'unsigned-vendor': 'warn', forwarded: 'info', failing: 'bad' };

export function verdictBadge(verdict: string): HTMLElement {
  const s = VERDICT_STYLE[verdict];
  return badge(VERDICT_TONE[verdict] ?? 'muted', s?.label ?? verdict, s?.symbol);
}

/** pass / fail / other results as words with a symbol */
export function resultBadge(result: unknown): HTMLElement {
  const r = result === null || result === undefined || result === '' ? 'none' : String(result);
  if (r === 'pass' || r === 'true') return badge('good', 'pass', '✓');
  if (r === 'fail' || r === 'false' || r === 'permerror') return badge('bad', r === 'false' ? 'fail' : r, '✗');
  if (r === 'softfail' || r === 'temperror' || r === 'neutral' || r === 'policy') return badge('warn', r, '~');
  return badge('muted', r);
}

export function severityBadge(severity: string): HTMLElement {
  if (severity === 'error') return badge('bad', 'error', '✗');
  if (severity === 'warning') return badge('warn', 'warning', '!');
  return badge('info', 'info', 'i');
}

export function statusBadge(status: string): HTMLElement {
  if (status === 'pass') return badge('good', 'pass', '✓');
  if (status === 'warn') return badge('warn', 'warning', '!');
  if (status === 'fail') return badge('bad', 'fail', '✗');
  return badge('muted', status);
}

/** a horizontal rate bar with the figure as text beside it */
export function rateBar(rate: number | null, label: string): HTMLElement {
  const bar = h('span', { class: 'rate-fill' });
  bar.style.width = `${Math.max(0, Math.min(1, rate ?? 0)) * 100}%`;
  return h('span', { class: `rate ${rate === null ? '' : rate >= 0.98 ? 'good' : rate >= 0.9 ? 'warn' : 'bad'}` }, h('span', { class: 'rate-track', attrs: { 'aria-hidden': 'true' } }, bar), h('span', { class: 'rate-text' }, label));
}

export function emptyState(title: string, ...lines: Child[]): HTMLElement {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), lines.map((l) => h('p', null, l)));
}

export function code(textValue: string): HTMLElement {
  return h('code', null, textValue);
}

export function kpi(label: string, value: string, sub?: Child): HTMLElement {
  return h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, label), h('div', { class: 'kpi-value' }, value), sub ? h('div', { class: 'kpi-sub' }, sub) : null);
}

/** "Showing: failing ✕" chips for filters set by a drill-down, each removable */
export function activeFilters(chips: { label: string; clearHref: string }[]): HTMLElement | null {
  if (chips.length === 0) return null;
  return h('div', { class: 'chips' }, h('span', { class: 'chips-label' }, 'Filtered by:'), chips.map((c) => link(c.clearHref, [c.label, h('span', { attrs: { 'aria-hidden': 'true' } }, ' ✕')], { class: 'chip', attrs: { title: 'remove this filter' } })));
}
