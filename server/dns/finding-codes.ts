/**
 * Every finding the DNS checks can report: a stable kebab-case code, its severity and what it means.
 * Tests assert that each code is produced by at least one scenario; docs can list this table as is.
 */
import type { Finding, RecordCheck, RecordStatus, RecordType, Severity } from './check-types.ts';

export const FINDING_CATALOGUE = [
  // DNS failures (any record)
  { code: 'dns-servfail', severity: 'error', meaning: 'The resolver answered SERVFAIL: the zone is broken (often DNSSEC or unreachable name servers); receivers treat it as a temporary error.' },
  { code: 'dns-timeout', severity: 'error', meaning: 'No answer within the lookup timeout; receivers treat it as a temporary error.' },
  { code: 'dns-refused', severity: 'error', meaning: 'The name server refused the query.' },
  { code: 'dns-error', severity: 'error', meaning: 'Another DNS failure (unreachable resolver, malformed answer).' },
  { code: 'domain-not-found', severity: 'error', meaning: 'The domain itself does not exist (NXDOMAIN).' },
  // DMARC
  { code: 'dmarc-missing', severity: 'error', meaning: 'No DMARC record at the domain or any parent: receivers apply no policy and send no reports.' },
  { code: 'dmarc-multiple', severity: 'error', meaning: 'More than one DMARC record: receivers discard them all.' },
  { code: 'dmarc-invalid-version', severity: 'error', meaning: 'A TXT record at _dmarc looks like DMARC but does not start with exactly v=DMARC1: it is ignored.' },
  { code: 'dmarc-stray-txt', severity: 'info', meaning: 'A TXT record at _dmarc that is not a DMARC record; harmless but usually a mistake.' },
  { code: 'dmarc-syntax', severity: 'error', meaning: 'A tag=value pair is malformed or repeated.' },
  { code: 'dmarc-missing-p', severity: 'warning', meaning: 'No p= tag: the record is treated as p=none (RFC 7489 requires p=; RFC 9989 recommends it).' },
  { code: 'dmarc-invalid-p', severity: 'error', meaning: 'p= is not none, quarantine or reject.' },
  { code: 'dmarc-invalid-sp', severity: 'warning', meaning: 'sp= is not none, quarantine or reject; p= applies to subdomains instead.' },
  { code: 'dmarc-invalid-np', severity: 'warning', meaning: 'np= is not none, quarantine or reject; it is ignored.' },
  { code: 'dmarc-invalid-pct', severity: 'warning', meaning: 'pct= is not an integer from 0 to 100; it is ignored.' },
  { code: 'dmarc-invalid-adkim', severity: 'warning', meaning: 'adkim= is not r or s; relaxed alignment is used.' },
  { code: 'dmarc-invalid-aspf', severity: 'warning', meaning: 'aspf= is not r or s; relaxed alignment is used.' },
  { code: 'dmarc-invalid-fo', severity: 'warning', meaning: 'fo= is not a colon-separated list of 0, 1, d, s.' },
  { code: 'dmarc-invalid-rf', severity: 'warning', meaning: 'rf= names a report format other than afrf.' },
  { code: 'dmarc-invalid-ri', severity: 'warning', meaning: 'ri= is not a number of seconds.' },
  { code: 'dmarc-invalid-t', severity: 'warning', meaning: 't= is not y or n.' },
  { code: 'dmarc-invalid-psd', severity: 'warning', meaning: 'psd= is not y, n or u.' },
  { code: 'dmarc-invalid-rua', severity: 'error', meaning: 'A rua= destination is not a valid URI: no aggregate reports go there.' },
  { code: 'dmarc-invalid-ruf', severity: 'error', meaning: 'A ruf= destination is not a valid URI: no failure reports go there.' },
  { code: 'dmarc-uri-not-mailto', severity: 'warning', meaning: 'A report destination is not a mailto: URI; receivers only send reports by mail.' },
  { code: 'dmarc-unknown-tag', severity: 'warning', meaning: 'A tag that neither RFC 7489 nor RFC 9989 defines; receivers ignore it.' },
  { code: 'dmarc-deprecated-tag', severity: 'info', meaning: 'pct, rf and ri are removed by RFC 9989; newer receivers ignore them.' },
  { code: 'dmarc-policy-none', severity: 'warning', meaning: 'p=none is monitoring only: failing mail is still delivered.' },
  { code: 'dmarc-policy-none-long', severity: 'warning', meaning: 'The stored reports show p=none for 30 days or more: long enough to see every sender; time to move to quarantine.' },
  { code: 'dmarc-subdomain-policy-weaker', severity: 'info', meaning: 'sp= or np= is weaker than p=, so subdomains are less protected.' },
  { code: 'dmarc-pct-partial', severity: 'warning', meaning: 'pct below 100 applies the policy to only part of the failing mail at RFC 7489 receivers; RFC 9989 receivers ignore pct and apply it to all.' },
  { code: 'dmarc-testing', severity: 'warning', meaning: 't=y (RFC 9989 test mode): receivers do not fully apply the policy.' },
  { code: 'dmarc-psd-unexpected', severity: 'warning', meaning: 'psd=y declares a public suffix domain, but the domain is not a public suffix.' },
  { code: 'dmarc-no-rua', severity: 'warning', meaning: 'No rua= tag: no aggregate reports are sent, so there is nothing to analyze.' },
  { code: 'dmarc-too-many-rua', severity: 'warning', meaning: 'More than two rua= destinations; receivers may send to the first two only.' },
  { code: 'dmarc-size-limit', severity: 'info', meaning: 'A report size limit (!10m) is set: RFC 7489 receivers do not send larger reports there; RFC 9989 drops the suffix.' },
  { code: 'dmarc-fo-without-ruf', severity: 'info', meaning: 'fo= has no effect without ruf=.' },
  { code: 'dmarc-ruf-requested', severity: 'info', meaning: 'Failure reports are requested; few receivers send them, and they may contain personal data.' },
  { code: 'dmarc-strict-alignment', severity: 'info', meaning: 'Strict alignment: mail authenticated by a subdomain does not align.' },
  { code: 'dmarc-inherited', severity: 'info', meaning: 'The domain has no record of its own; the policy of a parent (organizational) domain applies.' },
  { code: 'dmarc-discovery-differs', severity: 'info', meaning: 'The RFC 9989 DNS tree walk and the public suffix list (RFC 7489) find different policy domains.' },
  // External report destinations
  { code: 'report-auth-missing', severity: 'error', meaning: 'An external rua/ruf destination has not authorized the domain: reports will not be sent there.' },
  { code: 'report-auth-invalid', severity: 'error', meaning: 'The authorization record exists but is not a v=DMARC1 record.' },
  // SPF
  { code: 'spf-missing', severity: 'warning', meaning: 'No SPF record: SPF results are "none" and DMARC depends on DKIM alone.' },
  { code: 'spf-multiple', severity: 'error', meaning: 'More than one SPF record at one name: a permanent error.' },
  { code: 'spf-syntax', severity: 'error', meaning: 'A term of the SPF record is malformed: a permanent error.' },
  { code: 'spf-unknown-modifier', severity: 'info', meaning: 'An unknown modifier; receivers ignore it.' },
  { code: 'spf-lookup-count', severity: 'info', meaning: 'How many DNS lookups the record needs, term by term.' },
  { code: 'spf-too-many-lookups', severity: 'error', meaning: 'More than 10 DNS-querying terms through includes and redirects: a permanent error.' },
  { code: 'spf-void-lookup', severity: 'warning', meaning: 'A term points at a name with no records (a void lookup).' },
  { code: 'spf-too-many-void-lookups', severity: 'error', meaning: 'More than 2 void lookups: a permanent error.' },
  { code: 'spf-include-no-record', severity: 'error', meaning: 'An include: target has no SPF record: a permanent error.' },
  { code: 'spf-redirect-no-record', severity: 'error', meaning: 'The redirect= target has no SPF record: a permanent error.' },
  { code: 'spf-loop', severity: 'error', meaning: 'Includes or redirects form a loop.' },
  { code: 'spf-ptr', severity: 'warning', meaning: 'The ptr mechanism is slow and discouraged (RFC 7208 5.5).' },
  { code: 'spf-pass-all', severity: 'error', meaning: '+all authorizes every host on the Internet.' },
  { code: 'spf-neutral-all', severity: 'warning', meaning: '?all makes unlisted hosts neutral, which protects nothing.' },
  { code: 'spf-no-all', severity: 'warning', meaning: 'No all mechanism and no redirect: unlisted hosts get "neutral".' },
  { code: 'spf-terms-after-all', severity: 'warning', meaning: 'Terms after all are never evaluated.' },
  { code: 'spf-redirect-with-all', severity: 'warning', meaning: 'redirect= is ignored when the record has an all mechanism.' },
  { code: 'spf-mx-too-many', severity: 'error', meaning: 'An mx mechanism names more than 10 MX hosts: a permanent error.' },
  { code: 'spf-record-too-long', severity: 'warning', meaning: 'The record is over 450 bytes (RFC 7208 3.4): answers may not fit in a UDP packet.' },
  { code: 'spf-large-txt-answer', severity: 'info', meaning: 'The DNS answer with all TXT records at the name is over 512 bytes; resolvers must retry over TCP.' },
  { code: 'spf-sources-covered', severity: 'info', meaning: 'How many source IPs seen in reports the record authorizes.' },
  { code: 'spf-sources-not-covered', severity: 'warning', meaning: 'Source IPs that failed SPF in reports are still not authorized (fine if they are not yours).' },
  { code: 'spf-passed-source-not-covered', severity: 'warning', meaning: 'Source IPs that passed SPF in reports are not authorized by the record as published now.' },
  { code: 'spf-failed-source-now-covered', severity: 'info', meaning: 'Source IPs that failed SPF in reports are authorized now (the record was fixed).' },
  // DKIM and historic signing policies
  { code: 'dkim-no-selectors', severity: 'info', meaning: 'No DKIM selector is known for the domain (none given, none in reports).' },
  { code: 'dkim-key-missing', severity: 'error', meaning: 'No key record at <selector>._domainkey: signatures with this selector fail.' },
  { code: 'dkim-multiple-records', severity: 'warning', meaning: 'More than one TXT record at the selector; verifiers may pick either.' },
  { code: 'dkim-syntax', severity: 'error', meaning: 'The key record is not a valid tag list or has no p= tag.' },
  { code: 'dkim-invalid-version', severity: 'error', meaning: 'v= is present but is not DKIM1 as the first tag.' },
  { code: 'dkim-unknown-key-type', severity: 'error', meaning: 'k= is neither rsa nor ed25519.' },
  { code: 'dkim-bad-base64', severity: 'error', meaning: 'p= is not valid base64.' },
  { code: 'dkim-bad-key', severity: 'error', meaning: 'p= decodes but is not a usable public key of the declared type.' },
  { code: 'dkim-key-pkcs1', severity: 'warning', meaning: 'The RSA key is a bare PKCS#1 RSAPublicKey, not SubjectPublicKeyInfo; some verifiers reject it.' },
  { code: 'dkim-key-too-short', severity: 'error', meaning: 'RSA key shorter than 1024 bits: verifiers must reject it (RFC 8301).' },
  { code: 'dkim-key-weak', severity: 'warning', meaning: 'RSA key shorter than 2048 bits.' },
  { code: 'dkim-key-size', severity: 'info', meaning: 'The key type and length.' },
  { code: 'dkim-testing', severity: 'warning', meaning: 't=y: the domain is testing DKIM; some verifiers treat failures leniently.' },
  { code: 'dkim-strict-subdomain', severity: 'info', meaning: 't=s: signatures with a subdomain in i= are not valid.' },
  { code: 'dkim-revoked', severity: 'warning', meaning: 'Empty p=: the key is revoked and signatures with this selector fail.' },
  { code: 'dkim-sha1', severity: 'warning', meaning: 'h= allows sha1, which must not be used (RFC 8301).' },
  { code: 'dkim-unknown-hash', severity: 'warning', meaning: 'h= names an unknown hash algorithm.' },
  { code: 'dkim-no-sha256', severity: 'error', meaning: 'h= does not list sha256: verifiers following RFC 8301 accept no signature made with this key.' },
  { code: 'dkim-service-not-email', severity: 'error', meaning: 's= excludes email: the key cannot verify mail.' },
  { code: 'adsp-obsolete', severity: 'info', meaning: 'An ADSP record (_adsp._domainkey, RFC 5617) is historic and ignored; it can be removed.' },
  { code: 'ssp-obsolete', severity: 'info', meaning: 'A DKIM SSP draft record (_ssp._domainkey) is obsolete and ignored; it can be removed.' },
  { code: 'domainkeys-policy-obsolete', severity: 'info', meaning: 'A DomainKeys policy record (_domainkey) is obsolete and ignored; it can be removed.' },
  // MX
  { code: 'mx-missing', severity: 'warning', meaning: 'No MX record: mail is delivered to the A/AAAA address, and bounces may get lost.' },
  { code: 'mx-null', severity: 'info', meaning: 'Null MX (0 .): the domain accepts no mail.' },
  { code: 'mx-null-mixed', severity: 'error', meaning: 'A null MX must be the only MX record.' },
  { code: 'mx-target-is-ip', severity: 'error', meaning: 'An MX names an IP address instead of a host name.' },
  { code: 'mx-target-no-address', severity: 'warning', meaning: 'An MX host has no A or AAAA record.' },
  // MTA-STS
  { code: 'mta-sts-missing', severity: 'info', meaning: 'No MTA-STS record: senders may deliver without TLS.' },
  { code: 'mta-sts-multiple', severity: 'error', meaning: 'More than one v=STSv1 record: senders ignore MTA-STS.' },
  { code: 'mta-sts-invalid-record', severity: 'error', meaning: 'The _mta-sts record lacks v=STSv1 first or a valid id=.' },
  { code: 'mta-sts-policy-unreachable', severity: 'error', meaning: 'The policy file at https://mta-sts.<domain>/.well-known/mta-sts.txt could not be fetched.' },
  { code: 'mta-sts-policy-invalid', severity: 'error', meaning: 'The policy file is malformed (version, mode, max_age or mx).' },
  { code: 'mta-sts-mode-testing', severity: 'info', meaning: 'mode: testing: failures are reported but mail is still delivered.' },
  { code: 'mta-sts-mode-none', severity: 'warning', meaning: 'mode: none: the policy is switched off.' },
  { code: 'mta-sts-mx-mismatch', severity: 'error', meaning: 'An MX host matches no mx: line of the policy; in enforce mode mail to it fails.' },
  { code: 'mta-sts-max-age-short', severity: 'warning', meaning: 'max_age below one day gives little protection; weeks are recommended.' },
  // TLS-RPT
  { code: 'tlsrpt-missing', severity: 'info', meaning: 'No TLS-RPT record: no SMTP TLS reports are sent.' },
  { code: 'tlsrpt-multiple', severity: 'error', meaning: 'More than one v=TLSRPTv1 record: senders ignore them.' },
  { code: 'tlsrpt-invalid', severity: 'error', meaning: 'The _smtp._tls record lacks v=TLSRPTv1 first or a valid rua= (mailto: or https:).' },
  // BIMI
  { code: 'bimi-missing', severity: 'info', meaning: 'No BIMI record at default._bimi.' },
  { code: 'bimi-multiple', severity: 'error', meaning: 'More than one v=BIMI1 record.' },
  { code: 'bimi-invalid', severity: 'error', meaning: 'The BIMI record lacks v=BIMI1 first or l=, or is malformed.' },
  { code: 'bimi-not-https', severity: 'error', meaning: 'The logo (l=) or certificate (a=) location is not an https: URL.' },
  { code: 'bimi-no-certificate', severity: 'info', meaning: 'No a= certificate (VMC/CMC); several mailbox providers show no logo without one.' },
  { code: 'bimi-declined', severity: 'info', meaning: 'Empty l= and a=: the domain declines to show a logo.' },
  { code: 'bimi-dmarc-not-enforced', severity: 'warning', meaning: 'BIMI needs DMARC p=quarantine or p=reject at 100%; logos will not be shown.' },
] as const satisfies readonly { code: string; severity: Severity; meaning: string }[];

export type FindingCode = (typeof FINDING_CATALOGUE)[number]['code'];

const SEVERITY = new Map<string, Severity>(FINDING_CATALOGUE.map((c) => [c.code, c.severity]));

/** Builds a finding; the severity comes from the catalogue so a code always has the same one. */
export function finding(code: FindingCode, message: string, fix?: string): Finding {
  const severity = SEVERITY.get(code) ?? 'error';
  return fix === undefined ? { severity, code, message } : { severity, code, message, fix };
}

/** fail if any error, warn if any warning, else pass */
export function statusOf(findings: readonly Finding[]): RecordStatus {
  if (findings.some((f) => f.severity === 'error')) return 'fail';
  if (findings.some((f) => f.severity === 'warning')) return 'warn';
  return 'pass';
}

/** A RecordCheck with its status derived from the findings. */
export function recordCheck(type: RecordType, name: string, value: string | null, findings: Finding[]): RecordCheck {
  return { type, name, value, status: statusOf(findings), findings };
}
