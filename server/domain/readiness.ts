/**
 * Policy readiness of a domain (pure): what the published p / sp / pct / np / t mean today, a what-if for
 * p=quarantine and p=reject over the classified sources of the last N days, and one plain-language next step.
 *
 * A message is affected by an enforcing policy when it fails DMARC. Affected messages are split by where
 * they came from:
 *   legitimate  a recognized service or an approved source (these must be fixed before enforcing),
 *   forwarded   forwarding evidence (these fail after any fix on your side; ARC may rescue them),
 *   unknown     everything else (mostly spoofing: enforcing is what stops it).
 * The what-if assumes pct=100 (the whole of the failing mail).
 */
import type { PolicyPublished } from './report-types.ts';
import type { Classification, SourceGroup, Verdict, VerdictClassification } from './classify.ts';

export interface ReadinessSource {
  sourceIp: string;
  /** service name, or null */
  service: string | null;
  /** a recognized sending service (not a hosting network) or an approved source */
  legitimate: boolean;
  verdict: Verdict;
  messages: number;
  dmarcFail: number;
  /** messages of this source with forwarding evidence (or from a forwarder host) */
  forwarded: number;
  /** the fix for its legitimate failing mail when it has some (a blocker's fix), else its verdict's fix */
  fix: string | null;
  /** a label for the source when it has no service: PTR name or IP */
  label?: string | null;
}

export type SourceCategory = 'legitimate' | 'forwarded' | 'unknown';

export interface WhatIfSource {
  sourceIp: string;
  label: string;
  service: string | null;
  category: SourceCategory;
  affected: number;
}

export interface WhatIf {
  policy: 'quarantine' | 'reject';
  /** what would happen to the affected messages */
  effect: string;
  affected: number;
  legitimate: number;
  forwarded: number;
  unknown: number;
  /** per source and category, largest first */
  bySource: WhatIfSource[];
}

export interface Blocker {
  /** service name, or the source label when no service is known */
  name: string;
  sources: string[];
  messages: number;
  fix: string | null;
}

export interface Readiness {
  domain: string;
  days: number;
  messages: number;
  dmarcPass: number;
  meaning: string[];
  whatIf: { quarantine: WhatIf; reject: WhatIf };
  /** legitimate senders that fail DMARC: each must be fixed before enforcing */
  blockers: Blocker[];
  /** sources passing only with SPF (fragile under forwarding), not blockers */
  spfOnly: string[];
  nextStep: string;
}

/**
 * Builds a readiness row from a classified group. A source is legitimate when it is approved or a recognized
 * sending service — also when most of its mail was forwarded or compliant: classification counts the
 * messages of a recognized source that are neither aligned nor forwarded as unsigned-vendor, so any such
 * share marks it, and its fix (not the majority verdict's) is the one a blocker needs.
 *
 * `c` may be a verdict-only classification (classifyVerdict) with `explain` giving its fixes on demand: fix
 * texts are then built only for legitimate sources, the only ones whose fix a readiness answer shows (blockers);
 * other sources get fix null. Building texts for the 100,000+ failing sources of a month was most of its cost.
 */
export function readinessSourceOf(
  g: Pick<SourceGroup, 'sourceIp' | 'messages' | 'dmarcPass'>,
  c: Classification | VerdictClassification,
  label?: string | null,
  explain?: () => Pick<Classification, 'fix' | 'fixes'>,
): ReadinessSource {
  const vendorShare = c.breakdown['unsigned-vendor'] > 0;
  const legitimate = c.approved || vendorShare || (c.service !== null && c.service.type !== 'hosting' && c.verdict !== 'forwarded');
  const texts = 'fix' in c ? c : legitimate && explain ? explain() : null;
  return {
    sourceIp: g.sourceIp,
    service: c.service?.name ?? null,
    legitimate,
    verdict: c.verdict,
    messages: g.messages,
    dmarcFail: g.messages - g.dmarcPass,
    forwarded: c.breakdown.forwarded,
    fix: texts === null ? null : vendorShare && c.verdict !== 'unsigned-vendor' ? (texts.fixes?.['unsigned-vendor'] ?? texts.fix) : texts.fix,
    label: label ?? null,
  };
}

type Policy = Pick<PolicyPublished, 'p' | 'sp' | 'pct' | 'np' | 'testing'>;

const EFFECT: Record<string, string> = {
  none: 'delivered as if there were no policy (monitoring only)',
  quarantine: 'put in spam / junk',
  reject: 'refused at SMTP time (bounced)',
};

function norm(v: string | null | undefined): string | null {
  const s = v?.trim().toLowerCase();
  return s ? s : null;
}

/** Plain-language meaning of the published tags. */
export function describePolicy(policy: Policy): string[] {
  const p = norm(policy.p);
  const out: string[] = [];
  if (!p || !(p in EFFECT)) {
    out.push(`no valid p= tag${p ? ` (p=${p})` : ''}: receivers treat the record as invalid or as p=none`);
  } else if (p === 'none') {
    out.push('p=none: monitoring only; mail that fails DMARC is delivered as if there were no policy, and you receive reports');
  } else {
    out.push(`p=${p}: mail that fails DMARC is ${EFFECT[p]}`);
  }
  const pct = policy.pct;
  if (pct !== null && pct !== undefined && pct < 100 && p && p !== 'none') {
    const weaker = p === 'reject' ? 'quarantine' : 'none';
    out.push(`pct=${pct}: only ${pct}% of failing mail gets p=${p}; the rest is treated as p=${weaker} (pct is deprecated by RFC 9989, where t=y replaces pct=0)`);
  }
  const sp = norm(policy.sp);
  if (sp) out.push(`sp=${sp}: mail from subdomains that fails DMARC is ${EFFECT[sp] ?? `handled by an unknown policy "${sp}"`}`);
  else if (p && p in EFFECT) out.push(`no sp= tag: subdomains inherit p=${p}`);
  const np = norm(policy.np);
  if (np) out.push(`np=${np}: mail from non-existent subdomains that fails DMARC is ${EFFECT[np] ?? `handled by an unknown policy "${np}"`}`);
  if (norm(policy.testing) === 'y') out.push('t=y: testing mode; receivers apply one level weaker (reject → quarantine, quarantine → none)');
  return out;
}

