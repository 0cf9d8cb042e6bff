/**
 * Finding the DMARC record that applies to a domain: `_dmarc.<domain>`, else the RFC 9989 DNS tree walk up
 * the parents, compared with the RFC 7489 way (the organizational domain from the public suffix list).
 */
import { getDomain, getPublicSuffix } from 'tldts';
import type { DnsLookup, Finding } from './check-types.ts';
import { describeAbsence, dnsFailure, txtRecords } from './dns-findings.ts';
import { classifyDmarcTxt } from './dmarc-record.ts';
import { finding } from './finding-codes.ts';

/** RFC 9989 tree walk: a name with this many labels or more is cut to TREE_WALK_KEEP labels after the first query. */
const TREE_WALK_LONG = 8;
const TREE_WALK_KEEP = 7;

export interface DmarcDiscovery {
  /** the domain whose _dmarc record applies; null when none was found (or a DNS failure stopped the walk) */
  policyDomain: string | null;
  /** the one DMARC record found */
  record: string | null;
  /** every DMARC record at the name where the walk stopped (several when dmarc-multiple) */
  records: string[];
  /** the organizational domain per the public suffix list (RFC 7489), null for a public suffix itself */
  pslOrgDomain: string | null;
  /** the organizational domain per the RFC 9989 tree walk (psd= aware); null when no record was found or a DNS failure stopped it */
  treeWalkOrgDomain: string | null;
  findings: Finding[];
}

/** The names the tree walk queries (without the _dmarc prefix), nearest first. */
export function treeWalkNames(domain: string): string[] {
  const labels = domain.split('.');
  const names = [domain];
  let count = labels.length;
  if (count >= TREE_WALK_LONG) count = TREE_WALK_KEEP;
  else count -= 1;
  for (; count >= 1; count--) names.push(labels.slice(labels.length - count).join('.'));
  return names;
}

export function isPublicSuffix(domain: string): boolean {
  return getPublicSuffix(domain, { allowPrivateDomains: false }) === domain && getDomain(domain) === null;
}

export function orgDomainOf(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: false }) ?? domain;
}

/**
 * RFC 9989 organizational domain: walk up from the domain; a record with psd=n makes its domain the
 * organizational domain, psd=y makes it the name one label below; otherwise the record with the fewest
 * labels wins, and the domain itself when there is none. Null when a DNS failure stops the walk.
 */
export async function treeWalkOrg(domain: string, lookup: DnsLookup): Promise<string | null> {
  const names = treeWalkNames(domain);
  let highest: string | null = null;
  for (const name of names) {
    const answer = await lookup.txt(`_dmarc.${name}`);
    if (dnsFailure(answer, 'TXT', name, '')) return null;
    const { dmarc } = classifyDmarcTxt(txtRecords(answer));
    if (dmarc.length !== 1) continue;
    const psd = /(?:^|;)\s*psd\s*=\s*([ynu])\s*(?:;|$)/i.exec(dmarc[0] ?? '')?.[1]?.toLowerCase();
    if (psd === 'n') return name;
    if (psd === 'y') {
      if (name === domain) return domain;
      const labels = domain.split('.');
      return labels.slice(labels.length - name.split('.').length - 1).join('.');
    }
    highest = name;
  }
  return highest ?? domain;
}

type NameOutcome = { kind: 'found'; dmarc: string[] } | { kind: 'absent'; why: string } | { kind: 'failed' };

