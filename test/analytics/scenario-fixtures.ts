/**
 * The scenario of issue 4: reports for acme-corp.com where the verdict of every source is known, written as
 * aggregate report XML (so they go through the real parser), and the reverse DNS of their sources.
 */
import type { PtrZone } from '../helpers/ptr-dns.ts';

interface Sig {
  d: string;
  s: string;
  r: string;
}

interface Row {
  ip: string;
  count: number;
  dkimEval: 'pass' | 'fail';
  spfEval: 'pass' | 'fail';
  reason?: string;
  envelopeFrom?: string;
  dkim?: Sig[];
  spf?: { d: string; r: string };
}

export const DOMAIN = 'acme-corp.com';
const DAY = 86_400;
export const SEP_1 = Date.UTC(2024, 8, 1) / 1000;
const JUN_1 = Date.UTC(2024, 5, 1) / 1000;
const JUL_1 = Date.UTC(2024, 6, 1) / 1000;

export function reportXml(o: { id: string; org: string; begin: number; end: number; p?: string; rows: Row[] }): Buffer {
  const rec = (r: Row) => `
  <record>
    <row><source_ip>${r.ip}</source_ip><count>${r.count}</count>
      <policy_evaluated><disposition>none</disposition><dkim>${r.dkimEval}</dkim><spf>${r.spfEval}</spf>${r.reason ? `<reason><type>${r.reason}</type></reason>` : ''}</policy_evaluated></row>
    <identifiers><header_from>${DOMAIN}</header_from>${r.envelopeFrom ? `<envelope_from>${r.envelopeFrom}</envelope_from>` : ''}</identifiers>
    <auth_results>${(r.dkim ?? []).map((s) => `<dkim><domain>${s.d}</domain><selector>${s.s}</selector><result>${s.r}</result></dkim>`).join('')}
      <spf><domain>${r.spf?.d ?? DOMAIN}</domain><scope>mfrom</scope><result>${r.spf?.r ?? r.spfEval}</result></spf></auth_results>
  </record>`;
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <version>1.0</version>
  <report_metadata><org_name>${o.org}</org_name><email>dmarc@${o.org}</email><report_id>${o.id}</report_id>
    <date_range><begin>${o.begin}</begin><end>${o.end}</end></date_range></report_metadata>
  <policy_published><domain>${DOMAIN}</domain><adkim>r</adkim><aspf>r</aspf><p>${o.p ?? 'none'}</p><pct>100</pct></policy_published>${o.rows.map(rec).join('')}
</feedback>
`);
}

const own = (s: string, r = 'pass'): Sig => ({ d: DOMAIN, s, r });

/** the expected verdict of each crafted source (key signature in brackets when the IP has several) */
export const EXPECTED: Record<string, { verdict: string; service?: string; ptr?: string | null; fix?: RegExp | null; spoofing?: boolean }> = {
  '192.0.2.10': { verdict: 'compliant', ptr: 'mail.acme-corp.com', fix: null },
  '192.0.2.20': { verdict: 'unsigned-vendor', service: 'SendGrid', ptr: 'o1.ptr2042.sendgrid.net', fix: /^enable custom DKIM for SendGrid and publish selector s1$/ },
  '192.0.2.30': { verdict: 'unsigned-vendor', service: 'Mailchimp', ptr: 'mail30.sea71.mcsv.net', fix: /^enable custom DKIM for Mailchimp and publish selector k2$/ },
  '203.0.113.20': { verdict: 'forwarded', ptr: null, fix: /nothing to fix at the forwarder/ },
  '203.0.113.21': { verdict: 'forwarded', service: 'Pobox', ptr: 'mx1.pobox.com', fix: /nothing to fix/ },
  '198.51.100.30': { verdict: 'spf-only', ptr: 'legacy.acme-corp.com', fix: /^sign this server's mail with DKIM/ },
  '198.51.100.66': { verdict: 'failing', ptr: null, fix: /^likely spoofing/, spoofing: true },
};

export function scenarioReports(): { name: string; bytes: Buffer }[] {
  return [
    {
      name: 'acme-jun.xml',
      bytes: reportXml({ id: 'acme-jun', org: 'google.com', begin: JUN_1, end: JUN_1 + DAY - 1, rows: [
        { ip: '192.0.2.10', count: 200, dkimEval: 'pass', spfEval: 'pass', dkim: [own('2024q1acme')] },
      ] }),
    },
    {
      name: 'acme-jul.xml',
      bytes: reportXml({ id: 'acme-jul', org: 'google.com', begin: JUL_1, end: JUL_1 + DAY - 1, rows: [
        { ip: '192.0.2.10', count: 300, dkimEval: 'pass', spfEval: 'pass', dkim: [own('2024q3acme')] },
      ] }),
    },
    {
      name: 'acme-sep.xml',
      bytes: reportXml({ id: 'acme-sep', org: 'outlook.com', begin: SEP_1, end: SEP_1 + DAY - 1, rows: [
        { ip: '192.0.2.10', count: 500, dkimEval: 'pass', spfEval: 'pass', dkim: [own('2024q3acme')] },
        // the old key still signs two months after the new one started: a rotation never finished
        { ip: '192.0.2.11', count: 50, dkimEval: 'pass', spfEval: 'pass', dkim: [own('2024q1acme')] },
        { ip: '192.0.2.20', count: 120, dkimEval: 'fail', spfEval: 'pass', envelopeFrom: 'em1234.acme-corp.com', dkim: [{ d: 'sendgrid.net', s: 'smtpapi', r: 'pass' }], spf: { d: 'em1234.acme-corp.com', r: 'pass' } },
        { ip: '192.0.2.30', count: 60, dkimEval: 'fail', spfEval: 'fail', envelopeFrom: 'bounce.mcsv.net', dkim: [{ d: 'mcsv.net', s: 'k1', r: 'pass' }], spf: { d: 'bounce.mcsv.net', r: 'pass' } },
        { ip: '203.0.113.20', count: 30, dkimEval: 'fail', spfEval: 'fail', reason: 'forwarded', dkim: [own('2024q3acme', 'fail')] },
        { ip: '203.0.113.21', count: 15, dkimEval: 'fail', spfEval: 'fail', dkim: [own('2024q3acme', 'fail')] },
        { ip: '198.51.100.30', count: 80, dkimEval: 'fail', spfEval: 'pass' },
        // a selector whose key is missing: permerror (DMARC still passes with SPF)
        { ip: '192.0.2.12', count: 10, dkimEval: 'fail', spfEval: 'pass', dkim: [own('old', 'permerror')] },
        { ip: '198.51.100.66', count: 25, dkimEval: 'fail', spfEval: 'fail', spf: { d: DOMAIN, r: 'fail' } },
      ] }),
    },
  ];
}

/** Reverse DNS of the crafted sources; every other address gets a synthesized, forward-confirmed name. */
export const PTR_ZONE: PtrZone = {
  synthesize: true,
  ptr: {
    '192.0.2.10': ['mail.acme-corp.com'],
    '192.0.2.11': ['mail2.acme-corp.com'],
    '192.0.2.12': 'NXDOMAIN',
    '192.0.2.20': ['o1.ptr2042.sendgrid.net'],
    '192.0.2.30': ['mail30.sea71.mcsv.net'],
    '203.0.113.20': 'NXDOMAIN',
    '203.0.113.21': ['mx1.pobox.com'],
    '198.51.100.30': ['legacy.acme-corp.com'],
    '198.51.100.66': 'NXDOMAIN',
  },
  a: {
    'mail.acme-corp.com': ['192.0.2.10'],
    'mail2.acme-corp.com': ['192.0.2.11'],
    'o1.ptr2042.sendgrid.net': ['192.0.2.20'],
    'mail30.sea71.mcsv.net': ['192.0.2.30'],
    'mx1.pobox.com': ['203.0.113.21'],
    'legacy.acme-corp.com': ['198.51.100.30'],
  },
};
