import { describe, expect, it } from 'vitest';
import { largestRemainder, prorateByDay, utcDate } from '../../server/domain/prorate.ts';

const D = 86_400;
const JAN1 = Date.UTC(2026, 0, 1) / 1000;
const sum = (xs: { count: number }[]) => xs.reduce((a, x) => a + x.count, 0);

describe('prorateByDay', () => {
  it('a normal one-day report stays on its day (end 23:59:59 or next 00:00:00)', () => {
    expect(prorateByDay(JAN1, JAN1 + D - 1, 17)).toEqual([{ day: JAN1, date: '2026-01-01', count: 17 }]);
    expect(prorateByDay(JAN1, JAN1 + D, 17)).toEqual([{ day: JAN1, date: '2026-01-01', count: 17 }]);
  });

  it('begin == end puts everything on that day', () => {
    expect(prorateByDay(JAN1 + 5000, JAN1 + 5000, 9)).toEqual([{ day: JAN1, date: '2026-01-01', count: 9 }]);
  });

  it('splits by the seconds falling in each UTC day', () => {
    // 18:00 on Jan 1 to 06:00 on Jan 3: 6 h, 24 h, 6 h
    const r = prorateByDay(JAN1 + 18 * 3600, JAN1 + 2 * D + 6 * 3600, 36);
    expect(r.map((x) => [x.date, x.count])).toEqual([['2026-01-01', 6], ['2026-01-02', 24], ['2026-01-03', 6]]);
  });

  it('crosses month and year boundaries', () => {
    const dec31 = Date.UTC(2025, 11, 31) / 1000;
    expect(prorateByDay(dec31 + 12 * 3600, JAN1 + 12 * 3600, 2).map((x) => x.date)).toEqual(['2025-12-31', '2026-01-01']);
  });

  it.each([1, 2, 7, 13, 100, 999_983, 2_147_483_647, 9_007_199_254_740_991])('multi-week reports: the days sum exactly to %i', (count) => {
    const r = prorateByDay(JAN1, JAN1 + 21 * D, count);
    expect(sum(r)).toBe(count);
    expect(r.length).toBe(Math.min(21, count));
    for (const x of r) expect(Number.isInteger(x.count) && x.count > 0).toBe(true);
    // shares differ by at most one message between full days
    const counts = r.map((x) => x.count);
    if (count >= 21) expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('is deterministic: ties go to the earlier day', () => {
    const r = prorateByDay(JAN1, JAN1 + 3 * D, 2);
    expect(r.map((x) => [x.date, x.count])).toEqual([['2026-01-01', 1], ['2026-01-02', 1]]);
    expect(prorateByDay(JAN1, JAN1 + 3 * D, 2)).toEqual(r);
  });

  it('sums exactly for many random periods', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      const begin = JAN1 + rand(400 * D);
      const end = begin + rand(45 * D);
      const count = rand(100_000);
      const r = prorateByDay(begin, end, count);
      expect(sum(r)).toBe(count);
      for (let j = 1; j < r.length; j++) expect(r[j]!.day).toBeGreaterThan(r[j - 1]!.day);
    }
  });

  it('handles bad input as values', () => {
    expect(prorateByDay(JAN1, JAN1 + D, 0)).toEqual([]);
    expect(prorateByDay(JAN1, JAN1 + D, -3)).toEqual([]);
    expect(prorateByDay(JAN1, JAN1 + D, Number.NaN)).toEqual([]);
    expect(prorateByDay(Number.NaN, JAN1, 3)).toEqual([]);
    expect(sum(prorateByDay(JAN1 + 2 * D, JAN1, 10))).toBe(10); // swapped
    expect(prorateByDay(JAN1, JAN1 + 5000 * D, 10)).toEqual([{ day: JAN1, date: '2026-01-01', count: 10 }]); // not a real period
  });

  it('largestRemainder sums exactly and favours the largest remainders', () => {
    expect(largestRemainder(10n, [1n, 1n, 1n])).toEqual([4, 3, 3]);
    expect(largestRemainder(5n, [0n, 3n, 1n])).toEqual([0, 4, 1]);
    expect(largestRemainder(3n, [0n, 0n])).toEqual([3, 0]);
  });

  it('utcDate formats the UTC day', () => {
    expect(utcDate(JAN1 + D - 1)).toBe('2026-01-01');
    expect(utcDate(JAN1 + D)).toBe('2026-01-02');
  });
});
