/**
 * Chart.js, tree-shaken: the configs are built by pure functions (bar, stacked bar, line, doughnut), and every
 * chart can report a click on a segment (drill-down). Animations are off: the first frame is the final one.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
} from 'chart.js';
import { h } from './dom.ts';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.color = '#333';

export interface Series {
  label: string;
  /** null: no data for that category (a gap in a line) */
  data: (number | null)[];
  /** one colour, or one per bar */
  color: string | string[];
}

type AnyConfig = ChartConfiguration<ChartType, number[], string>;

const live = new Set<Chart>();
const pending: { canvas: HTMLCanvasElement; config: AnyConfig }[] = [];

/** destroys every chart drawn so far (before a view is drawn again) */
export function destroyCharts(): void {
  for (const c of live) c.destroy();
  live.clear();
  pending.length = 0;
}

/** draws the charts built since the last call; call once the view is in the document (Chart.js measures it) */
export function drawPendingCharts(): void {
  for (const { canvas, config } of pending.splice(0)) {
    if (!canvas.isConnected) continue;
    const chart = new Chart(canvas, config);
    live.add(chart);
    canvas.dataset.points = JSON.stringify(segmentCentres(chart));
  }
}

/**
 * The centre of each category's drawn segment (CSS pixels in the canvas), so automation — and the browser
 * tests — can click a bar the way a user does.
 */
function segmentCentres(chart: Chart): [number, number][] {
  const labels = chart.data.labels ?? [];
  return labels.map((_l, i) => {
    for (let d = 0; d < chart.data.datasets.length; d++) {
      const el = chart.getDatasetMeta(d).data[i] as unknown as { x: number; y: number; base?: number; horizontal?: boolean } | undefined;
      if (!el) continue;
      if (!Number.isFinite(el.x) || !Number.isFinite(el.y)) continue;
      if (el.base === undefined) return [Math.round(el.x), Math.round(el.y)];
      const horizontal = chart.options.indexAxis === 'y';
      const size = Math.abs(el.base - (horizontal ? el.x : el.y));
      if (!(size >= 1)) continue;
      return horizontal ? [Math.round((el.x + el.base) / 2), Math.round(el.y)] : [Math.round(el.x), Math.round((el.y + el.base) / 2)];
    }
    return [-1, -1];
  });
}

export function barConfig(labels: string[], series: Series[], opts: { stacked?: boolean; horizontal?: boolean; percent?: boolean } = {}): AnyConfig {
  return {
    type: 'bar',
    // a small but non-zero value still shows (and can be clicked) next to a large one
    // (a zero stays no bar at all: null is not drawn, where minBarLength would draw a 0)
    data: {
      labels,
      datasets: series.map((s) => ({
        label: s.label,
        data: opts.stacked ? s.data : s.data.map((v) => (v === 0 ? null : v)),
        backgroundColor: s.color,
        borderColor: s.color,
        borderWidth: 0,
        minBarLength: opts.stacked ? 0 : 4,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: opts.horizontal ? 'y' : 'x',
      scales: {
        x: { stacked: opts.stacked ?? false, beginAtZero: true, grid: { display: !!opts.horizontal }, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 14, precision: 0 } },
        y: { stacked: opts.stacked ?? false, beginAtZero: true, grid: { display: !opts.horizontal }, ticks: { precision: 0 } },
      },
      plugins: { legend: { display: series.length > 1, position: 'bottom' }, tooltip: { mode: 'index', intersect: false } },
    },
  } as AnyConfig;
}

export function lineConfig(labels: string[], series: Series[], opts: { percent?: boolean } = {}): AnyConfig {
  return {
    type: 'line',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        borderColor: s.color,
        backgroundColor: s.color,
        borderWidth: 2,
        // shapes as well as colours tell the lines apart
        pointStyle: (['circle', 'rect', 'triangle', 'rectRot'] as const)[i % 4],
        pointRadius: labels.length > 60 ? 0 : 3,
        borderDash: i === 0 ? [] : i === 1 ? [6, 3] : [2, 2],
        spanGaps: true,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 14 } },
        y: opts.percent ? { min: 0, max: 100, ticks: { callback: (v: unknown) => `${v}%` } } : { beginAtZero: true },
      },
      plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } }, tooltip: { mode: 'index', intersect: false } },
    },
  } as AnyConfig;
}

/**
 * Draws a chart in a titled card. `onPick(index)` gets the index of a clicked bar / slice (drill-down);
 * `summary` is the text alternative read by screen readers.
 */
export function chartCard(title: string, config: AnyConfig, opts: { summary: string; onPick?: (index: number) => void; hint?: string; height?: number; id?: string; wide?: boolean }): HTMLElement {
  const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': `${title}. ${opts.summary}` } });
  const box = h('div', { class: 'chart-box' }, canvas);
  box.style.height = `${opts.height ?? 260}px`;
  const card = h('figure', { class: opts.wide ? 'card chart-card wide' : 'card chart-card', attrs: { id: opts.id } }, h('figcaption', null, h('h3', null, title), opts.hint ? h('span', { class: 'hint' }, opts.hint) : null), box);
  if (opts.onPick) {
    const pick = opts.onPick;
    config.options = {
      ...config.options,
      onClick: (_e, elements) => {
        const first = elements[0];
        if (first) pick(first.index);
      },
      onHover: (e, elements) => {
        const target = e.native?.target as HTMLElement | undefined;
        if (target) target.style.cursor = elements.length > 0 ? 'pointer' : 'default';
      },
    };
  }
  pending.push({ canvas, config });
  return card;
}
