import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/synthetic-aggregate.ts';
import { classifyGroup, classifyVerdict, VERDICTS, type ClassifyContext, type SourceGroup, type Verdict } from '../../server/domain/classify.ts';
import { readinessSourceOf } from '../../server/domain/readiness.ts';
import type { ServiceMatch } from '../../server/enrich/known-senders.ts';

/** deterministic generator (seeded), so a failure names a reproducible case */
const rng = mulberry32;

function generated(n: number): { g: SourceGroup; ctx: ClassifyContext }[] {
  const rnd = rng(0xc1a55);
  // small counts make ties between verdicts (precedence order) frequent
  const count = () => (rnd() < 0.3 ? 0 : rnd() < 0.5 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 1000));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: { g: SourceGroup; ctx: ClassifyContext }[] = [];
  for (let i = 0; i < n; i++) {
    const [dkimAlignedPass, forwardEvidenceNoDkim, spfOnlyNoDkim, neitherNoDkim] = [count(), count(), count(), count()];
    const messages = dkimAlignedPass + forwardEvidenceNoDkim + spfOnlyNoDkim + neitherNoDkim;
    const signed = rnd() < 0.7;
    const g: SourceGroup = {
      policyDomain: 'example.com', sourceIp: `192.0.2.${i % 250}`,
      dkimDomain: signed ? pick(['example.com', 'mail.example.com', 'sendgrid.net']) : null, dkimSelector: signed ? pick(['s1', null]) : null,
      messages, dkimAlignedPass, spfAlignedPass: Math.min(messages, dkimAlignedPass + spfOnlyNoDkim), dmarcPass: dkimAlignedPass + spfOnlyNoDkim,
      forwardEvidenceNoDkim, spfOnlyNoDkim, neitherNoDkim, arcEvidence: Math.min(forwardEvidenceNoDkim, count()),
      overrideReasons: forwardEvidenceNoDkim > 0 ? { forwarded: forwardEvidenceNoDkim } : {},
      keyResults: signed ? { pass: dkimAlignedPass, fail: messages - dkimAlignedPass } : { none: messages },
      dkimPassDomains: dkimAlignedPass > 0 ? ['example.com'] : [], headerFromDomains: ['example.com'],
      firstSeen: 1_700_000_000, lastSeen: 1_700_086_399,
    };
    const service: ServiceMatch | null = rnd() < 0.4 ? null : {
      name: pick(['SendGrid', 'Google Workspace', 'Some Host', 'Lists']), type: pick(['esp', 'hosting', 'mailbox']) as ServiceMatch['type'], via: 'ptr', key: 'x',
      forwarder: rnd() < 0.25, mailingList: rnd() < 0.2, selector: rnd() < 0.5 ? 's1' : null, sendsForCustomers: rnd() < 0.7,
    };
    const approved = rnd() < 0.15;
    out.push({ g, ctx: { identity: { service, approved, approvedBy: approved ? 'ip 192.0.2.1' : null }, source: rnd() < 0.5 ? { ptr: 'mx.example.net', forwardConfirmed: true, asn: 64500 } : null } });
  }
  return out;
}

/** the documented rule (classify.ts header), written out independently of the implementation */
function expectedVerdict(g: SourceGroup, ctx: ClassifyContext): Verdict {
  const svc = ctx.identity.service;
  const rest = g.spfOnlyNoDkim + g.neitherNoDkim;
  const by: Record<Verdict, number> = { compliant: g.dkimAlignedPass, forwarded: g.forwardEvidenceNoDkim, 'unsigned-vendor': 0, 'spf-only': 0, failing: 0 };
  if (svc?.forwarder) by.forwarded += rest;
  else if (ctx.identity.approved || (svc?.sendsForCustomers ?? false)) by['unsigned-vendor'] = rest;
  else Object.assign(by, { 'spf-only': g.spfOnlyNoDkim, failing: g.neitherNoDkim });
  const max = Math.max(...Object.values(by));
  return VERDICTS.find((v) => by[v] === max)!;
}

describe('classifyVerdict', () => {
  const cases = generated(20_000);

  it('gives classifyGroup’s verdict, counts and flags for 20,000 generated groups', () => {
    const seen = new Set<string>();
    for (const { g, ctx } of cases) {
      const v = classifyVerdict(g, ctx);
      const c = classifyGroup(g, ctx);
      expect(v.verdict).toBe(c.verdict);
      expect(v.verdict).toBe(expectedVerdict(g, ctx));
      expect(v.breakdown).toEqual(c.breakdown);
      expect([v.partial, v.likelySpoofing, v.approved, v.messages]).toEqual([c.partial, c.likelySpoofing, c.approved, c.messages]);
      expect(v.service).toEqual(c.service);
      expect('evidence' in v || 'fix' in v).toBe(false);
      seen.add(`${v.verdict}${v.partial ? ' partial' : ''}${v.likelySpoofing ? ' spoofing' : ''}`);
    }
    // the generator reaches every verdict, mixed groups and the spoofing flag
    for (const v of VERDICTS) expect([...seen].some((s) => s.split(' ')[0] === v)).toBe(true);
    expect([...seen].some((s) => s.includes('partial'))).toBe(true);
    expect([...seen].some((s) => s.includes('spoofing'))).toBe(true);
  });

  it('readiness rows from verdicts alone equal those from full classifications, texts built only for legitimate sources', () => {
    let explained = 0;
    let legitimate = 0;
    for (const { g, ctx } of cases.slice(0, 5000)) {
      const c = classifyGroup(g, ctx);
      const full = readinessSourceOf(g, c, 'label');
      const lazy = readinessSourceOf(g, classifyVerdict(g, ctx), 'label', () => {
        explained++;
        return { fix: c.fix, fixes: c.fixes };
      });
      if (full.legitimate) {
        legitimate++;
        expect(lazy).toEqual(full);
      } else expect(lazy).toEqual({ ...full, fix: null });
    }
    expect(legitimate).toBeGreaterThan(0);
    expect(explained).toBe(legitimate);
  });
});
