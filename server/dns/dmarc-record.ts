/**
 * DMARC policy records (RFC 7489, RFC 9989): picking the record out of the TXT answers, parsing every tag
 * and judging it. Pure: no lookups here (discovery is dmarc-discovery.ts).
 */
import type { Finding, ReportedPolicy } from './check-types.ts';
import { finding } from './finding-codes.ts';
import { describeSize, parseReportUris, type ReportUri } from './report-uri.ts';
import { parseTagList, startsWithVersion, type Tag } from './tag-list.ts';

export type Policy = 'none' | 'quarantine' | 'reject';

export interface DmarcPolicy {
  p: Policy | null;
  sp: Policy | null;
  np: Policy | null;
  pct: number;
  adkim: 'r' | 's';
  aspf: 'r' | 's';
  testing: boolean;
  psd: 'y' | 'n' | 'u';
  rua: ReportUri[];
  ruf: ReportUri[];
}

export interface DmarcAnalysis {
  policy: DmarcPolicy;
  findings: Finding[];
}

const KNOWN_TAGS = new Set(['v', 'p', 'sp', 'np', 'pct', 'rua', 'ruf', 'adkim', 'aspf', 'fo', 'rf', 'ri', 't', 'psd']);
const DEPRECATED_TAGS = ['pct', 'rf', 'ri'];
const POLICIES: readonly string[] = ['none', 'quarantine', 'reject'];
const STRENGTH: Record<Policy, number> = { none: 0, quarantine: 1, reject: 2 };

/** Splits the TXT records at _dmarc into DMARC records, look-alikes that receivers ignore, and the rest. */
export function classifyDmarcTxt(records: readonly string[]): { dmarc: string[]; lookalikes: string[]; others: string[] } {
  const dmarc: string[] = [];
  const lookalikes: string[] = [];
  const others: string[] = [];
  for (const r of records) {
    if (startsWithVersion(r, 'DMARC1')) dmarc.push(r);
    else if (/dmarc|\bp\s*=\s*(none|quarantine|reject)\b/i.test(r)) lookalikes.push(r);
    else others.push(r);
  }
  return { dmarc, lookalikes, others };
}

export interface DmarcContext {
  /** the domain the record was found at (the name is _dmarc.<policyDomain>) */
  policyDomain: string;
  /** true when the policy domain is itself a public suffix (psd=y is expected there) */
  policyDomainIsPublicSuffix: boolean;
  /** what the stored reports show (p= and since when), to tell a new p=none from one left in place for long */
  reportedPolicy?: ReportedPolicy | null;
  /** the time of the check (default: now) */
  now?: Date;
}

/** p=none shown by the reports for this many days or more is "for long": every regular sender has reported by then. */
export const POLICY_NONE_LONG_DAYS = 30;
const DAY_MS = 86_400_000;

