/**
 * Reports full of markup and script payloads in every attacker-controlled field (an aggregate report, an ARF
 * failure report, an SMTP TLS report, and an unreadable input whose name is a payload), ingested through the
 * real pipeline. Each payload, if it ever ran, would set window.__xss or open a dialog.
 */
import { bufferSource } from '../../server/ingest/input-sources.ts';
import { ingestInput } from '../../server/ingest/pipeline.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import type { Driver } from '../../server/store/driver.ts';
import { createEnrichmentCacheStore } from '../../server/store/enrichment-cache-store.ts';
import type { ReportStore } from '../../server/store/report-store.ts';

export const PAYLOADS = [
  '<script>window.__xss=1</script>',
  '"><img src=x onerror="window.__xss=2">',
  "'><svg onload=window.__xss=3>",
  'javascript:window.__xss=4',
  '<iframe srcdoc="<script>parent.__xss=5</script>">',
  '{{constructor.constructor("window.__xss=6")()}}',
  '<a href="javascript:alert(7)">x</a>',
];

/** payload-bearing domain (no spaces, so it passes as a filter value too) */
export const EVIL_DOMAIN = 'xss.test"><img/src=x/onerror=alert(8)>';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function evilAggregateXml(): string {
  const [p1, p2, p3, p4, p5, p6, p7] = PAYLOADS.map(esc) as [string, string, string, string, string, string, string];
  const record = (ip: string, count: number, dkim: string, spf: string) => `
  <record>
    <row>
      <source_ip>${ip}</source_ip>
      <count>${count}</count>
      <policy_evaluated><disposition>none</disposition><dkim>${dkim}</dkim><spf>${spf}</spf>
        <reason><type>local_policy</type><comment>${p5}</comment></reason>
      </policy_evaluated>
    </row>
    <identifiers><header_from>${p2}</header_from><envelope_from>${p3}</envelope_from><envelope_to>${p6}</envelope_to></identifiers>
    <auth_results>
      <dkim><domain>${p4}</domain><selector>${p1}</selector><result>${dkim}</result><human_result>${p7}</human_result></dkim>
      <spf><domain>${p2}</domain><result>${spf}</result></spf>
    </auth_results>
  </record>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata>
    <org_name>${p1}</org_name>
    <email>${p2}</email>
    <extra_contact_info>${p3}</extra_contact_info>
    <report_id>${p2}${p1}</report_id>
    <date_range><begin>1735689600</begin><end>1735775999</end></date_range>
    <error>${p6}</error>
  </report_metadata>
  <policy_published>
    <domain>${esc(EVIL_DOMAIN)}</domain><adkim>r</adkim><aspf>r</aspf><p>${p1}</p><sp>${p2}</sp><pct>100</pct>
  </policy_published>${record('198.51.100.7', 40, 'pass', 'fail')}${record('203.0.113.9', 25, 'fail', 'fail')}
</feedback>
`;
}

export function evilFailureMail(): string {
  const [p1, p2, p3] = PAYLOADS as [string, string, string];
  return [
    `From: "${p1}" <abuse@reporter.test>`,
    'Date: Wed, 1 Jan 2025 10:00:00 +0000',
    `Subject: ${p2}`,
    'To: <dmarc@xss.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset="US-ASCII"',
    '',
    `A report ${p3}`,
    '',
    '--b1',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: auth-failure',
    `User-Agent: ${p1}`,
    'Version: 1',
    'Auth-Failure: dmarc',
    'Source-IP: 192.0.2.66',
    `Reported-Domain: ${EVIL_DOMAIN}`,
    `Original-Mail-From: ${p3}`,
    `DKIM-Domain: ${p2}`,
    `DKIM-Selector: ${p1}`,
    'Arrival-Date: Wed, 1 Jan 2025 09:59:00 +0000',
    '',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    `From: ${p2} <evil@xss.test>`,
    'To: victim@xss.test',
    `Subject: ${p1}`,
    `Message-ID: <${p3}@xss.test>`,
    '',
    '--b1--',
    '',
  ].join('\r\n');
}

export function evilTlsJson(): string {
  const [p1, p2, p3, p4] = PAYLOADS as [string, string, string, string];
  return JSON.stringify({
    'organization-name': p1,
    'date-range': { 'start-datetime': '2025-01-01T00:00:00Z', 'end-datetime': '2025-01-01T23:59:59Z' },
    'contact-info': p2,
    'report-id': `${p3}-tls`,
    policies: [
      {
        policy: { 'policy-type': 'sts', 'policy-string': [p4, p1], 'policy-domain': EVIL_DOMAIN, 'mx-host': [p2] },
        summary: { 'total-successful-session-count': 10, 'total-failure-session-count': 2 },
        'failure-details': [{ 'result-type': p1, 'sending-mta-ip': '192.0.2.9', 'receiving-mx-hostname': p2, 'failed-session-count': 2, 'additional-information': p4, 'failure-reason-code': p3 }],
      },
    ],
  });
}

/** PTR-like payloads for the payload report's source IPs, as the enrichment cache would hold them */
export async function cachePayloadPtrs(driver: Driver): Promise<void> {
  const cache = createEnrichmentCacheStore(driver);
  const now = Math.floor(Date.now() / 1000);
  for (const [ip, ptr] of [['198.51.100.7', PAYLOADS[1]!], ['203.0.113.9', `mail.${PAYLOADS[0]}.example`]] as const) {
    await cache.put(ip, { ip, ptr, forwardConfirmed: true, baseDomain: PAYLOADS[2]!, asn: 64500, asOrg: PAYLOADS[3]!, country: 'X<', dnsError: null, enrichedAt: now }, 86_400);
  }
}

/** ingests the payload reports; returns what the pipeline said about each */
export async function ingestPayloads(store: ReportStore): Promise<string[]> {
  const inputs = [
    bufferSource(`evil-aggregate-${PAYLOADS[1]}.xml`, Buffer.from(evilAggregateXml())),
    bufferSource('evil-failure.eml', Buffer.from(evilFailureMail())),
    bufferSource('evil-tls.json', Buffer.from(evilTlsJson())),
    // unreadable on purpose: its name and the parser's detail end up in the quarantine view
    bufferSource(`${PAYLOADS[0]}${PAYLOADS[2]}.xml`, Buffer.from(`<feedback><report_metadata>${PAYLOADS[1]}`)),
  ];
  const outcomes: string[] = [];
  for (const input of inputs) {
    for (const e of await ingestInput(input, { store, limits: DEFAULT_LIMITS })) outcomes.push(`${e.type}:${e.outcome}${e.reason ? `:${e.reason}` : ''}`);
  }
  return outcomes;
}
