/**
 * External report destinations (RFC 7489 7.1, RFC 9989): a rua/ruf address whose organizational domain
 * differs from the policy domain's receives reports only if `<policy-domain>._report._dmarc.<dest>` has a
 * TXT record starting with v=DMARC1. Pure: which destinations need it, and judging the answer.
 */
import type { DnsAnswer, Finding } from './check-types.ts';
import { describeAbsence, txtRecords } from './dns-findings.ts';
import { finding } from './finding-codes.ts';
import type { ReportUri } from './report-uri.ts';
import { startsWithVersion } from './tag-list.ts';

export interface ExternalDestination {
  /** the destination host domain, e.g. "reports.vendor.example" */
  domain: string;
  /** the TXT name that must authorize the policy domain */
  authName: string;
  /** the rua/ruf URIs that go there */
  uris: string[];
}

/** `orgOf` maps a domain to its organizational domain (public suffix list). */
export function externalDestinations(policyDomain: string, uris: readonly ReportUri[], orgOf: (d: string) => string): ExternalDestination[] {
  const byDomain = new Map<string, ExternalDestination>();
  const ownOrg = orgOf(policyDomain);
  for (const u of uris) {
    if (u.scheme !== 'mailto' || u.domain === undefined || u.problem !== undefined) continue;
    if (orgOf(u.domain) === ownOrg) continue;
    const entry = byDomain.get(u.domain) ?? { domain: u.domain, authName: `${policyDomain}._report._dmarc.${u.domain}`, uris: [] };
    entry.uris.push(u.uri);
    byDomain.set(u.domain, entry);
  }
  return [...byDomain.values()];
}

/** Findings for the authorization lookup of one destination (DNS failures are handled by the caller). */
export function analyzeAuthorization(policyDomain: string, dest: ExternalDestination, answer: DnsAnswer<string[][]>): Finding[] {
  const fix = `${dest.authName} TXT "v=DMARC1" (published by the operator of ${dest.domain})`;
  const what = `Reports for ${policyDomain} to ${dest.uris.join(', ')}`;
  if (!answer.ok) {
    return [finding('report-auth-missing', `${what} are not sent: ${dest.domain} has not authorized ${policyDomain} (${dest.authName} ${describeAbsence(answer.error, 'TXT')}).`, fix)];
  }
  const records = txtRecords(answer);
  if (!records.some((r) => startsWithVersion(r, 'DMARC1'))) {
    return [finding('report-auth-invalid', `${what} are not sent: ${dest.authName} exists but holds no record starting with v=DMARC1 ("${(records[0] ?? '').slice(0, 60)}").`, fix)];
  }
  return [];
}