export function analyzeDmarcRecord(text: string, ctx: DmarcContext): DmarcAnalysis {
  const findings: Finding[] = [];
  const { tags, byName, problems } = parseTagList(text);
  const name = `_dmarc.${ctx.policyDomain}`;
  const fixWith = (changes: Record<string, string | null>) => `${name} TXT "${rewrite(tags, changes)}"`;

  if (problems.length > 0) findings.push(finding('dmarc-syntax', `Malformed DMARC record: ${problems.join('; ')}.`, fixWith({})));
  for (const t of tags) {
    if (!KNOWN_TAGS.has(t.name)) findings.push(finding('dmarc-unknown-tag', `Unknown tag "${t.name}=${t.value}" is ignored by receivers.`, fixWith({ [t.name]: null })));
  }
  const deprecated = DEPRECATED_TAGS.filter((t) => byName.has(t));
  if (deprecated.length > 0) {
    findings.push(finding('dmarc-deprecated-tag', `${deprecated.map((t) => `${t}=`).join(', ')} ${deprecated.length > 1 ? 'are' : 'is'} removed by RFC 9989 and ignored by newer receivers.`, fixWith(Object.fromEntries(deprecated.map((t) => [t, null])))));
  }

  const pValue = byName.get('p')?.toLowerCase();
  let p: Policy | null = null;
  if (pValue === undefined) findings.push(finding('dmarc-missing-p', 'The record has no p= tag: receivers treat it as p=none (monitoring only).', fixWith({ p: 'none' })));
  else if (POLICIES.includes(pValue)) p = pValue as Policy;
  else findings.push(finding('dmarc-invalid-p', `p=${byName.get('p')} is not none, quarantine or reject.`, fixWith({ p: 'none' })));

  const sp = policyTag('sp', byName, findings, fixWith);
  const np = policyTag('np', byName, findings, fixWith);
  const pct = numberTag('pct', byName, 100, 100, findings, fixWith, 'dmarc-invalid-pct');
  const adkim = alignmentTag('adkim', byName, findings, fixWith);
  const aspf = alignmentTag('aspf', byName, findings, fixWith);
  numberTag('ri', byName, 86400, 2 ** 32 - 1, findings, fixWith, 'dmarc-invalid-ri');
  listTag('fo', byName, ['0', '1', 'd', 's'], findings, fixWith, 'dmarc-invalid-fo');
  listTag('rf', byName, ['afrf'], findings, fixWith, 'dmarc-invalid-rf');
  const t = enumTag('t', byName, ['y', 'n'], 'n', findings, fixWith, 'dmarc-invalid-t');
  const psd = enumTag('psd', byName, ['y', 'n', 'u'], 'u', findings, fixWith, 'dmarc-invalid-psd') as DmarcPolicy['psd'];

  if (p === 'none') {
    const days = policyNoneDays(ctx);
    if (days !== null && days >= POLICY_NONE_LONG_DAYS) {
      findings.push(finding('dmarc-policy-none-long', `p=none for ${days} days: the stored reports show p=none since ${ctx.reportedPolicy?.since.slice(0, 10)}. That is long enough for every regular sender to appear in them; fix the failing ones, then move to quarantine, then reject.`, fixWith({ p: 'quarantine' })));
    } else {
      const sofar = days === null ? '' : ` The stored reports show it for ${days} day${days === 1 ? '' : 's'} so far.`;
      findings.push(finding('dmarc-policy-none', `p=none is monitoring only: mail that fails DMARC is still delivered. Once the reports show all your senders pass, move to quarantine, then reject.${sofar}`, fixWith({ p: 'quarantine' })));
    }
  }
  if (p !== null) {
    const weaker = ([['sp', sp], ['np', np]] as const).filter((e): e is readonly ['sp' | 'np', Policy] => e[1] !== null && STRENGTH[e[1]] < STRENGTH[p]);
    if (weaker.length > 0) {
      const onlyNp = weaker.length === 1 && weaker[0]?.[0] === 'np';
      findings.push(finding('dmarc-subdomain-policy-weaker', `${weaker.map(([k, v]) => `${k}=${v}`).join(', ')} ${weaker.length > 1 ? 'are' : 'is'} weaker than p=${p}: ${onlyNp ? 'names that do not exist' : 'subdomains'} are less protected.`));
    }
  }
  if (pct < 100 && byName.has('pct') && p !== 'none') {
    findings.push(finding('dmarc-pct-partial', `pct=${pct}: RFC 7489 receivers apply the policy to only ${pct}% of failing mail, while RFC 9989 receivers ignore pct and apply it to all of it, so receivers disagree. Remove pct (use t=y instead for a test phase).`, fixWith({ pct: null })));
  }
  if (t === 'y') findings.push(finding('dmarc-testing', 't=y: the policy is in test mode; receivers do not fully apply it.', fixWith({ t: null })));
  if (psd === 'y' && !ctx.policyDomainIsPublicSuffix) {
    findings.push(finding('dmarc-psd-unexpected', `psd=y declares ${ctx.policyDomain} a public suffix domain (like a TLD), which changes how receivers find the organizational domain of its subdomains.`, fixWith({ psd: null })));
  }
  if (adkim === 's' || aspf === 's') {
    findings.push(finding('dmarc-strict-alignment', `Strict ${[adkim === 's' ? 'DKIM' : '', aspf === 's' ? 'SPF' : ''].filter(Boolean).join(' and ')} alignment: only identical domains align, not subdomains.`));
  }

  const rua = uriTag('rua', byName, findings, fixWith);
  const ruf = uriTag('ruf', byName, findings, fixWith);
  if (!byName.has('rua')) {
    findings.push(finding('dmarc-no-rua', 'No rua= tag: no aggregate reports are sent, so dmarc-lens gets no data for this domain.', fixWith({ rua: `mailto:dmarc-reports@${ctx.policyDomain}` })));
  } else if (rua.length > 2) {
    findings.push(finding('dmarc-too-many-rua', `${rua.length} rua= destinations; receivers are only required to send to two of them.`, fixWith({ rua: rua.slice(0, 2).map((u) => u.raw).join(',') })));
  }
  if (byName.has('fo') && !byName.has('ruf')) findings.push(finding('dmarc-fo-without-ruf', 'fo= only controls failure reports, and there is no ruf= to send them to.', fixWith({ fo: null })));
  if (ruf.length > 0) findings.push(finding('dmarc-ruf-requested', 'Failure reports (ruf=) are requested: few receivers send them, and they can contain personal data from the failing messages.'));

  return { policy: { p, sp, np, pct, adkim, aspf, testing: t === 'y', psd, rua, ruf }, findings };
}

