/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file and how its mx: patterns cover the MX
 * hosts. Pure; the policy is fetched through an injectable fetcher (fetch-policy.ts).
 */
import type { Finding } from './check-types.ts';
import { finding } from './finding-codes.ts';
import { parseTagList, startsWithVersion } from './tag-list.ts';

export interface StsPolicy {
  version: string | null;
  mode: 'enforce' | 'testing' | 'none' | null;
  maxAge: number | null;
  mx: string[];
}

const MAX_MAX_AGE = 31_557_600;
const ONE_DAY = 86_400;

export function policyUrl(domain: string): string {
  return `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
}

/** Picks the one v=STSv1 record; returns its id, or null with findings explaining why there is none. */
export function analyzeStsRecord(domain: string, records: readonly string[]): { id: string | null; findings: Finding[] } {
  const name = `_mta-sts.${domain}`;
  const sts = records.filter((r) => startsWithVersion(r, 'STSv1'));
  const fix = `${name} TXT "v=STSv1; id=1" (change the id whenever the policy file changes)`;
  if (sts.length > 1) return { id: null, findings: [finding('mta-sts-multiple', `${name} has ${sts.length} v=STSv1 records; senders then ignore MTA-STS.`, `Keep one: ${fix}`)] };
  if (sts.length === 0) {
    const lookalike = records.find((r) => /sts/i.test(r));
    if (lookalike !== undefined) return { id: null, findings: [finding('mta-sts-invalid-record', `The TXT record "${lookalike}" at ${name} does not start with exactly "v=STSv1;", so senders ignore it.`, fix)] };
    return { id: null, findings: [] };
  }
  const { byName, problems } = parseTagList(sts[0] ?? '');
  const id = byName.get('id');
  if (problems.length > 0 || id === undefined || !/^[A-Za-z0-9]{1,32}$/.test(id)) {
    const why = id === undefined ? 'it has no id= tag' : problems.length > 0 ? problems.join('; ') : `id=${id} is not 1 to 32 letters and digits`;
    return { id: null, findings: [finding('mta-sts-invalid-record', `The record at ${name} is invalid: ${why}.`, fix)] };
  }
  return { id, findings: [] };
}

/** Parses the policy file: `key: value` lines (CRLF or LF). Problems are returned, not thrown. */
export function parseStsPolicy(body: string): { policy: StsPolicy; problems: string[] } {
  const policy: StsPolicy = { version: null, mode: null, maxAge: null, mx: [] };
  const problems: string[] = [];
  for (const rawLine of body.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) {
      problems.push(`line "${line.slice(0, 60)}" is not "key: value"`);
      continue;
    }
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'version') policy.version = value;
    else if (key === 'mode') {
      if (value === 'enforce' || value === 'testing' || value === 'none') policy.mode = value;
      else problems.push(`mode "${value}" is not enforce, testing or none`);
    } else if (key === 'max_age') {
      if (/^\d{1,10}$/.test(value) && Number(value) <= MAX_MAX_AGE) policy.maxAge = Number(value);
      else problems.push(`max_age "${value}" is not a number of seconds up to ${MAX_MAX_AGE}`);
    } else if (key === 'mx') policy.mx.push(value.toLowerCase().replace(/\.$/, ''));
  }
  if (policy.version !== 'STSv1') problems.push(policy.version === null ? 'no "version: STSv1" line' : `version "${policy.version}" is not STSv1`);
  if (policy.mode === null && !problems.some((p) => p.startsWith('mode'))) problems.push('no "mode:" line');
  if (policy.maxAge === null && !problems.some((p) => p.startsWith('max_age'))) problems.push('no "max_age:" line');
  if (policy.mx.length === 0 && policy.mode !== 'none') problems.push('no "mx:" line');
  return { policy, problems };
}

/** RFC 8461 4.1: "*.example.com" matches exactly one extra label on the left. */
export function mxPatternMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) {
    const rest = p.slice(2);
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === rest;
  }
  return h === p;
}

export function analyzeStsPolicy(url: string, body: string, mxHosts: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const { policy, problems } = parseStsPolicy(body);
  const sample = `version: STSv1\nmode: enforce\n${(mxHosts.length > 0 ? mxHosts : ['mx.example.com']).map((h) => `mx: ${h}`).join('\n')}\nmax_age: 1209600`;
  if (problems.length > 0) findings.push(finding('mta-sts-policy-invalid', `The policy at ${url} is invalid: ${problems.join('; ')}. Senders ignore it.`, `Serve at ${url}:\n${sample}`));
  if (policy.mode === 'testing') findings.push(finding('mta-sts-mode-testing', 'mode: testing: TLS failures are reported (with TLS-RPT) but mail is still delivered. Switch to enforce once the reports are clean.'));
  const bumpId = 'and change the id= of the _mta-sts record';
  if (policy.mode === 'none') findings.push(finding('mta-sts-mode-none', 'mode: none: the policy is switched off and gives no protection.', `Serve at ${url} (${bumpId}):\n${sample.replace('mode: enforce', 'mode: testing')}`));
  if (policy.maxAge !== null && policy.maxAge < ONE_DAY) {
    findings.push(finding('mta-sts-max-age-short', `max_age: ${policy.maxAge} is under a day; senders forget the policy quickly. Use weeks (e.g. 1209600).`, `Set "max_age: 1209600" in ${url} ${bumpId}.`));
  }
  if (policy.mode !== 'none' && policy.mx.length > 0) {
    for (const host of mxHosts) {
      if (!policy.mx.some((p) => mxPatternMatches(p, host))) {
        findings.push(finding('mta-sts-mx-mismatch', `MX host ${host} matches no mx: line of the policy (${policy.mx.join(', ')}); ${policy.mode === 'enforce' ? 'senders that enforce the policy will not deliver to it' : 'senders report failures for it'}.`, `Add "mx: ${host}" to ${url} and change the id= of the _mta-sts record.`));
      }
    }
  }
  return findings;
}
