/**
 * Source rows of the analytics (pure): each SourceGroup with what enrichment knows about its IP, the service and
 * approval it matches, and its classification (verdict, evidence, fix). Largest first.
 *
 * Two steps, because the texts cost most: classifySourceVerdicts gives every group its verdict and counts (what
 * totals, verdict charts, verdict / service / text filters and readiness need), and each VerdictSource's detail()
 * adds the evidence and fix for the rows actually returned. classifySources does both for every group.
 */
import { classifyVerdict, explainVerdict, fixesOf, fixOf, type Classification, type ClassifyContext, type SourceGroup, type VerdictClassification } from '../domain/classify.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import type { SenderMatcher } from '../enrich/known-senders.ts';
import type { SourceRow } from './analytics-types.ts';

export interface ClassifiedSource {
  group: SourceGroup;
  classification: Classification;
  enrichment: Enrichment | null;
  row: SourceRow;
}

/** A source row without its texts: everything the filters, sorts and counts of the Sources view read. */
export type SourceCountsRow = Omit<SourceRow, 'evidence' | 'fix'>;

/** A source classified by verdict only; detail() builds the full classification and row once, on demand. */
export interface VerdictSource {
  group: SourceGroup;
  classification: VerdictClassification;
  enrichment: Enrichment | null;
  row: SourceCountsRow;
  detail(): ClassifiedSource;
  /** fix and per-verdict fixes only (readiness needs them for its blockers) */
  fixes(): Pick<Classification, 'fix' | 'fixes'>;
}

/** What classification knows of a source: its service (by reverse DNS, ASN, passing DKIM domains) and its network. */
export function classifyContextOf(
  source: Pick<SourceGroup, 'sourceIp' | 'dkimPassDomains'>,
  e: Enrichment | null,
  matcher: SenderMatcher,
): ClassifyContext {
  const identity = matcher.identify({
    ip: source.sourceIp,
    ptr: e?.ptr ?? null,
    forwardConfirmed: e?.forwardConfirmed ?? null,
    asn: e?.asn ?? null,
    dkimPassDomains: source.dkimPassDomains,
  });
  return { identity, source: e ? { ptr: e.ptr, forwardConfirmed: e.forwardConfirmed, asn: e.asn, asOrg: e.asOrg } : null };
}

/** Each group's verdict, in the order of `groups`. */
export function classifySourceVerdicts(
  groups: Iterable<SourceGroup>,
  enrichments: ReadonlyMap<string, Enrichment>,
  matcher: SenderMatcher,
  /** IPs whose facts came from the offline databases only (reverse DNS not looked up yet) */
  notLookedUp: ReadonlySet<string> = new Set(),
): VerdictSource[] {
  const out: VerdictSource[] = [];
  for (const g of groups) {
    const e = enrichments.get(g.sourceIp) ?? null;
    const ctx = classifyContextOf(g, e, matcher);
    out.push(verdictSource(g, classifyVerdict(g, ctx), e, ctx, notLookedUp.has(g.sourceIp)));
  }
  return out;
}

/** Each group fully classified, largest first (ties: domain, IP, DKIM domain, selector). */
export function classifySources(
  groups: Iterable<SourceGroup>,
  enrichments: ReadonlyMap<string, Enrichment>,
  matcher: SenderMatcher,
  notLookedUp: ReadonlySet<string> = new Set(),
): ClassifiedSource[] {
  return classifySourceVerdicts(groups, enrichments, matcher, notLookedUp)
    .sort(
      (a, b) => b.group.messages - a.group.messages || a.group.policyDomain.localeCompare(b.group.policyDomain) || a.group.sourceIp.localeCompare(b.group.sourceIp)
        || (a.group.dkimDomain ?? '').localeCompare(b.group.dkimDomain ?? '') || (a.group.dkimSelector ?? '').localeCompare(b.group.dkimSelector ?? ''),
    )
    .map((s) => s.detail());
}

function verdictSource(g: SourceGroup, v: VerdictClassification, e: Enrichment | null, ctx: ClassifyContext, notLookedUp: boolean): VerdictSource {
  let detailed: ClassifiedSource | null = null;
  return {
    group: g,
    classification: v,
    enrichment: e,
    row: countsRow(g, v, e),
    detail() {
      if (detailed === null) {
        const texts = explainVerdict(g, ctx, v);
        if (notLookedUp) texts.evidence = texts.evidence.map((line) => (line === 'no PTR name' ? 'reverse DNS not looked up yet (dmarc-lens enrich)' : line));
        const c: Classification = {
          verdict: v.verdict, messages: v.messages, breakdown: v.breakdown, partial: v.partial,
          evidence: texts.evidence, fix: texts.fix, fixes: texts.fixes,
          likelySpoofing: v.likelySpoofing, service: v.service, approved: v.approved,
        };
        detailed = { group: g, classification: c, enrichment: e, row: sourceRow(g, c, e) };
      }
      return detailed;
    },
    fixes: () => (detailed !== null ? detailed.classification : { fix: fixOf(g, ctx, v), fixes: fixesOf(g, ctx, v) }),
  };
}

export function countsRow(g: SourceGroup, c: VerdictClassification, e: Enrichment | null): SourceCountsRow {
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
    likelySpoofing: c.likelySpoofing,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    partial: c.partial,
    breakdown: c.breakdown,
  };
}

export function sourceRow(g: SourceGroup, c: Classification, e: Enrichment | null): SourceRow {
  const r = countsRow(g, c, e);
  // the API's field order: the texts after the verdict
  return {
    domain: r.domain, ip: r.ip, reverseDns: r.reverseDns, forwardConfirmed: r.forwardConfirmed, baseDomain: r.baseDomain, asn: r.asn,
    asOrg: r.asOrg, country: r.country, service: r.service, approved: r.approved, dkimDomain: r.dkimDomain, dkimSelector: r.dkimSelector,
    headerFrom: r.headerFrom, messages: r.messages, dmarcPass: r.dmarcPass, dmarcFail: r.dmarcFail, dkimAlignedPass: r.dkimAlignedPass,
    spfAlignedPass: r.spfAlignedPass, verdict: r.verdict, evidence: c.evidence, fix: c.fix, likelySpoofing: r.likelySpoofing,
    firstSeen: r.firstSeen, lastSeen: r.lastSeen, partial: r.partial, breakdown: r.breakdown,
  };
}
