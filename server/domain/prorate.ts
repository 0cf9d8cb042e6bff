/**
 * Pro-rating a report's counts over the UTC days it covers (pure). A report spanning three weeks must not put
 * three weeks of mail on one day of a timeline; totals must stay exact, so shares are whole messages chosen by
 * the largest remainder method, deterministic (ties go to the earlier day).
 *
 * The period is the half-open interval [begin, end): a report from 00:00:00 to 23:59:59, or to 00:00:00 of
 * the next day, covers exactly one day. Each day's weight is the number of seconds of the period that fall
 * in it. begin == end puts the whole count on that day.
 */

export interface DayShare {
  /** epoch seconds of 00:00:00 UTC of the day */
  day: number;
  /** YYYY-MM-DD (UTC) */
  date: string;
  count: number;
}

const DAY = 86_400;

/** a longer "period" is not a real reporting window (bad epochs): its count stays whole on its first day */
export const MAX_PRORATE_DAYS = 366;

export function utcDayStart(epochSeconds: number): number {
  return Math.floor(epochSeconds / DAY) * DAY;
}

export function utcDate(epochSeconds: number): string {
  return new Date(utcDayStart(epochSeconds) * 1000).toISOString().slice(0, 10);
}

/**
 * Splits `count` over the UTC days of [begin, end). Days whose share is 0 are left out; the counts always sum
 * to `count`. A non-finite or negative count gives []; a fractional count is rounded. When begin > end the
 * two are swapped.
 */
export function prorateByDay(begin: number, end: number, count: number, maxDays: number = MAX_PRORATE_DAYS): DayShare[] {
  if (!Number.isFinite(count) || count < 0 || !Number.isFinite(begin)) return [];
  const total = Math.round(count);
  if (total === 0) return [];
  let from = Math.floor(begin);
  let to = Number.isFinite(end) ? Math.floor(end) : from;
  if (to < from) [from, to] = [to, from];

  const firstDay = utcDayStart(from);
  const days = to === from ? 1 : Math.ceil((to - firstDay) / DAY);
  if (to === from || days > maxDays) return [{ day: firstDay, date: utcDate(firstDay), count: total }];

  const weights: bigint[] = [];
  for (let i = 0; i < days; i++) {
    const dayStart = firstDay + i * DAY;
    const overlap = Math.min(to, dayStart + DAY) - Math.max(from, dayStart);
    weights.push(BigInt(Math.max(0, overlap)));
  }
  return largestRemainder(BigInt(total), weights)
    .map((n, i) => ({ day: firstDay + i * DAY, n }))
    .filter((x) => x.n > 0)
    .map((x) => ({ day: x.day, date: utcDate(x.day), count: x.n }));
}

/**
 * Whole shares of `total` proportional to `weights` (non-negative, not all zero), summing exactly to `total`.
 * Exact integer arithmetic (BigInt), so large counts over long periods cannot drift.
 */
export function largestRemainder(total: bigint, weights: readonly bigint[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? Number(total) : 0));
  const floors = weights.map((w) => (total * w) / sum);
  const rems = weights.map((w, i) => ({ i, rem: (total * w) % sum }));
  let left = total - floors.reduce((a, b) => a + b, 0n);
  rems.sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
  for (const r of rems) {
    if (left === 0n) break;
    floors[r.i]! += 1n;
    left -= 1n;
  }
  return floors.map(Number);
}
