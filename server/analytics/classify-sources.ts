/**
 * Source rows of the analytics (pure): each SourceGroup with what enrichment knows about its IP, the service and
 * approval it matches, and its classification (verdict, evidence, fix). Largest first.
 */
import { classifyGroup, type Classification, type SourceGroup } from '../domain/classify.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import type { SenderMatcher } from '../enrich/known-senders.ts';
import type { SourceRow } from './analytics-types.ts';

export interface ClassifiedSource {
  group: SourceGroup;
  classification: Classification;
  enrichment: Enrichment | null;
  row: SourceRow;
}

export function classifySources(
  groups: Iterable<SourceGroup>,
  enrichments: ReadonlyMap<string, Enrichment>,
  matcher: SenderMatcher,
  /** IPs whose facts came from the offline databases only (reverse DNS not looked up yet) */
  notLookedUp: ReadonlySet<string> = new Set(),
): ClassifiedSource[] {
  const out: ClassifiedSource[] = [];
  for (const g of groups) {
    const e = enrichments.get(g.sourceIp) ?? null;
    const identity = matcher.identify({
      ip: g.sourceIp,
      ptr: e?.ptr ?? null,
      forwardConfirmed: e?.forwardConfirmed ?? null,
      asn: e?.asn ?? null,
      dkimPassDomains: g.dkimPassDomains,
    });
    const c = classifyGroup(g, { identity, source: e ? { ptr: e.ptr, forwardConfirmed: e.forwardConfirmed, asn: e.asn, asOrg: e.asOrg } : null });
    if (notLookedUp.has(g.sourceIp)) c.evidence = c.evidence.map((line) => (line === 'no PTR name' ? 'reverse DNS not looked up yet (dmarc-lens enrich)' : line));
    out.push({ group: g, classification: c, enrichment: e, row: sourceRow(g, c, e) });
  }
  return out.sort(
    (a, b) => b.group.messages - a.group.messages || a.group.policyDomain.localeCompare(b.group.policyDomain) || a.group.sourceIp.localeCompare(b.group.sourceIp)
      || (a.group.dkimDomain ?? '').localeCompare(b.group.dkimDomain ?? '') || (a.group.dkimSelector ?? '').localeCompare(b.group.dkimSelector ?? ''),
  );
}

export function sourceRow(g: SourceGroup, c: Classification, e: Enrichment | null): SourceRow {
  return {
    domain: g.policyDomain,
    ip: g.sourceIp,
    reverseDns: e?.ptr ?? null,
    forwardConfirmed: e?.forwardConfirmed ?? null,
    baseDomain: e?.baseDomain ?? null,
    asn: e?.asn ?? null,
    asOrg: e?.asOrg ?? null,
    country: e?.country ?? null,
    service: c.service ? { name: c.service.name, type: c.service.type } : null,
    approved: c.approved,
    dkimDomain: g.dkimDomain,
    dkimSelector: g.dkimSelector,
    headerFrom: g.headerFromDomains[0] ?? null,
    messages: g.messages,
    dmarcPass: g.dmarcPass,
    dmarcFail: g.messages - g.dmarcPass,
    dkimAlignedPass: g.dkimAlignedPass,
    spfAlignedPass: g.spfAlignedPass,
    verdict: c.verdict,
    evidence: c.evidence,
    fix: c.fix,
    likelySpoofing: c.likelySpoofing,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    partial: c.partial,
    breakdown: c.breakdown,
  };
}
