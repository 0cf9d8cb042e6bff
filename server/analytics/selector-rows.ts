/**
 * DKIM selector rows of the analytics (pure): the selector rollup cells summarized by SelectorAccumulator
 * (volume, pass rate, first / last seen, stale and failing flags) with plain-language notes.
 */
import { SelectorAccumulator, type SelectorOptions, type SelectorStats } from '../domain/selectors.ts';
import type { SelectorRow } from './analytics-types.ts';
import type { SelectorCell } from './rollup-queries.ts';

/** `serviceOf(domain, signingDomain, selector)`: the service the selector's sources were matched to, if known */
export function selectorRows(
  cells: Iterable<SelectorCell>,
  serviceOf: (domain: string, dkimDomain: string, selector: string) => string | null,
  opts: SelectorOptions = {},
): SelectorRow[] {
  const acc = new SelectorAccumulator();
  for (const c of cells) {
    acc.add({
      policyDomain: c.domain,
      dkimDomain: c.dkimDomain,
      selector: c.selector,
      result: c.result,
      messages: c.messages,
      begin: c.firstSeen,
      end: c.lastSeen,
      service: serviceOf(c.domain, c.dkimDomain, c.selector),
    });
  }
  return acc.result(opts).map(toRow);
}

function toRow(s: SelectorStats): SelectorRow {
  const notes: string[] = [];
  if (s.stale) {
    notes.push(`still signing ${s.stale.overlapDays} day(s) after ${s.stale.newerSelector} started: finish the key rotation and remove this selector's key`);
  }
  if (s.failing) notes.push(s.failing.reason);
  const other = Object.entries(s.results).filter(([r]) => r !== 'pass' && r !== 'fail' && r !== 'permerror');
  if (other.length > 0) notes.push(`other results: ${other.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  return {
    domain: s.policyDomain,
    signingDomain: s.dkimDomain,
    selector: s.selector,
    service: s.service,
    messages: s.messages,
    pass: s.pass,
    passRate: s.passRate,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    stale: s.stale !== null,
    failing: s.failing !== null,
    notes,
    fail: s.fail,
    permerror: s.permerror,
    newerSelector: s.stale?.newerSelector ?? null,
  };
}
