/**
 * DKIM selectors seen in aggregate reports (pure): per policy domain, signing domain and selector: volume,
 * pass rate, first / last seen, and two flags:
 *
 * - stale: the selector still signs more than `staleAfterDays` (default 30) after a newer selector of the same
 *   rotation group started passing: a key rotation that was never finished. The rotation group is the service
 *   the sources were matched to (one selector per vendor, rotated by quarter: "2017q1sendgrid" →
 *   "2017q2sendgrid"); when no service is known, the selector's name family (digits, quarter tokens and
 *   separators removed: "s1"/"s2" → "s", "2024q1mail" → "mail").
 * - failing: seen with permerror (key missing or malformed) at all, or with fail for at least `failShare`
 *   (default 10 %) of its messages (wrong key, or messages modified in transit).
 */
import type { AggregateHeader, AggregateRecord } from './report-types.ts';

export interface SelectorObservation {
  policyDomain: string;
  dkimDomain: string;
  selector: string;
  /** DKIM result: pass | fail | permerror | temperror | neutral | policy | none */
  result: string | null;
  messages: number;
  /** epoch seconds: the report period */
  begin: number;
  end: number;
  /** the service the source was matched to, when known */
  service?: string | null;
}

export interface SelectorOptions {
  staleAfterDays?: number;
  failShare?: number;
}

export interface SelectorStats {
  policyDomain: string;
  dkimDomain: string;
  selector: string;
  service: string | null;
  rotationGroup: string;
  messages: number;
  pass: number;
  fail: number;
  permerror: number;
  /** pass / messages, 0..1 */
  passRate: number;
  results: Record<string, number>;
  firstSeen: number;
  lastSeen: number;
  stale: { newerSelector: string; newerFirstSeen: number; overlapDays: number } | null;
  failing: { fail: number; permerror: number; reason: string } | null;
  flags: ('stale' | 'failing')[];
}

const DAY = 86_400;

/** "2017q1SendGrid" → "sendgrid", "selector2" → "selector", "s1" → "s", "20240601" → "dated". */
export function selectorFamily(selector: string): string {
  const f = selector.toLowerCase().replace(/q[1-4]/g, '').replace(/[0-9._-]+/g, '');
  return f === '' ? 'dated' : f;
}

/** One observation per DKIM signature of a record that names both a domain and a selector. */
export function selectorObservations(
  header: Pick<AggregateHeader, 'begin' | 'end' | 'policy'>,
  rec: AggregateRecord,
  service: string | null = null,
): SelectorObservation[] {
  if (!Number.isFinite(rec.count) || rec.count <= 0) return [];
  const policyDomain = (header.policy.domain ?? rec.headerFrom ?? '').trim().toLowerCase();
  return rec.dkim
    .filter((d) => d.domain && d.selector)
    .map((d) => ({
      policyDomain,
      dkimDomain: d.domain!.trim().toLowerCase().replace(/\.$/, ''),
      selector: d.selector!.trim().toLowerCase(),
      result: d.result,
      messages: rec.count,
      begin: header.begin,
      end: header.end,
      service,
    }));
}

interface Acc {
  policyDomain: string;
  dkimDomain: string;
  selector: string;
  messages: number;
  results: Record<string, number>;
  services: Map<string, number>;
  firstSeen: number;
  lastSeen: number;
}

/** Incremental form, for streaming records from the store. */
export class SelectorAccumulator {
  private readonly accs = new Map<string, Acc>();

  add(o: SelectorObservation): void {
    if (!Number.isFinite(o.messages) || o.messages <= 0) return;
    const key = `${o.policyDomain}\u0000${o.dkimDomain}\u0000${o.selector}`;
    let a = this.accs.get(key);
    if (!a) {
      a = { policyDomain: o.policyDomain, dkimDomain: o.dkimDomain, selector: o.selector, messages: 0, results: {}, services: new Map(), firstSeen: o.begin, lastSeen: o.end };
      this.accs.set(key, a);
    }
    a.messages += o.messages;
    const r = o.result?.trim().toLowerCase() || 'none';
    a.results[r] = (a.results[r] ?? 0) + o.messages;
    if (o.service) a.services.set(o.service, (a.services.get(o.service) ?? 0) + o.messages);
    a.firstSeen = Math.min(a.firstSeen, o.begin);
    a.lastSeen = Math.max(a.lastSeen, o.end);
  }

  result(opts: SelectorOptions = {}): SelectorStats[] {
    const staleAfter = (opts.staleAfterDays ?? 30) * DAY;
    const failShare = opts.failShare ?? 0.1;
    const stats = [...this.accs.values()].map((a) => toStats(a, failShare));
    const groups = new Map<string, SelectorStats[]>();
    for (const s of stats) {
      const k = `${s.policyDomain}\u0000${s.dkimDomain}\u0000${s.rotationGroup}`;
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const members of groups.values()) {
      for (const s of members) {
        // the earliest newer selector that passes: the overlap with it is the longest unfinished rotation
        const newer = members
          .filter((n) => n !== s && n.firstSeen > s.firstSeen && n.pass > 0)
          .sort((x, y) => x.firstSeen - y.firstSeen || x.selector.localeCompare(y.selector))[0];
        if (newer && s.lastSeen - newer.firstSeen > staleAfter) {
          s.stale = { newerSelector: newer.selector, newerFirstSeen: newer.firstSeen, overlapDays: Math.floor((s.lastSeen - newer.firstSeen) / DAY) };
          s.flags.unshift('stale');
        }
      }
    }
    return stats.sort(
      (x, y) => x.policyDomain.localeCompare(y.policyDomain) || x.dkimDomain.localeCompare(y.dkimDomain) || y.messages - x.messages || x.selector.localeCompare(y.selector),
    );
  }
}

function toStats(a: Acc, failShare: number): SelectorStats {
  let service: string | null = null;
  let best = 0;
  for (const [name, n] of a.services) {
    if (n > best || (n === best && service !== null && name < service)) {
      service = name;
      best = n;
    }
  }
  const pass = a.results.pass ?? 0;
  const fail = a.results.fail ?? 0;
  const permerror = a.results.permerror ?? 0;
  let failing: SelectorStats['failing'] = null;
  if (permerror > 0 || (fail > 0 && fail / a.messages >= failShare)) {
    const why: string[] = [];
    if (permerror > 0) why.push(`permerror for ${permerror} message(s): the key at ${a.selector}._domainkey.${a.dkimDomain} is missing or malformed`);
    if (fail > 0 && fail / a.messages >= failShare) {
      why.push(`fail for ${fail} of ${a.messages} message(s): wrong key published, or messages modified in transit`);
    }
    failing = { fail, permerror, reason: why.join('; ') };
  }
  return {
    policyDomain: a.policyDomain,
    dkimDomain: a.dkimDomain,
    selector: a.selector,
    service,
    rotationGroup: service ? `service:${service}` : `family:${selectorFamily(a.selector)}`,
    messages: a.messages,
    pass,
    fail,
    permerror,
    passRate: a.messages > 0 ? pass / a.messages : 0,
    results: a.results,
    firstSeen: a.firstSeen,
    lastSeen: a.lastSeen,
    stale: null,
    failing,
    flags: failing ? ['failing'] : [],
  };
}

export function summarizeSelectors(observations: Iterable<SelectorObservation>, opts: SelectorOptions = {}): SelectorStats[] {
  const acc = new SelectorAccumulator();
  for (const o of observations) acc.add(o);
  return acc.result(opts);
}