type FixWith = (changes: Record<string, string | null>) => string;

/** Whole days the reports have shown p=none up to the check, or null when they do not show p=none (or are unknown). */
function policyNoneDays(ctx: DmarcContext): number | null {
  const reported = ctx.reportedPolicy;
  if (!reported || reported.p.trim().toLowerCase() !== 'none') return null;
  const since = Date.parse(reported.since);
  if (Number.isNaN(since)) return null;
  return Math.max(0, Math.floor(((ctx.now ?? new Date()).getTime() - since) / DAY_MS));
}

function policyTag(tag: 'sp' | 'np', byName: Map<string, string>, findings: Finding[], fixWith: FixWith): Policy | null {
  const raw = byName.get(tag);
  if (raw === undefined) return null;
  if (POLICIES.includes(raw.toLowerCase())) return raw.toLowerCase() as Policy;
  findings.push(finding(tag === 'sp' ? 'dmarc-invalid-sp' : 'dmarc-invalid-np', `${tag}=${raw} is not none, quarantine or reject; it is ignored.`, fixWith({ [tag]: null })));
  return null;
}

function alignmentTag(tag: 'adkim' | 'aspf', byName: Map<string, string>, findings: Finding[], fixWith: FixWith): 'r' | 's' {
  const raw = byName.get(tag);
  if (raw === undefined) return 'r';
  const v = raw.toLowerCase();
  if (v === 'r' || v === 's') return v;
  findings.push(finding(tag === 'adkim' ? 'dmarc-invalid-adkim' : 'dmarc-invalid-aspf', `${tag}=${raw} is not r (relaxed) or s (strict); relaxed is used.`, fixWith({ [tag]: null })));
  return 'r';
}

function numberTag(tag: string, byName: Map<string, string>, dflt: number, max: number, findings: Finding[], fixWith: FixWith, code: 'dmarc-invalid-pct' | 'dmarc-invalid-ri'): number {
  const raw = byName.get(tag);
  if (raw === undefined) return dflt;
  if (/^\d{1,10}$/.test(raw) && Number(raw) <= max) return Number(raw);
  findings.push(finding(code, `${tag}=${raw} is not a whole number from 0 to ${max}; it is ignored.`, fixWith({ [tag]: null })));
  return dflt;
}

