/** Numbers, rates and dates as the UI shows them (UTC dates, en-US digit grouping). */
const NUM = new Intl.NumberFormat('en-US');

export function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : NUM.format(n);
}

/** 0.9634 → "96.3%" */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

export function ratio(n: number, of: number): number | null {
  return of > 0 ? n / of : null;
}

/** ISO date-time → "2024-03-01" */
export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '—';
}

/** a report period: one day when it covers at most 24 hours (the usual daily report), else "from → to" */
export function period(begin: string | null | undefined, end: string | null | undefined): string {
  const b = day(begin);
  const e = day(end);
  if (begin && end && Date.parse(end) - Date.parse(begin) <= 86_400_000) return b;
  return b === e ? b : `${b} → ${e}`;
}

/** "5 min ago", "2 h ago", "3 days ago" */
export function ago(seconds: number): string {
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} days ago`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function text(v: unknown): string {
  return v === null || v === undefined || v === '' ? '—' : String(v);
}
