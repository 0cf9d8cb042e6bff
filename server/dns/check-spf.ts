/**
 * The SPF part of a domain check: the one record, its own problems, the lookup walk, and which report
 * source IPs it authorizes today.
 */
import type { DnsLookup, Finding, RecordCheck, ReportSource } from './check-types.ts';
import { describeAbsence, dnsFailure } from './dns-findings.ts';
import { finding, recordCheck } from './finding-codes.ts';
import { checkHost, type SpfResult } from './spf-eval.ts';
import { walkSpf } from './spf-lookups.ts';
import { analyzeTopSpf, isSpfRecord, parseSpf } from './spf-record.ts';

/** at most this many distinct source IPs are evaluated per check */
export const MAX_SOURCES_EVALUATED = 200;
const CONCURRENCY = 8;
const LISTED = 10;

export async function checkSpf(domain: string, lookup: DnsLookup, sources: readonly ReportSource[] = [], nullMx = false): Promise<RecordCheck> {
  const answer = await lookup.txt(domain);
  const failure = dnsFailure(answer, 'TXT', domain, 'Receivers get SPF temperror.');
  if (failure) return recordCheck('spf', domain, null, [failure]);
  const strings = answer.ok ? answer.value : [];
  const spf = strings.map((s) => s.join('')).filter(isSpfRecord);
  if (spf.length === 0) {
    const why = answer.ok ? 'has TXT records but none starts with v=spf1' : describeAbsence(answer.error, 'TXT');
    return recordCheck('spf', domain, null, [
      finding('spf-missing', `No SPF record: ${domain} ${why}. SPF results are "none", so DMARC relies on DKIM alone.`, `${domain} TXT "${nullMx ? 'v=spf1 -all' : 'v=spf1 mx ~all'}"`),
    ]);
  }
  if (spf.length > 1) {
    return recordCheck('spf', domain, spf.join(' | '), [finding('spf-multiple', `${domain} has ${spf.length} SPF records; receivers return permerror, so SPF fails for all mail.`, `Merge them into one TXT record starting with v=spf1.`)]);
  }
  const record = spf[0] ?? '';
  const parsed = parseSpf(record);
  const findings: Finding[] = [...analyzeTopSpf(domain, record, parsed)];
  const walk = await walkSpf(domain, record, lookup);
  const chunks = strings.find((c) => isSpfRecord(c.join('')))?.length ?? 1;
  for (const f of walk.findings) {
    // a record split into strings is joined without spaces: "…ip4:192.0.2.1" "ip4:…" becomes one bad term
    if (f.code === 'spf-syntax' && chunks > 1 && f.message.includes(`the record of ${domain}:`)) {
      findings.push({ ...f, message: `${f.message} The record is split into ${chunks} strings, which receivers join without a space: end each string with a space.` });
    } else findings.push(f);
  }
  const answerBytes = txtResponseSize(domain, strings);
  if (answerBytes > 512) {
    findings.push(finding('spf-large-txt-answer', `The TXT answer for ${domain} (${strings.length} record${strings.length === 1 ? '' : 's'}) is ${answerBytes} bytes; it does not fit in a plain 512-byte UDP packet, so resolvers must retry over TCP (some fail). Remove stale verification records.`));
  }
  if (sources.length > 0) findings.push(...(await coverage(domain, lookup, sources)));
  return recordCheck('spf', domain, record, findings);
}

/**
 * Size of the DNS response that carries these TXT records (RFC 1035 4.1): the 12-byte header, the question
 * (name, type, class) and per record a compressed owner name (2), type, class, TTL and length (10) and its
 * character-strings with their length bytes. This is what has to fit in 512 bytes over plain UDP.
 */
export function txtResponseSize(name: string, records: readonly (readonly string[])[]): number {
  const qname = name.replace(/\.$/, '').split('.').reduce((n, label) => n + Buffer.byteLength(label) + 1, 1);
  const rdata = (chunks: readonly string[]) => chunks.reduce((n, c) => n + Buffer.byteLength(c) + 1, 0);
  return 12 + qname + 4 + records.reduce((n, chunks) => n + 12 + rdata(chunks), 0);
}

async function coverage(domain: string, lookup: DnsLookup, sources: readonly ReportSource[]): Promise<Finding[]> {
  const seen = new Map<string, { passed: boolean; failed: boolean }>();
  for (const s of sources) {
    const ip = s.ip.trim();
    if (ip === '') continue;
    const entry = seen.get(ip) ?? { passed: false, failed: false };
    if (s.spfPassed) entry.passed = true;
    else entry.failed = true;
    seen.set(ip, entry);
  }
  const ips = [...seen.keys()].slice(0, MAX_SOURCES_EVALUATED);
  const results = new Map<string, SpfResult>();
  for (let i = 0; i < ips.length; i += CONCURRENCY) {
    const batch = ips.slice(i, i + CONCURRENCY);
    const out = await Promise.all(batch.map((ip) => checkHost(ip, domain, lookup)));
    batch.forEach((ip, j) => results.set(ip, out[j] ?? 'temperror'));
  }
  const covered = ips.filter((ip) => results.get(ip) === 'pass');
  const list = (xs: string[]) => xs.slice(0, LISTED).map((ip) => `${ip} (${results.get(ip)})`).join(', ') + (xs.length > LISTED ? `, and ${xs.length - LISTED} more` : '');
  const failedNotCovered = ips.filter((ip) => seen.get(ip)?.failed && results.get(ip) !== 'pass');
  const failedNowCovered = ips.filter((ip) => seen.get(ip)?.failed && !seen.get(ip)?.passed && results.get(ip) === 'pass');
  const passedNotCovered = ips.filter((ip) => seen.get(ip)?.passed && results.get(ip) !== 'pass');
  const skipped = seen.size - ips.length;
  const findings: Finding[] = [
    finding('spf-sources-covered', `${covered.length} of ${ips.length} source IPs seen in reports are authorized by the record now${skipped > 0 ? ` (${skipped} more not evaluated)` : ''}.`),
  ];
  if (failedNotCovered.length > 0) {
    findings.push(finding('spf-sources-not-covered', `Source IPs that failed SPF in reports and are still not authorized: ${list(failedNotCovered)}. If they are your senders, add them (ip4:/ip6: or the provider's include:); if not, they are spoofing and DMARC handles them.`));
  }
  if (passedNotCovered.length > 0) {
    findings.push(finding('spf-passed-source-not-covered', `Source IPs that passed SPF in reports are not authorized by the record as published now: ${list(passedNotCovered)}. The record changed since, or they passed for another envelope domain.`));
  }
  if (failedNowCovered.length > 0) {
    findings.push(finding('spf-failed-source-now-covered', `Source IPs that failed SPF in reports are authorized now (the record was fixed since): ${list(failedNowCovered)}.`));
  }
  return findings;
}