function listTag(tag: string, byName: Map<string, string>, allowed: string[], findings: Finding[], fixWith: FixWith, code: 'dmarc-invalid-fo' | 'dmarc-invalid-rf'): void {
  const raw = byName.get(tag);
  if (raw === undefined) return;
  const bad = raw.split(':').map((s) => s.trim().toLowerCase()).filter((v) => !allowed.includes(v));
  if (bad.length > 0) findings.push(finding(code, `${tag}=${raw}: ${bad.map((b) => `"${b}"`).join(', ')} not allowed (only ${allowed.join(', ')}).`, fixWith({ [tag]: null })));
}

function enumTag(tag: string, byName: Map<string, string>, allowed: string[], dflt: string, findings: Finding[], fixWith: FixWith, code: 'dmarc-invalid-t' | 'dmarc-invalid-psd'): string {
  const raw = byName.get(tag);
  if (raw === undefined) return dflt;
  if (allowed.includes(raw.toLowerCase())) return raw.toLowerCase();
  findings.push(finding(code, `${tag}=${raw} is not one of ${allowed.join(', ')}; it is ignored.`, fixWith({ [tag]: null })));
  return dflt;
}

function uriTag(tag: 'rua' | 'ruf', byName: Map<string, string>, findings: Finding[], fixWith: FixWith): ReportUri[] {
  const raw = byName.get(tag);
  if (raw === undefined) return [];
  const uris = parseReportUris(raw);
  const usable: ReportUri[] = [];
  if (uris.length === 0) findings.push(finding(tag === 'rua' ? 'dmarc-invalid-rua' : 'dmarc-invalid-ruf', `${tag}= is empty.`, fixWith({ [tag]: null })));
  for (const u of uris) {
    if (u.problem !== undefined) {
      const rest = uris.filter((x) => x !== u && x.problem === undefined).map((x) => x.raw).join(',');
      findings.push(finding(tag === 'rua' ? 'dmarc-invalid-rua' : 'dmarc-invalid-ruf', `${tag}= destination "${u.raw}": ${u.problem}.`, fixWith({ [tag]: rest === '' ? null : rest })));
      continue;
    }
    usable.push(u);
    if (u.scheme !== 'mailto') {
      const mailto = uris.filter((x) => x.problem === undefined && x.scheme === 'mailto').map((x) => x.raw).join(',');
      findings.push(finding('dmarc-uri-not-mailto', `${tag}= destination "${u.uri}" is not a mailto: address; receivers send reports by mail only.`, fixWith({ [tag]: mailto === '' ? null : mailto })));
    }
    if (u.sizeLimit) {
      findings.push(finding('dmarc-size-limit', `${tag}= destination ${u.address ?? u.uri} has a size limit of ${describeSize(u.sizeLimit.bytes)} (!${u.sizeLimit.raw}): RFC 7489 receivers do not send larger reports there (RFC 9989 drops the suffix, so newer receivers ignore it).`));
    }
  }
  return usable;
}

/** The record text with some tags replaced (value) or removed (null); new tags are appended. v= first, p= second. */
export function rewrite(tags: readonly Tag[], changes: Record<string, string | null>): string {
  const out: string[] = ['v=DMARC1'];
  const seen = new Set<string>(['v']);
  const p = changes['p'] ?? tags.find((t) => t.name === 'p')?.value;
  if (p !== undefined && p !== null) {
    out.push(`p=${p}`);
    seen.add('p');
  }
  for (const t of tags) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    const change = changes[t.name];
    if (change === null) continue;
    out.push(`${t.name}=${change ?? t.value}`);
  }
  for (const [k, v] of Object.entries(changes)) if (!seen.has(k) && v !== null) out.push(`${k}=${v}`);
  return out.join('; ');
}
