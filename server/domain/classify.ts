/**
 * Sender classification (pure): DMARC identifier alignment, per-record authentication facts, grouping of
 * records by (policy domain, source IP, DKIM signing domain / selector), and one verdict per group.
 *
 * Verdicts, in order of precedence:
 *   compliant       DKIM aligned and passing
 *   forwarded       reporter override forwarded / mailing_list / trusted_forwarder, ARC evidence, or a known
 *                   forwarder / mailing-list host, with DKIM broken or absent
 *   unsigned-vendor a recognized service or approved source, not DKIM-aligned (SPF may pass)
 *   spf-only        unrecognized, not DKIM-aligned, aligned SPF passes
 *   failing         none of the above (likelySpoofing when the source is on an unknown network)
 *
 * Partially passing groups: every message of a group gets the verdict its own facts earn (the counts of a
 * group keep the joint split needed for that), and the group takes the verdict that covers the MOST
 * messages; a tie goes to the verdict earlier in the precedence order. `breakdown` keeps all counts and
 * `partial` says the group was mixed, so a 70 % compliant / 30 % unsigned group reads "compliant, partial"
 * and its evidence names the 30 %. A threshold rule (e.g. "compliant only above 95 %") was rejected: it
 * hides a mostly-good sender behind a bad label and needs a magic number per verdict.
 */
import { getDomain } from 'tldts';
import type { AggregateHeader, AggregateRecord, DkimResult } from './report-types.ts';
import type { SenderIdentity } from '../enrich/known-senders.ts';

// ---------------------------------------------------------------- alignment

export type AlignmentMode = 'r' | 's';

/** adkim / aspf as published; anything but 's' is relaxed (the default). */
export function alignmentMode(tag: string | null | undefined): AlignmentMode {
  return tag?.trim().toLowerCase() === 's' ? 's' : 'r';
}

function cleanDomain(d: string | null | undefined): string | null {
  if (!d) return null;
  const s = d.trim().toLowerCase().replace(/\.$/, '');
  return s === '' ? null : s;
}

/**
 * Organizational domain by the public suffix list, INCLUDING its private section (github.io, amazonaws.com
 * tenants are separate organizations: two tenants must never align with each other). A public suffix itself
 * ("co.uk") is its own organizational domain, so it aligns with nothing under it.
 */
export function organizationalDomain(domain: string | null | undefined): string | null {
  const d = cleanDomain(domain);
  if (!d) return null;
  let org = orgDomains.get(d);
  if (org === undefined) {
    org = getDomain(d, { allowPrivateDomains: true }) ?? d;
    // bounded: reports name a few thousand domains at most; a flood of distinct names only costs re-computation
    if (orgDomains.size >= MAX_ORG_MEMO) orgDomains.clear();
    // keys of their own: `d` may be a slice of a large parser buffer, which the memo must not keep alive
    if (d.length <= 253) orgDomains.set(d.length >= 13 ? (' ' + d).slice(1) : d, org.length >= 13 ? (' ' + org).slice(1) : org);
  }
  return org;
}

/** the public-suffix look-up costs microseconds, and every record asks it about the same few domains */
const orgDomains = new Map<string, string>();
const MAX_ORG_MEMO = 10_000;

/** DMARC identifier alignment of `a` (RFC5322.From domain) with `b` (DKIM d= / SPF domain). */
export function isAligned(a: string | null | undefined, b: string | null | undefined, mode: AlignmentMode | string | null | undefined): boolean {
  const x = cleanDomain(a);
  const y = cleanDomain(b);
  if (!x || !y) return false;
  if (alignmentMode(mode) === 's') return x === y;
  return organizationalDomain(x) === organizationalDomain(y);
}

// ---------------------------------------------------------------- one record

type PolicyForAlignment = { domain: string | null; adkim: string | null; aspf: string | null };

export interface RecordAuth {
  headerFrom: string | null;
  dkimAligned: boolean;
  spfAligned: boolean;
  dmarcPass: boolean;
  /** override reason forwarded / mailing_list / trusted_forwarder, or ARC mentioned in an override comment */
  forwardEvidence: boolean;
  arcEvidence: boolean;
  /** the signature the record is grouped by (see keySignature) */
  signature: DkimResult | null;
  /** signing domains of passing signatures (any domain) */
  dkimPassDomains: string[];
}

const isPass = (v: string | null | undefined): boolean => v?.trim().toLowerCase() === 'pass';
const FORWARD_REASONS = new Set(['forwarded', 'mailing_list', 'trusted_forwarder']);
const ARC_COMMENT = /\barc\b/i;

