/** BIMI assertion records (`default._bimi.<domain>` TXT `v=BIMI1; l=…; a=…`). Pure. */
import type { Finding } from './check-types.ts';
import type { DmarcPolicy } from './dmarc-record.ts';
import { finding } from './finding-codes.ts';
import { parseTagList, startsWithVersion } from './tag-list.ts';

/** `dmarc` is the policy that applies to the domain (null when there is none). */
export function analyzeBimi(domain: string, records: readonly string[], dmarc: DmarcPolicy | null): Finding[] {
  const name = `default._bimi.${domain}`;
  const fix = `${name} TXT "v=BIMI1; l=https://${domain}/brand/logo.svg; a=https://${domain}/brand/vmc.pem"`;
  const bimi = records.filter((r) => startsWithVersion(r, 'BIMI1'));
  if (bimi.length > 1) return [finding('bimi-multiple', `${name} has ${bimi.length} v=BIMI1 records; mailbox providers then show no logo.`, `Keep one: ${fix}`)];
  if (bimi.length === 0) {
    const lookalike = records.find((r) => /bimi/i.test(r));
    if (lookalike !== undefined) return [finding('bimi-invalid', `"${lookalike}" at ${name} does not start with exactly "v=BIMI1;".`, fix)];
    return [finding('bimi-missing', `No BIMI record at ${name} (optional: it lets some mailbox providers show your logo).`)];
  }
  const findings: Finding[] = [];
  const { byName, problems } = parseTagList(bimi[0] ?? '');
  const l = byName.get('l');
  const a = byName.get('a');
  if (problems.length > 0) findings.push(finding('bimi-invalid', `The record at ${name} is malformed: ${problems.join('; ')}.`, fix));
  if (l === undefined) {
    findings.push(finding('bimi-invalid', `The record at ${name} has no l= (logo location).`, fix));
    return findings;
  }
  if (l === '' && (a === undefined || a === '')) {
    findings.push(finding('bimi-declined', `${name} has an empty l=: the domain declines to show a logo.`));
    return findings;
  }
  for (const [tag, value] of [['l', l], ['a', a]] as const) {
    if (value === undefined || value === '') continue;
    for (const url of value.split(',').map((s) => s.trim())) {
      if (!isHttpsUrl(url)) findings.push(finding('bimi-not-https', `${tag}=${url} is not an https: URL.`, fix));
    }
  }
  if (a === undefined || a === '') {
    findings.push(finding('bimi-no-certificate', 'No a= certificate (VMC or CMC): Gmail, Apple Mail and others show no logo without one.'));
  }
  const enforced = dmarc !== null && (dmarc.p === 'quarantine' || dmarc.p === 'reject') && dmarc.pct === 100 && dmarc.sp !== 'none' && !dmarc.testing;
  if (!enforced) {
    const why = dmarc === null ? 'there is no DMARC policy' : `the DMARC policy is p=${dmarc.p ?? 'none'}${dmarc.pct < 100 ? `, pct=${dmarc.pct}` : ''}${dmarc.sp === 'none' ? ', sp=none' : ''}${dmarc.testing ? ', t=y' : ''}`;
    findings.push(finding('bimi-dmarc-not-enforced', `BIMI logos are only shown with DMARC p=quarantine or p=reject applied to all mail, but ${why}.`));
  }
  return findings;
}

function isHttpsUrl(s: string): boolean {
  try {
    return new URL(s).protocol === 'https:';
  } catch {
    return false;
  }
}
