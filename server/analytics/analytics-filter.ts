/**
 * An AnalyticsFilter in the terms of the rollup tables: the domain in their form, and from / to as inclusive
 * UTC days (rollups are per day, so a date range covers whole days).
 */
import { utcDayStart } from '../domain/prorate.ts';
import { rollupDomain } from '../store/analytics-rollup.ts';
import { Where } from '../store/sql-build.ts';
import type { AnalyticsFilter } from './analytics-types.ts';

export interface DayFilter {
  domain?: string;
  fromDay?: number;
  toDay?: number;
}

export const DAY = 86_400;

export function dayFilter(f: AnalyticsFilter): DayFilter {
  const out: DayFilter = {};
  if (f.domain !== undefined && f.domain.trim() !== '') out.domain = rollupDomain(f.domain);
  if (f.from !== undefined && Number.isFinite(f.from)) out.fromDay = utcDayStart(f.from);
  if (f.to !== undefined && Number.isFinite(f.to)) out.toDay = utcDayStart(f.to);
  return out;
}

/** WHERE conditions on a rollup table (`alias.` prefix optional) for the filter. */
export function rollupWhere(f: DayFilter, alias = ''): Where {
  const p = alias ? `${alias}.` : '';
  const where = new Where();
  if (f.domain !== undefined) where.add(`${p}domain = ?`, f.domain);
  if (f.fromDay !== undefined) where.add(`${p}day >= ?`, f.fromDay);
  if (f.toDay !== undefined) where.add(`${p}day <= ?`, f.toDay);
  return where;
}

/** YYYY-MM-DD of a day start. */
export function isoDay(day: number): string {
  return new Date(day * 1000).toISOString().slice(0, 10);
}
