import { describe, expect, it } from 'vitest';
import { addRecordToGroups, classifyGroup, type SourceGroup } from '../../server/domain/classify.ts';
import { assessReadiness, describePolicy, readinessSourceOf, type ReadinessSource } from '../../server/domain/readiness.ts';
import type { AggregateRecord, PolicyPublished } from '../../server/domain/report-types.ts';
import { createSenderMatcher, type SenderFacts } from '../../server/enrich/known-senders.ts';

const POLICY: PolicyPublished = { domain: 'example.com', adkim: null, aspf: null, p: 'none', sp: null, np: null, pct: null, fo: null, testing: null, discoveryMethod: null };
const HEADER = { begin: Date.UTC(2026, 2, 1) / 1000, end: Date.UTC(2026, 2, 2) / 1000 - 1, policy: POLICY };

function rec(ip: string, count: number, dkim: [string, string, string][], spf: [string, string][], reasons: string[] = []): AggregateRecord {
  return {
    ordinal: 0, sourceIp: ip, count, disposition: 'none', dkimEval: null, spfEval: null,
    overrideReasons: reasons.map((type) => ({ type, comment: null })),
    headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null,
    dkim: dkim.map(([domain, selector, result]) => ({ domain, selector, result, humanResult: null })),
    spf: spf.map(([domain, result]) => ({ domain, result, scope: 'mfrom', humanResult: null })),
    problems: [],
  };
}

/** the last 30 days of example.com, built from records: every source's expected fate is known */
function scenario(): ReadinessSource[] {
  const facts: Record<string, SenderFacts> = {
    '209.85.220.41': { ptr: 'mail-sor-f41.google.com', forwardConfirmed: true, asn: 15169 },
    '167.89.1.1': { asn: 11377 },
    '192.161.144.1': { asn: 21880 },
  };
  const records = [
    rec('209.85.220.41', 1000, [['example.com', 'google', 'pass']], [['example.com', 'pass']]), // compliant
    rec('167.89.1.1', 150, [['sendgrid.net', 's', 'pass']], [['em.example.com', 'pass']]), // SendGrid, SPF ok
    rec('167.89.1.1', 50, [['sendgrid.net', 's', 'pass']], [['sendgrid.net', 'pass']]), // SendGrid, fails DMARC
    rec('192.161.144.1', 40, [], [['zendesk.com', 'pass']]), // Zendesk, fails DMARC
    rec('203.0.113.9', 30, [['example.com', 'google', 'fail']], [['lists.example.org', 'pass']], ['forwarded']),
    rec('198.51.100.66', 500, [], [['example.com', 'fail']]), // spoofing
    rec('192.0.2.25', 100, [], [['example.com', 'pass']]), // own server, SPF only
  ];
  const groups = new Map<string, SourceGroup>();
  for (const r of records) addRecordToGroups(groups, HEADER, r);
  const matcher = createSenderMatcher();
  return [...groups.values()].map((g) => {
    const f = facts[g.sourceIp] ?? {};
    const c = classifyGroup(g, { identity: matcher.identify({ ip: g.sourceIp, dkimPassDomains: g.dkimPassDomains, ...f }), source: f });
    return readinessSourceOf(g, c, f.ptr ?? null);
  });
}

