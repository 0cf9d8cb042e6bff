/** The DMARC part of a domain check: discovery, the record's tags, and authorization of external destinations. */
import type { DnsLookup, RecordCheck, ReportedPolicy } from './check-types.ts';
import { dnsFailure } from './dns-findings.ts';
import { discoverDmarc, isPublicSuffix, orgDomainOf } from './dmarc-discovery.ts';
import { analyzeDmarcRecord, type DmarcPolicy } from './dmarc-record.ts';
import { recordCheck } from './finding-codes.ts';
import { analyzeAuthorization, externalDestinations } from './report-auth.ts';

export interface DmarcCheck {
  records: RecordCheck[];
  /** the policy that applies to the domain, null when there is none */
  policy: DmarcPolicy | null;
}

export interface DmarcCheckContext {
  /** what the stored reports show about the published policy (p=none for long) */
  reportedPolicy?: ReportedPolicy | null;
  now?: Date;
}

export async function checkDmarc(domain: string, lookup: DnsLookup, context: DmarcCheckContext = {}): Promise<DmarcCheck> {
  const discovery = await discoverDmarc(domain, lookup);
  const policyDomain = discovery.policyDomain ?? domain;
  const name = `_dmarc.${policyDomain}`;
  if (discovery.record === null) {
    const value = discovery.records.length > 0 ? discovery.records.join(' | ') : null;
    return { records: [recordCheck('dmarc', name, value, discovery.findings)], policy: null };
  }
  const analysis = analyzeDmarcRecord(discovery.record, {
    policyDomain,
    policyDomainIsPublicSuffix: isPublicSuffix(policyDomain),
    ...(context.reportedPolicy ? { reportedPolicy: context.reportedPolicy } : {}),
    ...(context.now ? { now: context.now } : {}),
  });
  const records: RecordCheck[] = [recordCheck('dmarc', name, discovery.record, [...discovery.findings, ...analysis.findings])];

  const destinations = externalDestinations(policyDomain, [...analysis.policy.rua, ...analysis.policy.ruf], orgDomainOf);
  const checks = await Promise.all(
    destinations.map(async (dest) => {
      const answer = await lookup.txt(dest.authName);
      const failure = dnsFailure(answer, 'TXT', dest.authName, 'Receivers cannot confirm the destination and may not send reports there.');
      const findings = failure ? [failure] : analyzeAuthorization(policyDomain, dest, answer);
      const value = answer.ok ? answer.value.map((chunks) => chunks.join('')).join(' | ') : null;
      return recordCheck('report-auth', dest.authName, value, findings);
    }),
  );
  records.push(...checks);
  return { records, policy: analysis.policy };
}