/**
 * The signature a record is grouped under: aligned and passing, else aligned, else passing, else the first.
 */
export function keySignature(dkim: readonly DkimResult[], headerFrom: string | null, adkim: string | null): DkimResult | null {
  const aligned = (d: DkimResult) => isAligned(headerFrom, d.domain, adkim);
  const pass = (d: DkimResult) => isPass(d.result);
  return dkim.find((d) => aligned(d) && pass(d)) ?? dkim.find(aligned) ?? dkim.find(pass) ?? dkim[0] ?? null;
}

/**
 * Alignment is computed from auth_results with the published adkim/aspf; the reporter's policy_evaluated
 * pass also counts (it saw the real message, and some reporters list fewer auth results than they used).
 */
export function evaluateRecord(rec: AggregateRecord, policy: PolicyForAlignment): RecordAuth {
  const headerFrom = cleanDomain(rec.headerFrom) ?? cleanDomain(policy.domain);
  const dkimAligned = rec.dkim.some((d) => isPass(d.result) && isAligned(headerFrom, d.domain, policy.adkim)) || isPass(rec.dkimEval);
  const mailFrom = rec.spf.filter((s) => s.scope?.trim().toLowerCase() !== 'helo');
  const spfResults = mailFrom.length > 0 ? mailFrom : rec.spf;
  const spfAligned =
    spfResults.some((s) => isPass(s.result) && isAligned(headerFrom, s.domain ?? rec.envelopeFrom, policy.aspf)) || isPass(rec.spfEval);
  const arcEvidence = rec.overrideReasons.some((o) => o.comment !== null && ARC_COMMENT.test(o.comment));
  const forwardEvidence = arcEvidence || rec.overrideReasons.some((o) => FORWARD_REASONS.has(o.type.trim().toLowerCase()));
  const dkimPassDomains = [...new Set(rec.dkim.filter((d) => isPass(d.result)).map((d) => cleanDomain(d.domain)).filter((d): d is string => d !== null))];
  return {
    headerFrom,
    dkimAligned,
    spfAligned,
    dmarcPass: dkimAligned || spfAligned,
    forwardEvidence,
    arcEvidence,
    signature: keySignature(rec.dkim, headerFrom, policy.adkim),
    dkimPassDomains,
  };
}

// ---------------------------------------------------------------- groups

export interface SourceGroup {
  policyDomain: string;
  sourceIp: string;
  /** the key signature's domain and selector (null: unsigned) */
  dkimDomain: string | null;
  dkimSelector: string | null;
  messages: number;
  dkimAlignedPass: number;
  spfAlignedPass: number;
  dmarcPass: number;
  /** joint split of the messages WITHOUT aligned DKIM pass: */
  forwardEvidenceNoDkim: number;
  spfOnlyNoDkim: number;
  neitherNoDkim: number;
  /** messages with ARC evidence (subset of forward evidence) */
  arcEvidence: number;
  /** override reason type → messages */
  overrideReasons: Record<string, number>;
  /** result of the key signature → messages ('none' when unsigned) */
  keyResults: Record<string, number>;
  /** signing domains of passing signatures seen (at most 16) */
  dkimPassDomains: string[];
  /** header_from domains seen (at most 16) */
  headerFromDomains: string[];
  /** epoch seconds: earliest report begin, latest report end */
  firstSeen: number;
  lastSeen: number;
}

export function groupKey(policyDomain: string, sourceIp: string, dkimDomain: string | null, dkimSelector: string | null): string {
  return [policyDomain, sourceIp, dkimDomain ?? '', dkimSelector ?? ''].join('\u0000');
}

const MAX_LISTED = 16;

function addDistinct(list: string[], v: string | null): void {
  if (v && list.length < MAX_LISTED && !list.includes(v)) list.push(v);
}

/**
 * Adds one record to its group (created on first use). `count` defaults to the record's count; a pro-rated
 * share may be passed instead. Records with no usable count add nothing.
 */