describe('policy readiness what-if', () => {
  it('counts affected messages by source, split into legitimate, forwarded and unknown', () => {
    const r = assessReadiness('example.com', POLICY, scenario(), 30);
    expect(r.messages).toBe(1870);
    expect(r.dmarcPass).toBe(1250);
    for (const w of [r.whatIf.quarantine, r.whatIf.reject]) {
      expect(w).toMatchObject({ affected: 620, legitimate: 90, forwarded: 30, unknown: 500 });
      expect(w.bySource.map((s) => [s.sourceIp, s.category, s.affected])).toEqual([
        ['198.51.100.66', 'unknown', 500],
        ['167.89.1.1', 'legitimate', 50],
        ['192.161.144.1', 'legitimate', 40],
        ['203.0.113.9', 'forwarded', 30],
      ]);
    }
    expect(r.whatIf.quarantine.effect).toMatch(/spam/);
    expect(r.whatIf.reject.effect).toMatch(/refused/);
  });

  it('names the services that must sign before enforcing, with their fixes', () => {
    const r = assessReadiness('example.com', POLICY, scenario(), 30);
    expect(r.blockers.map((b) => [b.name, b.messages])).toEqual([['SendGrid', 50], ['Zendesk', 40]]);
    expect(r.spfOnly).toEqual(['192.0.2.25']);
    expect(r.nextStep).toMatch(/^2 service\(s\) must sign with DKIM before p=quarantine or p=reject: SendGrid \(50 message\(s\): enable custom DKIM for SendGrid and publish selector s1\); Zendesk \(40 message\(s\): enable custom DKIM for Zendesk and publish selector zendesk1\)\./);
    expect(r.nextStep).toMatch(/1 source\(s\) that pass with SPF only \(192\.0\.2\.25\)/);
    const q = assessReadiness('example.com', { ...POLICY, p: 'quarantine' }, scenario(), 30);
    expect(q.nextStep).toMatch(/^2 service\(s\) fail DMARC and go to spam now; they must sign with DKIM before p=reject/);
  });

  it('says what to do when nothing legitimate fails', () => {
    const clean = scenario().filter((s) => !['167.89.1.1', '192.161.144.1'].includes(s.sourceIp));
    expect(assessReadiness('example.com', POLICY, clean, 30).nextStep).toMatch(/^ready for p=quarantine: .* 500 failing message\(s\) from unknown sources would be stopped/);
    expect(assessReadiness('example.com', { ...POLICY, p: 'quarantine' }, clean, 30).nextStep).toMatch(/^ready for p=reject/);
    expect(assessReadiness('example.com', { ...POLICY, p: 'quarantine', pct: 20 }, clean, 30).nextStep).toMatch(/raise pct to 100/);
    expect(assessReadiness('example.com', { ...POLICY, p: 'reject' }, clean, 30).nextStep).toMatch(/^p=reject is in force/);
    expect(assessReadiness('example.com', POLICY, [], 30).nextStep).toMatch(/no aggregate reports in the last 30 day/);
  });

  it('a recognized vendor stays legitimate when most of its failing mail was forwarded or it is mostly compliant', () => {
    const matcher = createSenderMatcher();
    const m365: SenderFacts = { ptr: 'mail-am6eur05on2052.outbound.protection.outlook.com', forwardConfirmed: true, asn: 8075 };
    const rowsOf = (records: AggregateRecord[]) => {
      const groups = new Map<string, SourceGroup>();
      for (const r of records) addRecordToGroups(groups, HEADER, r);
      return [...groups.values()].map((g) => {
        const c = classifyGroup(g, { identity: matcher.identify({ ip: g.sourceIp, dkimPassDomains: g.dkimPassDomains, ...m365 }), source: m365 });
        return readinessSourceOf(g, c, m365.ptr);
      });
    };
    // 60 forwarded (the majority: verdict forwarded), 40 simply unsigned by Microsoft 365
    const forwarded = rowsOf([rec('40.107.1.2', 60, [], [], ['forwarded']), rec('40.107.1.2', 40, [], [])]);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({ verdict: 'forwarded', legitimate: true, fix: 'enable custom DKIM for Microsoft 365 and publish selector selector1' });
    const r = assessReadiness('example.com', POLICY, forwarded, 30);
    expect(r.whatIf.reject).toMatchObject({ affected: 100, legitimate: 40, forwarded: 60, unknown: 0 });
    expect(r.blockers).toEqual([{ name: 'Microsoft 365', sources: ['40.107.1.2'], messages: 40, fix: 'enable custom DKIM for Microsoft 365 and publish selector selector1' }]);
    expect(r.nextStep).toMatch(/^1 service\(s\) must sign with DKIM/);

    // one key signature, 70 passing (verdict compliant, no fix of its own), 30 failing: the blocker still says what to do
    const sig: [string, string, string][] = [['example.com', 'selector1', 'pass']];
    const mostly = rowsOf([rec('40.107.1.3', 70, sig, []), rec('40.107.1.3', 30, [['example.com', 'selector1', 'fail']], [])]);
    expect(mostly).toHaveLength(1);
    expect(mostly[0]).toMatchObject({ verdict: 'compliant', legitimate: true });
    const b = assessReadiness('example.com', POLICY, mostly, 30).blockers;
    expect(b.map((x) => [x.name, x.messages])).toEqual([['Microsoft 365', 30]]);
    expect(b[0]!.fix).toMatch(/^Microsoft 365 signs with d=example\.com s=selector1 but the signature fails/);
  });

  it('an unknown source is never legitimate, whatever its majority verdict', () => {
    const groups = new Map<string, SourceGroup>();
    addRecordToGroups(groups, HEADER, rec('198.51.100.7', 60, [], [], ['forwarded']));
    addRecordToGroups(groups, HEADER, rec('198.51.100.7', 40, [], []));
    const [g] = [...groups.values()];
    const c = classifyGroup(g!, { identity: createSenderMatcher().identify({ ip: '198.51.100.7' }) });
    const row = readinessSourceOf(g!, c);
    expect(row).toMatchObject({ verdict: 'forwarded', legitimate: false });
    expect(assessReadiness('example.com', POLICY, [row], 30).whatIf.reject).toMatchObject({ legitimate: 0, forwarded: 60, unknown: 40 });
  });

  it('never counts more affected messages than a source failed', () => {
    const row: ReadinessSource = { sourceIp: '192.0.2.1', service: null, legitimate: false, verdict: 'forwarded', messages: 10, dmarcFail: 4, forwarded: 9, fix: null };
    const r = assessReadiness('example.com', POLICY, [row], 7);
    expect(r.whatIf.reject).toMatchObject({ affected: 4, forwarded: 4, unknown: 0 });
  });
});

describe('meaning of the published policy', () => {
  it('p=none', () => {
    expect(describePolicy(POLICY).join('\n')).toMatch(/monitoring only[\s\S]*subdomains inherit p=none/);
  });

  it('p=quarantine with pct, sp, np and t=y', () => {
    const text = describePolicy({ p: 'quarantine', pct: 25, sp: 'reject', np: 'reject', testing: 'y' }).join('\n');
    expect(text).toMatch(/p=quarantine: mail that fails DMARC is put in spam/);
    expect(text).toMatch(/pct=25: only 25% .* treated as p=none/);
    expect(text).toMatch(/sp=reject: mail from subdomains .* refused/);
    expect(text).toMatch(/np=reject: mail from non-existent subdomains/);
    expect(text).toMatch(/t=y: testing mode/);
  });

  it('p=reject with pct below 100 falls back to quarantine', () => {
    expect(describePolicy({ p: 'reject', pct: 50, sp: null, np: null, testing: null }).join('\n')).toMatch(/treated as p=quarantine/);
  });

  it('a missing or unknown p', () => {
    expect(describePolicy({ p: null, pct: null, sp: null, np: null, testing: null })[0]).toMatch(/no valid p= tag/);
    const invalid = describePolicy({ p: 'block', pct: null, sp: null, np: null, testing: null });
    expect(invalid[0]).toMatch(/p=block/);
    expect(invalid.join('\n')).not.toMatch(/inherit/); // nothing to inherit from an invalid p
  });
});
