/** Turning failed lookups into findings, and the wording for absent records (NXDOMAIN vs NODATA). */
import type { DnsAnswer, DnsErrorKind, Finding } from './check-types.ts';
import { finding } from './finding-codes.ts';

/** True for "the record is not there" answers (as opposed to a failure to find out). */
export function isAbsent(answer: DnsAnswer<unknown>): boolean {
  return !answer.ok && (answer.error === 'NXDOMAIN' || answer.error === 'NODATA');
}

/**
 * A finding for a lookup that failed for a reason other than absence, or null.
 * `consequence` says what a receiver does about it (e.g. "SPF evaluation ends in temperror").
 */
export function dnsFailure(answer: DnsAnswer<unknown>, type: string, name: string, consequence: string): Finding | null {
  if (answer.ok || answer.error === 'NXDOMAIN' || answer.error === 'NODATA') return null;
  const tail = consequence ? ` ${consequence}` : '';
  switch (answer.error) {
    case 'SERVFAIL':
      return finding('dns-servfail', `The ${type} lookup for ${name} failed with SERVFAIL (often broken DNSSEC or unreachable name servers).${tail}`);
    case 'TIMEOUT':
      return finding('dns-timeout', `The ${type} lookup for ${name} timed out.${tail}`);
    case 'REFUSED':
      return finding('dns-refused', `The name server refused the ${type} lookup for ${name}.${tail}`);
    default:
      return finding('dns-error', `The ${type} lookup for ${name} failed (${answer.detail}).${tail}`);
  }
}

/** "does not exist (NXDOMAIN)" / "has no TXT record (NODATA)" */
export function describeAbsence(kind: DnsErrorKind, type: string): string {
  return kind === 'NXDOMAIN' ? 'does not exist (NXDOMAIN)' : `has no ${type} record (NODATA)`;
}

/** The joined TXT records of an answer (empty for failures). */
export function txtRecords(answer: DnsAnswer<string[][]>): string[] {
  return answer.ok ? answer.value.map((chunks) => chunks.join('')) : [];
}
