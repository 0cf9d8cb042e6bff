/** The mail-transport part of a domain check: MX, MTA-STS (record and policy file) and TLS-RPT. */
import ipaddr from 'ipaddr.js';
import type { DnsLookup, Finding, PolicyFetcher, RecordCheck } from './check-types.ts';
import { dnsFailure, isAbsent, txtRecords } from './dns-findings.ts';
import { finding, recordCheck } from './finding-codes.ts';
import { analyzeStsPolicy, analyzeStsRecord, policyUrl } from './mta-sts.ts';
import { analyzeTlsRpt } from './tls-rpt.ts';

const MAX_MX_HOSTS = 10;
const MAX_POLICY_SHOWN = 2000;

export interface MxCheck {
  record: RecordCheck;
  /** MX host names (null MX excluded), by preference */
  hosts: string[];
  nullMx: boolean;
  domainExists: boolean;
}

export async function checkMx(domain: string, lookup: DnsLookup): Promise<MxCheck> {
  const answer = await lookup.mx(domain);
  if (!answer.ok) {
    if (answer.error === 'NXDOMAIN') {
      return { record: recordCheck('mx', domain, null, [finding('domain-not-found', `${domain} does not exist (NXDOMAIN): check the spelling, or register and delegate the domain.`)]), hosts: [], nullMx: false, domainExists: false };
    }
    const failure = dnsFailure(answer, 'MX', domain, 'Senders retry later.');
    const findings = failure ? [failure] : [finding('mx-missing', `${domain} has no MX record (NODATA): mail goes to its A/AAAA address, if any, and bounces to this domain may be lost.`, `${domain} MX 10 mail.${domain}  (or a null MX "${domain} MX 0 ." if the domain receives no mail)`)];
    return { record: recordCheck('mx', domain, null, findings), hosts: [], nullMx: false, domainExists: true };
  }
  const sorted = [...answer.value].sort((x, y) => x.priority - y.priority);
  const value = sorted.map((r) => `${r.priority} ${r.exchange === '' ? '.' : r.exchange}`).join(', ');
  const isNull = (e: string) => e === '' || e === '.';
  const nullCount = sorted.filter((r) => isNull(r.exchange)).length;
  const findings: Finding[] = [];
  if (nullCount > 0 && sorted.length > 1) {
    findings.push(finding('mx-null-mixed', `${domain} has a null MX (0 .) next to other MX records; RFC 7505 requires it to be the only one.`, 'Remove the null MX, or remove the other MX records if the domain receives no mail.'));
  } else if (nullCount > 0) {
    findings.push(finding('mx-null', `${domain} publishes a null MX (0 .): it accepts no mail. Pair it with "v=spf1 -all" and DMARC p=reject if it sends none either.`));
  }
  const hosts = sorted.filter((r) => !isNull(r.exchange)).map((r) => r.exchange.toLowerCase().replace(/\.$/, ''));
  const named: string[] = [];
  for (const host of hosts) {
    if (ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host)) findings.push(finding('mx-target-is-ip', `MX ${host} is an IP address; an MX must name a host (RFC 5321 5.1).`, `${domain} MX 10 <host name with an A record for ${host}>`));
    else named.push(host);
  }
  const addressChecks = await Promise.all(
    named.slice(0, MAX_MX_HOSTS).map(async (host) => {
      const [v4, v6] = await Promise.all([lookup.a(host), lookup.aaaa(host)]);
      if (v4.ok || v6.ok) return { host, failure: null, absent: false };
      const failure = dnsFailure(v4, 'A', host, '') ?? dnsFailure(v6, 'AAAA', host, '');
      return { host, failure, absent: failure === null && isAbsent(v4) && isAbsent(v6) };
    }),
  );
  for (const c of addressChecks) if (c.failure) findings.push(c.failure);
  const noAddress = addressChecks.filter((c) => c.absent).map((c) => c.host);
  if (noAddress.length > 0) {
    findings.push(finding('mx-target-no-address', `MX host${noAddress.length > 1 ? 's' : ''} ${noAddress.join(', ')} ${noAddress.length > 1 ? 'have' : 'has'} no A or AAAA record, so mail cannot be delivered there.`, `${noAddress[0]} A <address of the mail server>`));
  }
  return { record: recordCheck('mx', domain, value, findings), hosts, nullMx: nullCount > 0, domainExists: true };
}

export async function checkMtaSts(domain: string, mxHosts: readonly string[], lookup: DnsLookup, fetchPolicy: PolicyFetcher): Promise<RecordCheck[]> {
  const name = `_mta-sts.${domain}`;
  const answer = await lookup.txt(name);
  const failure = dnsFailure(answer, 'TXT', name, 'Senders cannot tell whether MTA-STS applies.');
  if (failure) return [recordCheck('mta-sts', name, null, [failure])];
  const records = txtRecords(answer);
  const { id, findings } = analyzeStsRecord(domain, records);
  const value = records.length > 0 ? records.join(' | ') : null;
  if (id === null) {
    if (findings.length === 0) findings.push(finding('mta-sts-missing', `No MTA-STS record at ${name}: senders may deliver to ${domain} without TLS or with an unchecked certificate.`));
    return [recordCheck('mta-sts', name, value, findings)];
  }
  const url = policyUrl(domain);
  const out: RecordCheck[] = [recordCheck('mta-sts', name, value, findings)];
  let response: { status: number; body: string };
  try {
    response = await fetchPolicy(url);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    out.push(recordCheck('mta-sts', url, null, [unreachable(url, why)]));
    return out;
  }
  if (response.status !== 200) {
    out.push(recordCheck('mta-sts', url, null, [unreachable(url, `HTTP status ${response.status}`)]));
    return out;
  }
  out.push(recordCheck('mta-sts', url, response.body.slice(0, MAX_POLICY_SHOWN), analyzeStsPolicy(url, response.body, mxHosts)));
  return out;
}

function unreachable(url: string, why: string): Finding {
  return finding('mta-sts-policy-unreachable', `The MTA-STS record exists but the policy at ${url} could not be fetched (${why}); senders ignore MTA-STS.`, `Serve the policy over HTTPS with a valid certificate for ${new URL(url).hostname}, or remove the _mta-sts record.`);
}

export async function checkTlsRpt(domain: string, lookup: DnsLookup): Promise<RecordCheck> {
  const name = `_smtp._tls.${domain}`;
  const answer = await lookup.txt(name);
  const failure = dnsFailure(answer, 'TXT', name, 'Senders cannot find where to send TLS reports.');
  if (failure) return recordCheck('tls-rpt', name, null, [failure]);
  const records = txtRecords(answer);
  return recordCheck('tls-rpt', name, records.length > 0 ? records.join(' | ') : null, analyzeTlsRpt(domain, records));
}
