/**
 * checkDomain: every live DNS check for one domain (DMARC, report authorization, SPF, DKIM selectors,
 * MX, MTA-STS, TLS-RPT, BIMI) as one DomainCheck. Lookups go through the injected DnsLookup; nothing throws
 * except for a name that is not a domain (InvalidDomainError).
 */
import { domainToASCII } from 'node:url';
import { analyzeBimi } from './bimi.ts';
import { checkDkim } from './check-dkim.ts';
import { checkDmarc, type DmarcCheck } from './check-dmarc.ts';
import { checkSpf } from './check-spf.ts';
import { checkMtaSts, checkMx, checkTlsRpt, type MxCheck } from './check-transport.ts';
import {
  InvalidDomainError,
  type DnsLookup,
  type DomainCheck,
  type PolicyFetcher,
  type RecordCheck,
  type RecordType,
  type ReportedPolicy,
  type ReportSource,
} from './check-types.ts';
import { dnsFailure, txtRecords } from './dns-findings.ts';
import { createPolicyFetcher } from './fetch-policy.ts';
import { finding, recordCheck } from './finding-codes.ts';

export interface CheckOptions {
  resolver: DnsLookup;
  /** DKIM selectors to check: those seen in stored reports plus any asked for */
  selectors?: string[];
  /** MTA-STS policy fetcher; default: HTTPS GET with a timeout (fetch-policy.ts) */
  fetchPolicy?: PolicyFetcher;
  now?: () => Date;
  /** source IPs from aggregate reports whose SPF domain was this domain, to check SPF coverage */
  reportSources?: ReportSource[];
  /** the DMARC policy the stored reports show and since when, to flag p=none left in place for long */
  reportedPolicy?: ReportedPolicy | null;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Lower-case A-label form of a domain name, or null when it is not one. */
export function normalizeDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '');
  if (trimmed === '' || /[\s/@:]/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed).toLowerCase();
  if (ascii === '' || ascii.length > 253) return null;
  return ascii.split('.').every((l) => LABEL.test(l)) ? ascii : null;
}

export async function checkDomain(input: string, opts: CheckOptions): Promise<DomainCheck> {
  const domain = normalizeDomain(input);
  if (domain === null) throw new InvalidDomainError(input);
  const now = opts.now ?? (() => new Date());
  const started = now();
  const checkedAt = started.toISOString();
  const lookup = opts.resolver;
  const fetchPolicy = opts.fetchPolicy ?? createPolicyFetcher();

  const noPolicy: DmarcCheck = { records: [], policy: null };
  const noMx: MxCheck = { record: recordCheck('mx', domain, null, []), hosts: [], nullMx: false, domainExists: true };
  const [dmarc, mx, dkim, tlsRpt] = await Promise.all([
    guard('dmarc', `_dmarc.${domain}`, () => checkDmarc(domain, lookup, { reportedPolicy: opts.reportedPolicy ?? null, now: started }), (r) => ({ ...noPolicy, records: [r] })),
    guard('mx', domain, () => checkMx(domain, lookup), (r) => ({ ...noMx, record: r })),
    guard('dkim', `_domainkey.${domain}`, () => checkDkim(domain, opts.selectors ?? [], lookup), (r) => [r]),
    guard('tls-rpt', `_smtp._tls.${domain}`, () => checkTlsRpt(domain, lookup), (r) => r),
  ]);
  const [spf, mtaSts, bimi] = await Promise.all([
    guard('spf', domain, () => checkSpf(domain, lookup, opts.reportSources ?? [], mx.nullMx), (r) => r),
    guard('mta-sts', `_mta-sts.${domain}`, () => checkMtaSts(domain, mx.hosts, lookup, fetchPolicy), (r) => [r]),
    guard('bimi', `default._bimi.${domain}`, () => checkBimi(domain, lookup, dmarc), (r) => r),
  ]);
  return { domain, checked_at: checkedAt, records: [...dmarc.records, spf, ...dkim, mx.record, ...mtaSts, tlsRpt, bimi] };
}

async function checkBimi(domain: string, lookup: DnsLookup, dmarc: DmarcCheck): Promise<RecordCheck> {
  const name = `default._bimi.${domain}`;
  const answer = await lookup.txt(name);
  const failure = dnsFailure(answer, 'TXT', name, 'Mailbox providers show no logo.');
  if (failure) return recordCheck('bimi', name, null, [failure]);
  const records = txtRecords(answer);
  return recordCheck('bimi', name, records.length > 0 ? records.join(' | ') : null, analyzeBimi(domain, records, dmarc.policy));
}

/** Runs one part of the check; an unexpected exception becomes a finding on that record instead of a crash. */
async function guard<T>(type: RecordType, name: string, run: () => Promise<T>, fallback: (r: RecordCheck) => T): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return fallback(recordCheck(type, name, null, [finding('dns-error', `The ${type} check failed unexpectedly (${why}).`)]));
  }
}