export async function discoverDmarc(domain: string, lookup: DnsLookup): Promise<DmarcDiscovery> {
  const pslOrgDomain = getDomain(domain, { allowPrivateDomains: false });
  const findings: Finding[] = [];
  const notFound = (policyDomain: string | null, records: string[]): DmarcDiscovery => ({ policyDomain, record: null, records, pslOrgDomain, treeWalkOrgDomain: null, findings });
  const seen = new Map<string, NameOutcome>();
  let found: { name: string; dmarc: string[] } | null = null;

  for (const name of treeWalkNames(domain)) {
    const outcome = await queryName(name, lookup, findings, name === domain);
    seen.set(name, outcome);
    if (outcome.kind === 'failed') return notFound(null, []);
    if (outcome.kind === 'found') {
      found = { name, dmarc: outcome.dmarc };
      break;
    }
  }

  if (found === null) {
    const org = pslOrgDomain ?? domain;
    const exact = seen.get(domain);
    const why = exact?.kind === 'absent' ? ` (_dmarc.${domain} ${exact.why})` : '';
    findings.push(finding('dmarc-missing', `No DMARC record for ${domain}${why}${org !== domain ? ' nor at any parent domain' : ''}: receivers apply no policy and send no reports.`, `_dmarc.${org} TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@${org}"`));
    return notFound(null, []);
  }
  if (found.dmarc.length > 1) {
    findings.push(finding('dmarc-multiple', `_dmarc.${found.name} has ${found.dmarc.length} DMARC records; receivers discard them all, so no policy applies.`, `Keep exactly one TXT record starting with v=DMARC1 at _dmarc.${found.name}.`));
    return notFound(found.name, found.dmarc);
  }
  const record = found.dmarc[0] ?? null;
  if (found.name !== domain) {
    findings.push(finding('dmarc-inherited', `${domain} has no DMARC record of its own; the record of ${found.name} applies (its sp= for subdomains, np= for names that do not exist).`));
  }

  // RFC 7489 receivers query the exact name, then only the PSL organizational domain.
  let differs = false;
  if (found.name !== domain && pslOrgDomain !== null && pslOrgDomain !== found.name) {
    differs = true;
    const legacy = seen.get(pslOrgDomain) ?? (await queryName(pslOrgDomain, lookup, [], false));
    const legacyFinds = legacy.kind === 'found' && legacy.dmarc.length === 1;
    findings.push(finding('dmarc-discovery-differs', legacyFinds
      ? `RFC 7489 receivers (public suffix list) use the record of ${pslOrgDomain}, while RFC 9989 receivers (DNS tree walk) use the record of ${found.name}.`
      : `RFC 7489 receivers (public suffix list) look only at _dmarc.${pslOrgDomain}, which has no usable record, so they apply no policy; RFC 9989 receivers (DNS tree walk) use the record of ${found.name}.`));
  }
  // For alignment, RFC 9989 receivers take the organizational domain from the tree walk (psd= aware).
  const orgByWalk = await treeWalkOrg(domain, lookup);
  if (!differs && orgByWalk !== null && pslOrgDomain !== null && orgByWalk !== pslOrgDomain) {
    findings.push(finding('dmarc-discovery-differs', `The organizational domain of ${domain} is ${pslOrgDomain} by the public suffix list (RFC 7489) but ${orgByWalk} by the DNS tree walk (RFC 9989, psd= tags), so relaxed alignment differs between receivers.`));
  }
  return { policyDomain: found.name, record, records: found.dmarc, pslOrgDomain, treeWalkOrgDomain: orgByWalk, findings };
}

async function queryName(name: string, lookup: DnsLookup, findings: Finding[], report: boolean): Promise<NameOutcome> {
  const qname = `_dmarc.${name}`;
  const answer = await lookup.txt(qname);
  const failure = dnsFailure(answer, 'TXT', qname, 'Receivers treat this as a temporary error and apply no policy for now.');
  if (failure) {
    findings.push(failure);
    return { kind: 'failed' };
  }
  const { dmarc, lookalikes, others } = classifyDmarcTxt(txtRecords(answer));
  if (report) {
    for (const r of lookalikes) {
      findings.push(finding('dmarc-invalid-version', `The TXT record "${r}" at ${qname} looks like DMARC but does not start with exactly "v=DMARC1;", so receivers ignore it.`, `${qname} TXT "v=DMARC1; ${r.replace(/^\s*v\s*=[^;]*;?\s*/i, '')}"`));
    }
    for (const r of others) findings.push(finding('dmarc-stray-txt', `${qname} has a TXT record that is not a DMARC record: "${r.slice(0, 80)}".`));
  }
  if (dmarc.length > 0) return { kind: 'found', dmarc };
  if (!answer.ok) return { kind: 'absent', why: describeAbsence(answer.error, 'TXT') };
  return { kind: 'absent', why: 'has TXT records but none is a DMARC record' };
}
