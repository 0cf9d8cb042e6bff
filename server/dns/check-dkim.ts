/**
 * The DKIM part of a domain check: one key record per selector (those seen in reports and those asked
 * for), plus the historic ADSP, SSP and DomainKeys policy records, flagged as obsolete when present.
 */
import type { DnsLookup, Finding, RecordCheck } from './check-types.ts';
import { describeAbsence, dnsFailure, txtRecords } from './dns-findings.ts';
import { analyzeDkimKey, looksLikeDkimKey } from './dkim-record.ts';
import { finding, recordCheck } from './finding-codes.ts';

/** at most this many selectors are looked up per check */
export const MAX_SELECTORS = 50;
const SELECTOR = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

export function normalizeSelectors(selectors: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of selectors) {
    const v = s.trim().toLowerCase().replace(/\.$/, '');
    if (v !== '' && v.length <= 200) out.add(v);
  }
  return [...out].slice(0, MAX_SELECTORS);
}

export async function checkDkim(domain: string, selectors: readonly string[], lookup: DnsLookup): Promise<RecordCheck[]> {
  const wanted = normalizeSelectors(selectors);
  const records: RecordCheck[] = [];
  if (wanted.length === 0) {
    records.push(recordCheck('dkim', `<selector>._domainkey.${domain}`, null, [
      finding('dkim-no-selectors', `No DKIM selector is known for ${domain}: none was given (--selector) and no stored report names one.`),
    ]));
  }
  records.push(...(await Promise.all(wanted.map((s) => checkSelector(domain, s, lookup)))));
  records.push(...(await historicRecords(domain, lookup)));
  return records;
}

async function checkSelector(domain: string, selector: string, lookup: DnsLookup): Promise<RecordCheck> {
  const name = `${selector}._domainkey.${domain}`;
  if (!SELECTOR.test(selector)) {
    return recordCheck('dkim', name, null, [finding('dkim-key-missing', `"${selector}" is not a valid selector, so no key can exist for it.`)]);
  }
  const answer = await lookup.txt(name);
  const failure = dnsFailure(answer, 'TXT', name, 'Verifiers get temperror for signatures with this selector.');
  if (failure) return recordCheck('dkim', name, null, [failure]);
  const keys = txtRecords(answer).filter(looksLikeDkimKey);
  if (keys.length === 0) {
    const why = answer.ok ? 'has TXT records but none is a DKIM key' : describeAbsence(answer.error, 'TXT');
    return recordCheck('dkim', name, null, [
      finding('dkim-key-missing', `No DKIM key for selector "${selector}": ${name} ${why}. Signatures with s=${selector} fail.`, `${name} TXT "v=DKIM1; k=rsa; p=<public key from your mail provider>"`),
    ]);
  }
  const findings: Finding[] = [];
  if (keys.length > 1) findings.push(finding('dkim-multiple-records', `${name} has ${keys.length} key records; verifiers may use either, so signatures fail at random if they differ. The first is checked below.`, `Keep only the TXT record with the key your mail server signs with at ${name}.`));
  const key = keys[0] ?? '';
  findings.push(...analyzeDkimKey(name, key).findings);
  return recordCheck('dkim', name, key, findings);
}

/** Obsolete signing-policy records, reported only when present; failures of these probes are not reported. */
async function historicRecords(domain: string, lookup: DnsLookup): Promise<RecordCheck[]> {
  const probes = [
    { name: `_adsp._domainkey.${domain}`, code: 'adsp-obsolete', what: 'an ADSP record (RFC 5617, historic since 2013)', match: /dkim\s*=/i },
    { name: `_ssp._domainkey.${domain}`, code: 'ssp-obsolete', what: 'a DKIM SSP record (a draft never standardized)', match: /./ },
    { name: `_domainkey.${domain}`, code: 'domainkeys-policy-obsolete', what: 'a DomainKeys policy record (RFC 4870, historic)', match: /(^|;)\s*[otr]\s*=/i },
  ] as const;
  const out: RecordCheck[] = [];
  for (const probe of probes) {
    const found = txtRecords(await lookup.txt(probe.name)).filter((r) => probe.match.test(r));
    if (found.length === 0) continue;
    out.push(recordCheck('dkim', probe.name, found.join(' | '), [
      finding(probe.code, `${probe.name} holds ${probe.what}; receivers ignore it and it can be removed. DMARC replaces it.`, `Delete the TXT record at ${probe.name}.`),
    ]));
  }
  return out;
}
