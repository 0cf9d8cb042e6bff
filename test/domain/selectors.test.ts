import { describe, expect, it } from 'vitest';
import { selectorFamily, selectorObservations, summarizeSelectors, type SelectorObservation } from '../../server/domain/selectors.ts';
import type { AggregateRecord } from '../../server/domain/report-types.ts';

const D = 86_400;
const T0 = Date.UTC(2026, 0, 1) / 1000;

function obs(selector: string, day: number, result: string, messages = 10, extra: Partial<SelectorObservation> = {}): SelectorObservation {
  return { policyDomain: 'example.com', dkimDomain: 'example.com', selector, result, messages, begin: T0 + day * D, end: T0 + (day + 1) * D - 1, ...extra };
}

const find = (stats: ReturnType<typeof summarizeSelectors>, selector: string) => stats.find((s) => s.selector === selector)!;

describe('selector statistics', () => {
  it('volume, pass rate, first and last seen per domain and selector', () => {
    const stats = summarizeSelectors([obs('google', 0, 'pass', 95), obs('google', 5, 'fail', 5), obs('google', 9, 'pass', 0)]);
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ selector: 'google', messages: 100, pass: 95, fail: 5, passRate: 0.95, firstSeen: T0, lastSeen: T0 + 6 * D - 1, flags: [] });
  });

  it('keeps domains and signing domains apart', () => {
    const stats = summarizeSelectors([obs('s1', 0, 'pass'), obs('s1', 0, 'pass', 5, { policyDomain: 'example.org' }), obs('s1', 0, 'pass', 5, { dkimDomain: 'sendgrid.net' })]);
    expect(stats).toHaveLength(3);
  });
});

describe('stale selectors (rotation not finished)', () => {
  it('flags the old quarterly selector still signing 45 days after the new one appeared', () => {
    const o = [obs('2026q1sendgrid', 0, 'pass'), obs('2026q2sendgrid', 30, 'pass'), obs('2026q1sendgrid', 75, 'pass')];
    const stats = summarizeSelectors(o);
    expect(find(stats, '2026q1sendgrid').stale).toEqual({ newerSelector: '2026q2sendgrid', newerFirstSeen: T0 + 30 * D, overlapDays: 45 });
    expect(find(stats, '2026q1sendgrid').flags).toEqual(['stale']);
    expect(find(stats, '2026q2sendgrid').stale).toBeNull();
  });

  it('does not flag a finished rotation, or one within the grace period', () => {
    expect(find(summarizeSelectors([obs('2026q1x', 0, 'pass'), obs('2026q2x', 30, 'pass'), obs('2026q1x', 40, 'pass')]), '2026q1x').stale).toBeNull();
    const custom = summarizeSelectors([obs('2026q1x', 0, 'pass'), obs('2026q2x', 30, 'pass'), obs('2026q1x', 40, 'pass')], { staleAfterDays: 5 });
    expect(find(custom, '2026q1x').stale?.overlapDays).toBe(10);
  });

  it('does not compare selectors of different services', () => {
    const o = [obs('google', 0, 'pass', 10, { service: 'Google Workspace' }), obs('s1', 10, 'pass', 10, { service: 'SendGrid' }), obs('google', 90, 'pass', 10, { service: 'Google Workspace' })];
    expect(summarizeSelectors(o).every((s) => s.stale === null)).toBe(true);
  });

  it('groups by service when known, even across name families', () => {
    const o = [obs('old-key', 0, 'pass', 10, { service: 'Zendesk' }), obs('zendesk2', 10, 'pass', 10, { service: 'Zendesk' }), obs('old-key', 90, 'pass', 10, { service: 'Zendesk' })];
    expect(find(summarizeSelectors(o), 'old-key').stale?.newerSelector).toBe('zendesk2');
  });

  it('a newer selector that never passes does not make the old one stale', () => {
    const o = [obs('selector1', 0, 'pass'), obs('selector2', 10, 'permerror'), obs('selector1', 90, 'pass')];
    expect(find(summarizeSelectors(o), 'selector1').stale).toBeNull();
  });

  it('selector families', () => {
    expect(selectorFamily('2017q1VendorName')).toBe('vendorname');
    expect(selectorFamily('selector2')).toBe('selector');
    expect(selectorFamily('s1')).toBe('s');
    expect(selectorFamily('20240601')).toBe('dated');
    expect(selectorFamily('k-2')).toBe('k');
  });
});

describe('failing selectors', () => {
  it('flags any permerror (key missing or malformed)', () => {
    const s = summarizeSelectors([obs('gone', 0, 'pass', 99), obs('gone', 1, 'permerror', 1)])[0]!;
    expect(s.failing).toMatchObject({ permerror: 1 });
    expect(s.failing!.reason).toMatch(/gone\._domainkey\.example\.com is missing or malformed/);
    expect(s.flags).toEqual(['failing']);
  });

  it('flags fail above the share, not below it', () => {
    expect(summarizeSelectors([obs('k', 0, 'pass', 95), obs('k', 1, 'fail', 5)])[0]!.failing).toBeNull();
    expect(summarizeSelectors([obs('k', 0, 'pass', 80), obs('k', 1, 'fail', 20)])[0]!.failing).toMatchObject({ fail: 20, permerror: 0 });
    expect(summarizeSelectors([obs('k', 0, 'pass', 95), obs('k', 1, 'fail', 5)], { failShare: 0.05 })[0]!.failing).not.toBeNull();
  });

  it('a stale and failing selector carries both flags', () => {
    const o = [obs('a1', 0, 'pass'), obs('a2', 10, 'pass'), obs('a1', 90, 'permerror')];
    expect(find(summarizeSelectors(o), 'a1').flags).toEqual(['stale', 'failing']);
  });
});

describe('observations from records', () => {
  it('one per signature with a domain and a selector', () => {
    const rec: AggregateRecord = {
      ordinal: 0, sourceIp: '192.0.2.1', count: 4, disposition: 'none', dkimEval: 'pass', spfEval: 'fail', overrideReasons: [],
      headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null, spf: [], problems: [],
      dkim: [
        { domain: 'Example.com', selector: 'S1', result: 'pass', humanResult: null },
        { domain: 'sendgrid.net', selector: null, result: 'pass', humanResult: null },
      ],
    };
    const header = { begin: T0, end: T0 + D - 1, policy: { domain: 'example.com', adkim: null, aspf: null, p: 'none', sp: null, np: null, pct: null, fo: null, testing: null, discoveryMethod: null } };
    expect(selectorObservations(header, rec, 'SendGrid')).toEqual([
      { policyDomain: 'example.com', dkimDomain: 'example.com', selector: 's1', result: 'pass', messages: 4, begin: T0, end: T0 + D - 1, service: 'SendGrid' },
    ]);
    expect(selectorObservations(header, { ...rec, count: 0 })).toEqual([]);
  });
});
