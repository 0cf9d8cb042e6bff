/**
 * How long the stored aggregate reports have shown the current DMARC policy: the input of the
 * "p=none for long" finding. Pure; the store reads the rows (policy_p, period_begin of each report).
 */
import type { ReportedPolicy } from './check-types.ts';

export interface ReportPolicyRow {
  /** policy_published p= of one report (null when the report did not say) */
  p: string | null;
  /** epoch seconds: the start of the report's period */
  begin: number;
  /** epoch seconds: the end of the report's period */
  end: number;
}

/**
 * The p= of the newest report and the start of the unbroken run of reports, back from the newest, that show
 * the same p= (reports without a p= neither break nor extend the run). Null when no report has a p=.
 */
export function reportedPolicyFrom(rows: readonly ReportPolicyRow[]): ReportedPolicy | null {
  const sorted = rows.filter((r) => r.p !== null && r.p.trim() !== '').sort((x, y) => y.end - x.end || y.begin - x.begin);
  const newest = sorted[0];
  if (!newest) return null;
  const p = (newest.p ?? '').trim().toLowerCase();
  let since = newest.begin;
  for (const r of sorted) {
    if ((r.p ?? '').trim().toLowerCase() !== p) break;
    since = Math.min(since, r.begin);
  }
  return { p, since: new Date(since * 1000).toISOString() };
}