export function addRecordToGroups(
  groups: Map<string, SourceGroup>,
  header: Pick<AggregateHeader, 'begin' | 'end' | 'policy'>,
  rec: AggregateRecord,
  count: number = rec.count,
): SourceGroup | null {
  if (!Number.isFinite(count) || count <= 0) return null;
  const auth = evaluateRecord(rec, header.policy);
  const policyDomain = cleanDomain(header.policy.domain) ?? auth.headerFrom ?? '';
  const sourceIp = rec.sourceIp?.trim() || 'unknown';
  const dkimDomain = cleanDomain(auth.signature?.domain);
  const dkimSelector = auth.signature?.selector?.trim().toLowerCase() || null;
  const key = groupKey(policyDomain, sourceIp, dkimDomain, dkimSelector);
  let g = groups.get(key);
  if (!g) {
    g = {
      policyDomain, sourceIp, dkimDomain, dkimSelector,
      messages: 0, dkimAlignedPass: 0, spfAlignedPass: 0, dmarcPass: 0,
      forwardEvidenceNoDkim: 0, spfOnlyNoDkim: 0, neitherNoDkim: 0, arcEvidence: 0,
      overrideReasons: {}, keyResults: {}, dkimPassDomains: [], headerFromDomains: [],
      firstSeen: header.begin, lastSeen: header.end,
    };
    groups.set(key, g);
  }
  g.messages += count;
  if (auth.dkimAligned) g.dkimAlignedPass += count;
  if (auth.spfAligned) g.spfAlignedPass += count;
  if (auth.dmarcPass) g.dmarcPass += count;
  if (!auth.dkimAligned) {
    if (auth.forwardEvidence) g.forwardEvidenceNoDkim += count;
    else if (auth.spfAligned) g.spfOnlyNoDkim += count;
    else g.neitherNoDkim += count;
  }
  if (auth.arcEvidence) g.arcEvidence += count;
  for (const o of rec.overrideReasons) {
    const t = o.type.trim().toLowerCase() || 'unspecified';
    g.overrideReasons[t] = (g.overrideReasons[t] ?? 0) + count;
  }
  const r = auth.signature?.result?.trim().toLowerCase() || 'none';
  g.keyResults[r] = (g.keyResults[r] ?? 0) + count;
  for (const d of auth.dkimPassDomains) addDistinct(g.dkimPassDomains, d);
  addDistinct(g.headerFromDomains, auth.headerFrom);
  g.firstSeen = Math.min(g.firstSeen, header.begin);
  g.lastSeen = Math.max(g.lastSeen, header.end);
  return g;
}

// ---------------------------------------------------------------- verdict

