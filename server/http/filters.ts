/** The filters every view shares: a policy domain and a UTC date range, kept in the page URL by the client. */
import { badRequest } from './http-error.ts';
import { day, domainName } from './request-schema.ts';

export const DATE_RANGE = { domain: domainName(), from: day(), to: day({ end: true }) };

export interface RangeFilter {
  domain?: string;
  /** epoch seconds, inclusive */
  from?: number;
  to?: number;
}

/** Picks the range fields out of parsed parameters and refuses a range that ends before it begins. */
export function rangeOf(p: Record<string, unknown>): RangeFilter {
  const f: RangeFilter = {};
  if (typeof p.domain === 'string') f.domain = p.domain;
  if (typeof p.from === 'number') f.from = p.from;
  if (typeof p.to === 'number') f.to = p.to;
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) throw badRequest('"from" is after "to"');
  return f;
}

/** A keyset cursor `<at>.<id>` (both integers) or null. */
export function decodeCursor(cursor: string | null): [number, number] | null {
  if (cursor === null) return null;
  const m = /^(-?\d+)\.(\d+)$/.exec(cursor);
  if (!m) throw badRequest('"cursor" is not a cursor from a previous page');
  return [Number(m[1]), Number(m[2])];
}

export function encodeCursor(at: number, id: number): string {
  return `${at}.${id}`;
}