function categorize(s: ReadinessSource): { category: SourceCategory; n: number }[] {
  const failing = Math.max(0, s.dmarcFail);
  const forwarded = Math.min(failing, Math.max(0, s.forwarded));
  const rest = failing - forwarded;
  const out: { category: SourceCategory; n: number }[] = [];
  if (forwarded > 0) out.push({ category: 'forwarded', n: forwarded });
  if (rest > 0) out.push({ category: s.legitimate ? 'legitimate' : 'unknown', n: rest });
  return out;
}

function whatIf(policy: 'quarantine' | 'reject', sources: readonly ReadinessSource[]): WhatIf {
  const w: WhatIf = { policy, effect: EFFECT[policy]!, affected: 0, legitimate: 0, forwarded: 0, unknown: 0, bySource: [] };
  for (const s of sources) {
    for (const { category, n } of categorize(s)) {
      w.affected += n;
      w[category] += n;
      w.bySource.push({ sourceIp: s.sourceIp, label: s.service ?? s.label ?? s.sourceIp, service: s.service, category, affected: n });
    }
  }
  w.bySource.sort((a, b) => b.affected - a.affected || a.sourceIp.localeCompare(b.sourceIp));
  return w;
}

function blockersOf(sources: readonly ReadinessSource[]): Blocker[] {
  const byName = new Map<string, Blocker>();
  for (const s of sources) {
    const n = categorize(s).find((c) => c.category === 'legitimate')?.n ?? 0;
    if (n === 0) continue;
    const name = s.service ?? s.label ?? s.sourceIp;
    const b = byName.get(name) ?? { name, sources: [], messages: 0, fix: s.fix };
    b.messages += n;
    if (!b.sources.includes(s.sourceIp)) b.sources.push(s.sourceIp);
    byName.set(name, b);
  }
  return [...byName.values()].sort((a, b) => b.messages - a.messages || a.name.localeCompare(b.name));
}

export function assessReadiness(domain: string, policy: Policy, sources: readonly ReadinessSource[], days: number): Readiness {
  const messages = sources.reduce((a, s) => a + s.messages, 0);
  const dmarcFail = sources.reduce((a, s) => a + Math.max(0, s.dmarcFail), 0);
  const blockers = blockersOf(sources);
  const spfOnly = [...new Set(sources.filter((s) => s.verdict === 'spf-only').map((s) => s.label ?? s.sourceIp))];
  const quarantine = whatIf('quarantine', sources);
  return {
    domain,
    days,
    messages,
    dmarcPass: messages - dmarcFail,
    meaning: describePolicy(policy),
    whatIf: { quarantine, reject: whatIf('reject', sources) },
    blockers,
    spfOnly,
    nextStep: nextStep(policy, messages, blockers, spfOnly, quarantine, days),
  };
}

function nextStep(policy: Policy, messages: number, blockers: Blocker[], spfOnly: string[], w: WhatIf, days: number): string {
  if (messages === 0) return `no aggregate reports in the last ${days} day(s): wait for reports before changing the policy`;
  const p = norm(policy.p);
  const pct = policy.pct ?? 100;
  const target = p === 'reject' ? 'p=reject at pct=100' : p === 'quarantine' ? 'p=reject' : 'p=quarantine';
  const spfNote = spfOnly.length > 0 ? ` Also sign with DKIM on ${spfOnly.length} source(s) that pass with SPF only (${spfOnly.slice(0, 5).join(', ')}), since forwarding breaks SPF.` : '';
  if (blockers.length > 0) {
    const list = blockers.map((b) => `${b.name} (${b.messages} message(s)${b.fix ? `: ${b.fix}` : ''})`).join('; ');
    const n = `${blockers.length} service(s)`;
    const head =
      p === 'reject' ? `${n} fail DMARC and are being refused now; they must sign with DKIM` :
      p === 'quarantine' ? `${n} fail DMARC and go to spam now; they must sign with DKIM before p=reject` :
      `${n} must sign with DKIM before p=quarantine or p=reject`;
    return `${head}: ${list}.${spfNote}`;
  }
  const unknown = w.unknown > 0 ? ` ${w.unknown} failing message(s) from unknown sources would be stopped.` : '';
  if (p === 'reject' && pct >= 100 && norm(policy.testing) !== 'y') return `p=reject is in force and no known or approved source fails DMARC: keep watching for new senders.${spfNote}`;
  if ((p === 'reject' || p === 'quarantine') && (pct < 100 || norm(policy.testing) === 'y')) {
    return `no known or approved source fails DMARC: raise pct to 100 (and drop t=y) so p=${p} applies to all failing mail.${unknown}${spfNote}`;
  }
  return `ready for ${target}: no known or approved source fails DMARC in the last ${days} day(s).${unknown}${spfNote}`;
}
