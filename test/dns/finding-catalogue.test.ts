/**
 * Runs every scenario of the test zone through checkDomain against the loopback DNS server and checks
 * that each code of the finding catalogue is produced at least once, with the catalogue's severity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDomain } from '../../server/dns/check-domain.ts';
import type { DomainCheck } from '../../server/dns/check-types.ts';
import { FINDING_CATALOGUE, statusOf } from '../../server/dns/finding-codes.ts';
import { createResolver } from '../../server/dns/resolver.ts';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy, SCENARIOS, ZONE } from '../fixtures/dns/zone.ts';
import { SCENARIO_ADDITIONS, ZONE_ADDITIONS, type AuditScenario } from './zone-additions.ts';

let dns: FakeDns;
const results: DomainCheck[] = [];

beforeAll(async () => {
  dns = await startFakeDns({ ...ZONE, ...ZONE_ADDITIONS });
  // a retry makes the suite tolerant of a loaded machine; names that never answer get a short timeout instead
  const resolver = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2 });
  const impatient = createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
  const scenarios: AuditScenario[] = [...SCENARIOS, ...SCENARIO_ADDITIONS];
  for (const s of scenarios) {
    results.push(await checkDomain(s.domain, { resolver: s.slow ? impatient : resolver, fetchPolicy: fakeFetchPolicy, selectors: s.selectors ?? [], reportSources: s.reportSources ?? [], reportedPolicy: s.reportedPolicy ?? null }));
  }
});
afterAll(async () => {
  await dns.stop();
});

describe('finding catalogue', () => {
  it('has unique kebab-case codes, each with a severity and a meaning', () => {
    const codes = FINDING_CATALOGUE.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of FINDING_CATALOGUE) {
      expect(c.code).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(['error', 'warning', 'info']).toContain(c.severity);
      expect(c.meaning.length).toBeGreaterThan(10);
    }
  });

  it.each(FINDING_CATALOGUE.map((c) => [c.code, c.severity] as const))('%s is produced by a scenario (severity %s)', (code, severity) => {
    const found = results.flatMap((r) => r.records.flatMap((rec) => rec.findings)).filter((f) => f.code === code);
    const dnsFailures = results.flatMap((r) => r.records.filter((rec) => rec.findings.some((f) => f.code.startsWith('dns-'))).map((rec) => `${rec.name}: ${rec.findings[0]?.message}`));
    expect(found.length, `no scenario in test/fixtures/dns/zone.ts or test/dns/zone-additions.ts produces ${code}; DNS failures seen: ${dnsFailures.join(' / ')}`).toBeGreaterThan(0);
    for (const f of found) {
      expect(f.severity).toBe(severity);
      expect(f.message.length).toBeGreaterThan(10);
    }
  });

  it('derives every record status from its findings', () => {
    for (const r of results.flatMap((c) => c.records)) expect(r.status).toBe(statusOf(r.findings));
  });
});
