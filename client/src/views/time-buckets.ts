/** Daily timeline points grouped for a chart: by day, or by month when there are too many days to show. */
export interface DayRow {
  day: string;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  dkim_aligned_pass: number;
  spf_aligned_pass: number;
  none: number;
  quarantine: number;
  reject: number;
}

export interface Bucket {
  label: string;
  unit: 'day' | 'month';
  /** the date range a click on this bucket filters to (YYYY-MM-DD) */
  from: string;
  to: string;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  dkimAlignedPass: number;
  spfAlignedPass: number;
  none: number;
  quarantine: number;
  reject: number;
}

const MAX_DAY_BARS = 92;

export function bucketDays(rows: readonly DayRow[]): Bucket[] {
  const sorted = [...rows].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const first = sorted[0]?.day;
  const last = sorted.at(-1)?.day;
  const spanDays = first && last ? (Date.parse(last) - Date.parse(first)) / 86_400_000 + 1 : 0;
  const byMonth = spanDays > MAX_DAY_BARS;
  const out = new Map<string, Bucket>();
  for (const r of sorted) {
    const key = byMonth ? r.day.slice(0, 7) : r.day;
    let b = out.get(key);
    if (!b) {
      b = {
        label: key,
        unit: byMonth ? 'month' : 'day',
        from: byMonth ? `${key}-01` : key,
        to: byMonth ? lastDayOfMonth(key) : key,
        messages: 0, dmarcPass: 0, dmarcFail: 0, dkimAlignedPass: 0, spfAlignedPass: 0, none: 0, quarantine: 0, reject: 0,
      };
      out.set(key, b);
    }
    b.messages += r.messages;
    b.dmarcPass += r.dmarc_pass;
    b.dmarcFail += r.dmarc_fail;
    b.dkimAlignedPass += r.dkim_aligned_pass;
    b.spfAlignedPass += r.spf_aligned_pass;
    b.none += r.none;
    b.quarantine += r.quarantine;
    b.reject += r.reject;
  }
  return [...out.values()];
}

function lastDayOfMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}
