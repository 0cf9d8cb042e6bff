/**
 * The Sources table's filters and order (pure): which classified rows a `verdict` / `service` / free-text `q`
 * filter keeps, and the "failing first" order. Shared by the analytics (which pages the table without classifying
 * every source when no filter needs the verdicts) and the web routes.
 */
import type { Verdict } from '../domain/classify.ts';
import type { AnalyticsFilter, SourceRow } from './analytics-types.ts';

export interface SourceTableFilter extends AnalyticsFilter {
  verdict?: Verdict | string;
  /** service name, case-insensitive */
  service?: string;
  /** case-insensitive substring of the IP, reverse DNS, base domain, service, AS organization, DKIM domain or From domain */
  q?: string;
  /** 'failing': most DMARC-failing messages first; default: most messages first */
  sort?: 'messages' | 'failing';
}

export interface SourceTablePage {
  rows: SourceRow[];
  /** rows matching the filter in all */
  total: number;
}

/** true when the filter needs each source's classification / identity (not only its counts) */
export function needsClassification(f: SourceTableFilter): boolean {
  return f.verdict !== undefined || f.service !== undefined || f.q !== undefined;
}

export function sourceMatches(s: Omit<SourceRow, 'evidence' | 'fix'>, f: SourceTableFilter): boolean {
  if (f.verdict !== undefined && s.verdict !== f.verdict) return false;
  if (f.service !== undefined && (s.service?.name ?? '').toLowerCase() !== f.service.toLowerCase()) return false;
  if (f.q !== undefined) {
    const q = f.q.toLowerCase();
    const hay = [s.ip, s.reverseDns, s.baseDomain, s.service?.name, s.asOrg, s.dkimDomain, s.headerFrom].map((v) => (v ?? '').toLowerCase());
    if (!hay.some((h) => h.includes(q))) return false;
  }
  return true;
}

/** stable: among equal failing counts the larger source first, then the incoming order */
export function byFailing<T>(items: T[], fail: (x: T) => number, messages: (x: T) => number): T[] {
  return items.sort((a, b) => fail(b) - fail(a) || messages(b) - messages(a));
}
