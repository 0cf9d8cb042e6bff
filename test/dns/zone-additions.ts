/**
 * Names added to the shared test zone (test/fixtures/dns/zone.ts) by the issue-5 audit, for cases the zone
 * did not cover: an external rua (not just a ruf) lacking authorization, a TXT answer over 512 bytes only once
 * the DNS message overhead is counted, a DKIM key whose h= excludes sha256, and p=none that the stored reports
 * show for months. Tests serve `{ ...ZONE, ...ZONE_ADDITIONS }`.
 */
import type { ReportedPolicy } from '../../server/dns/check-types.ts';
import { a, aaaa, mx, txt, type Zone } from '../helpers/fake-dns.ts';
import { KEYS, type Scenario } from '../fixtures/dns/zone.ts';

/** 434 bytes: under the 450-byte advice for one record, but with a second TXT record the answer passes 512 bytes */
export const SPF_434 = `v=spf1 ${Array.from({ length: 24 }, (_, i) => `ip4:198.51.100.${i + 1}`).join(' ')} -all`;

export const ZONE_ADDITIONS: Zone = {
  // an external rua destination that has not authorized the domain (and one internal rua)
  '_dmarc.rua-noauth.test': [txt('v=DMARC1; p=reject; rua=mailto:d@rua-noauth.test,mailto:agg@vendor-missing.test')],

  // rdata 436 + 61 bytes = 497 (under 512), but the DNS message is 551 bytes
  'udpsize.test': [txt(SPF_434), txt(`google-site-verification=${'v'.repeat(35)}`)],

  // h= that leaves no hash RFC 8301 verifiers accept
  'dkim-hash.test': [txt('v=spf1 -all')],
  'sha1only._domainkey.dkim-hash.test': [txt(`v=DKIM1; k=rsa; h=sha1; p=${KEYS.rsa2048}`)],
  'sha512only._domainkey.dkim-hash.test': [txt(`v=DKIM1; k=rsa; h=sha512; p=${KEYS.rsa2048}`)],

  // SPF evaluation of report source IPs through a, a/cidr, mx//cidr6, include and redirect
  'eval.test': [txt('v=spf1 a a:web.eval.test/28 mx//64 include:_inc.eval.test redirect=_r.eval.test'), a('192.0.2.77'), mx(10, 'mx.eval.test')],
  'web.eval.test': [a('198.51.100.20')],
  'mx.eval.test': [aaaa('2001:db8:5::1')],
  '_inc.eval.test': [txt('v=spf1 ip4:203.0.113.0/29 -all')],
  '_r.eval.test': [txt('v=spf1 ip4:203.0.113.100 ~all')],

  // p=none, which the stored reports have shown since long before the check
  '_dmarc.nonelong.test': [txt('v=DMARC1; p=none; rua=mailto:d@nonelong.test')],
};

export interface AuditScenario extends Scenario {
  reportedPolicy?: ReportedPolicy;
}

export const SCENARIO_ADDITIONS: AuditScenario[] = [
  { domain: 'rua-noauth.test' },
  { domain: 'udpsize.test' },
  { domain: 'dkim-hash.test', selectors: ['sha1only', 'sha512only'] },
  { domain: 'nonelong.test', reportedPolicy: { p: 'none', since: '2020-01-01T00:00:00Z' } },
];