export const VERDICTS = ['compliant', 'forwarded', 'unsigned-vendor', 'spf-only', 'failing'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What enrichment found about the source (all optional: classification works without it). */
export interface SourceFacts {
  ptr?: string | null;
  forwardConfirmed?: boolean | null;
  asn?: number | null;
  asOrg?: string | null;
}

export interface ClassifyContext {
  identity: SenderIdentity;
  source?: SourceFacts | null;
  /** year used in a suggested selector name ("2026sendgrid"); default: the year of the group's lastSeen */
  year?: number;
}

export interface Classification {
  verdict: Verdict;
  messages: number;
  breakdown: Record<Verdict, number>;
  /** the group's messages did not all earn the same verdict */
  partial: boolean;
  evidence: string[];
  /** what to do about the verdict's messages (null: nothing) */
  fix: string | null;
  /**
   * The fix for every verdict that covers some of the group's messages, so a partial group's minority is not
   * left without one (a mostly compliant vendor whose other messages are unsigned still needs "enable custom
   * DKIM…"). Optional: a classification built without classifyGroup may leave it out.
   */
  fixes?: Partial<Record<Verdict, string>>;
  likelySpoofing: boolean;
  service: { name: string; type: string; via: string } | null;
  approved: boolean;
}

/** A group's verdict and counts without the evidence and fix texts (classifyVerdict). */
export type VerdictClassification = Omit<Classification, 'evidence' | 'fix' | 'fixes'>;

/**
 * The verdict part of classifyGroup, without building evidence and fix strings (about 6 µs a group, most of a
 * classification): what counts, charts, verdict filters and readiness what-ifs need over 100,000+ groups.
 * classifyGroup is this plus explainVerdict, so the two cannot disagree. It reads only the group's counts, so a
 * caller may pass just those (readiness does: GroupSet.verdictFacts, no lists built for 100,000+ groups).
 */
export function classifyVerdict(
  g: Pick<SourceGroup, 'messages' | 'dkimAlignedPass' | 'forwardEvidenceNoDkim' | 'spfOnlyNoDkim' | 'neitherNoDkim'>,
  ctx: ClassifyContext,
): VerdictClassification {
  const svc = ctx.identity.service;
  const approved = ctx.identity.approved;
  const isForwarderHost = svc !== null && svc.forwarder;
  const recognized = approved || (svc !== null && svc.sendsForCustomers && !svc.forwarder);
  const rest = g.spfOnlyNoDkim + g.neitherNoDkim;

  const breakdown: Record<Verdict, number> = { compliant: g.dkimAlignedPass, forwarded: g.forwardEvidenceNoDkim, 'unsigned-vendor': 0, 'spf-only': 0, failing: 0 };
  if (isForwarderHost) breakdown.forwarded += rest;
  else if (recognized) breakdown['unsigned-vendor'] = rest;
  else {
    breakdown['spf-only'] = g.spfOnlyNoDkim;
    breakdown.failing = g.neitherNoDkim;
  }

  let verdict: Verdict = 'failing';
  let best = -1;
  let present = 0;
  for (const v of VERDICTS) {
    if (breakdown[v] > 0) present++;
    if (breakdown[v] > best) {
      best = breakdown[v];
      verdict = v;
    }
  }
  const likelySpoofing = verdict === 'failing' && unknownNetwork(ctx);
  return {
    verdict,
    messages: g.messages,
    breakdown,
    partial: present > 1,
    likelySpoofing,
    service: svc ? { name: svc.name, type: svc.type, via: svc.via } : null,
    approved,
  };
}

/** neither approved nor a service that sends for its customers */
function unknownNetwork(ctx: ClassifyContext): boolean {
  const svc = ctx.identity.service;
  return !ctx.identity.approved && (svc === null || !svc.sendsForCustomers);
}

/** The fix for each verdict that covers some of the group's messages (Classification.fixes). */
export function fixesOf(g: SourceGroup, ctx: ClassifyContext, v: VerdictClassification): Partial<Record<Verdict, string>> {
  const fixes: Partial<Record<Verdict, string>> = {};
  for (const verdict of VERDICTS) {
    if (v.breakdown[verdict] <= 0) continue;
    const f = fixFor(verdict, g, ctx, verdict === 'failing' && unknownNetwork(ctx));
    if (f !== null) fixes[verdict] = f;
  }
  return fixes;
}

/** The fix for the group's own verdict (Classification.fix). */
export function fixOf(g: SourceGroup, ctx: ClassifyContext, v: VerdictClassification): string | null {
  return fixFor(v.verdict, g, ctx, v.likelySpoofing);
}

/** The texts classifyVerdict leaves out: evidence, fix and per-verdict fixes, for the rows actually shown. */
export function explainVerdict(g: SourceGroup, ctx: ClassifyContext, v: VerdictClassification): Pick<Classification, 'evidence' | 'fix' | 'fixes'> {
  return { evidence: describeEvidence(g, ctx, v.breakdown, v.verdict), fix: fixOf(g, ctx, v), fixes: fixesOf(g, ctx, v) };
}

export function classifyGroup(g: SourceGroup, ctx: ClassifyContext): Classification {
  const v = classifyVerdict(g, ctx);
  const { evidence, fix, fixes } = explainVerdict(g, ctx, v);
  return {
    verdict: v.verdict,
    messages: v.messages,
    breakdown: v.breakdown,
    partial: v.partial,
    evidence,
    fix,
    fixes,
    likelySpoofing: v.likelySpoofing,
    service: v.service,
    approved: v.approved,
  };
}

const pct = (n: number, of: number): string => `${of > 0 ? Math.round((100 * n) / of) : 0}%`;

function describeEvidence(g: SourceGroup, ctx: ClassifyContext, breakdown: Record<Verdict, number>, verdict: Verdict): string[] {
  const e: string[] = [];
  const m = g.messages;
  e.push(`${m} message(s): DKIM aligned pass ${g.dkimAlignedPass} (${pct(g.dkimAlignedPass, m)}), SPF aligned pass ${g.spfAlignedPass} (${pct(g.spfAlignedPass, m)}), DMARC pass ${g.dmarcPass} (${pct(g.dmarcPass, m)})`);
  if (g.dkimDomain) {
    const results = Object.entries(g.keyResults).map(([r, n]) => `${r} ${n}`).join(', ');
    const alignment = keyAlignment(g);
    const note = alignment === 'aligned' ? '' : alignment === 'strict-only' ? ' (not aligned: adkim=s needs the exact From domain)' : ' (not aligned with the From domain)';
    e.push(`DKIM d=${g.dkimDomain} s=${g.dkimSelector ?? '(none)'}: ${results}${note}`);
  } else e.push('no DKIM signature');
  const reasons = Object.entries(g.overrideReasons);
  if (reasons.length > 0) e.push(`reporter override reasons: ${reasons.map(([t, n]) => `${t} ${n}`).join(', ')}`);
  if (g.arcEvidence > 0) e.push(`ARC mentioned for ${g.arcEvidence} message(s)`);
  const id = ctx.identity;
  if (id.service) e.push(`service: ${id.service.name} (${id.service.type}, matched by ${id.service.via} ${id.service.key})`);
  if (id.approved) e.push(`approved source (${id.approvedBy})`);
  const s = ctx.source;
  if (s) {
    if (s.ptr) e.push(`PTR ${s.ptr} (${s.forwardConfirmed === true ? 'forward-confirmed' : s.forwardConfirmed === false ? 'NOT forward-confirmed' : 'unconfirmed'})`);
    else e.push('no PTR name');
    if (s.asn != null) e.push(`AS${s.asn}${s.asOrg ? ` ${s.asOrg}` : ''}`);
  }
  for (const v of VERDICTS) {
    if (v !== verdict && breakdown[v] > 0) e.push(`partial: ${breakdown[v]} message(s) (${pct(breakdown[v], m)}) ${v}`);
  }
  return e;
}

/**
 * Whether the group's key signature aligns with the From domain under the PUBLISHED adkim. The group keeps no
 * policy, but its counts tell: an aligned key signature that passes makes its messages DKIM-aligned, so fewer
 * aligned passes than passes of a relaxed-aligned key signature means adkim=s refused it ('strict-only').
 * A key signature that never passed is judged by relaxed alignment.
 */
function keyAlignment(g: SourceGroup): 'aligned' | 'strict-only' | 'unaligned' {
  if (!g.dkimDomain || !isAligned(g.headerFromDomains[0] ?? g.policyDomain, g.dkimDomain, 'r')) return 'unaligned';
  const pass = g.keyResults.pass ?? 0;
  return pass > 0 && g.dkimAlignedPass < pass ? 'strict-only' : 'aligned';
}

/** "SendGrid" → "sendgrid"; used in the suggested one-selector-per-vendor name ("2026sendgrid"). */
export function selectorSlug(name: string): string {
  return name.toLowerCase().replace(/\(.*?\)/g, '').replace(/[^a-z0-9]+/g, '').slice(0, 40) || 'vendor';
}

function suggestedSelector(g: SourceGroup, ctx: ClassifyContext, name: string): string {
  const year = ctx.year ?? new Date(g.lastSeen * 1000).getUTCFullYear();
  return `${year}${selectorSlug(name)}`;
}

function fixFor(verdict: Verdict, g: SourceGroup, ctx: ClassifyContext, likelySpoofing: boolean): string | null {
  const domain = g.headerFromDomains[0] ?? g.policyDomain;
  const svc = ctx.identity.service;
  switch (verdict) {
    case 'compliant':
      return null;
    case 'forwarded':
      return svc?.mailingList
        ? `nothing to fix for mail relayed by ${svc.name}: keep DKIM-signing all mail with d=${domain} (DKIM survives relaying when the list does not modify the message)`
        : `nothing to fix at the forwarder: keep DKIM-signing all mail with d=${domain}, since DKIM survives forwarding and SPF does not`;
    case 'unsigned-vendor': {
      const name = svc?.name ?? ctx.source?.ptr ?? `source ${g.sourceIp}`;
      const alignment = keyAlignment(g);
      if (alignment === 'strict-only') {
        return `${name} signs with d=${g.dkimDomain}, which adkim=s does not accept for ${domain}: have ${name} sign with d=${domain}, or publish adkim=r`;
      }
      const ownSigFailing = alignment === 'aligned' && g.dkimAlignedPass < g.messages;
      if (ownSigFailing && g.dkimSelector) {
        return `${name} signs with d=${g.dkimDomain} s=${g.dkimSelector} but the signature fails: publish the key ${name} shows at ${g.dkimSelector}._domainkey.${g.dkimDomain}`;
      }
      const selector = svc?.selector ?? suggestedSelector(g, ctx, svc?.name ?? 'mail');
      return `enable custom DKIM for ${name} and publish selector ${selector}`;
    }
    case 'spf-only':
      return `sign this server's mail with DKIM (d=${domain}): SPF alone fails as soon as the mail is forwarded`;
    case 'failing':
      return likelySpoofing
        ? `likely spoofing from an unknown network: nothing to authorize; p=quarantine or p=reject stops it`
        : `if this source sends for ${domain}, authorize it (DKIM-sign with d=${domain} or add it to SPF); otherwise p=reject stops it`;
  }
}
