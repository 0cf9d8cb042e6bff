import { describe, expect, it } from 'vitest';
import {
  SERVICE_TYPES,
  createSenderMatcher,
  domainAndParents,
  loadKnownSenders,
  validateSenderConfig,
} from '../../server/enrich/known-senders.ts';

describe('the built-in known-senders map', () => {
  const all = loadKnownSenders();

  it('has at least 100 entries with unique names, a valid type and at least one key each', () => {
    expect(all.length).toBeGreaterThanOrEqual(100);
    const names = all.map((s) => s.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    for (const s of all) {
      expect(SERVICE_TYPES, s.name).toContain(s.type);
      expect((s.ptr?.length ?? 0) + (s.asn?.length ?? 0) + (s.dkim?.length ?? 0), s.name).toBeGreaterThan(0);
    }
  });

  it('never gives the same key to two services', () => {
    for (const kind of ['ptr', 'dkim', 'asn'] as const) {
      const seen = new Map<string, string>();
      for (const s of all) {
        for (const k of s[kind] ?? []) {
          expect(seen.get(String(k)), `${kind} ${k}: ${s.name}`).toBeUndefined();
          seen.set(String(k), s.name);
        }
      }
    }
  });

  it('keys are lower-case domain names', () => {
    for (const s of all) for (const d of [...(s.ptr ?? []), ...(s.dkim ?? [])]) expect(d).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
  });

  it('covers the services the issue names', () => {
    const names = all.map((s) => s.name).join('\n');
    for (const n of ['Google Workspace', 'Microsoft 365', 'Amazon SES', 'SendGrid', 'Mailchimp', 'Mandrill', 'Salesforce', 'Zendesk', 'HubSpot', 'Mailgun', 'Postmark', 'SparkPost', 'Zoho', 'Fastmail', 'Proofpoint', 'Mimecast']) {
      expect(names).toContain(n);
    }
  });
});

describe('matching', () => {
  const m = createSenderMatcher();

  it('matches a forward-confirmed PTR by its base domain or a parent of it', () => {
    const id = m.identify({ ip: '40.107.1.2', ptr: 'mail-am6eur05on2052.outbound.protection.outlook.com', forwardConfirmed: true });
    expect(id.service).toMatchObject({ name: 'Microsoft 365', via: 'ptr', key: 'outlook.com' });
  });

  it('ignores a PTR name that is not forward-confirmed', () => {
    const id = m.identify({ ptr: 'mail-sor-f41.google.com', forwardConfirmed: false });
    expect(id.service).toBeNull();
  });

  it('prefers the most specific PTR key', () => {
    const mail = m.identify({ ptr: 'mo1.mail-out.ovh.net', forwardConfirmed: true });
    expect(mail.service?.name).toBe('OVHcloud Mail');
    const vps = m.identify({ ptr: 'vps-1234.vps.ovh.net', forwardConfirmed: true });
    expect(vps.service?.name).toBe('OVHcloud');
    expect(vps.service?.sendsForCustomers).toBe(false);
  });

  it('matches by ASN', () => {
    expect(m.identify({ asn: 11377 }).service).toMatchObject({ name: 'SendGrid', via: 'asn', key: 'AS11377' });
    expect(m.identify({ asn: 64512 }).service).toBeNull();
  });

  it('matches by the domain of a passing DKIM signature, before PTR and ASN', () => {
    const id = m.identify({ asn: 15169, ptr: 'mail-x.google.com', forwardConfirmed: true, dkimPassDomains: ['example-com.20230601.gappssmtp.com'] });
    expect(id.service).toMatchObject({ name: 'Google Workspace', via: 'dkim', key: 'gappssmtp.com' });
    const groups = m.identify({ asn: 15169, dkimPassDomains: ['example.com', 'googlegroups.com'] });
    expect(groups.service).toMatchObject({ name: 'Google Groups', forwarder: true, mailingList: true });
  });

  it('prefers a sending service found by weaker evidence over a hosting network', () => {
    const id = m.identify({ ptr: 'ec2-1-2-3-4.compute-1.amazonaws.com', forwardConfirmed: true, asn: 11377 });
    expect(id.service?.name).toBe('SendGrid');
    expect(m.identify({ asn: 16509 }).service).toMatchObject({ name: 'Amazon Web Services', sendsForCustomers: false });
  });
});

describe('operator extensions and approved sources', () => {
  it('adds operator services and lets them override built-in ones', () => {
    const m = createSenderMatcher({
      services: [
        { name: 'Our Billing', type: 'esp-transactional', ptr: ['billing.example.net'], selector: '2026billing' },
        { name: 'SendGrid', type: 'esp-transactional', asn: [64500] },
      ],
    });
    expect(m.identify({ ptr: 'out1.billing.example.net', forwardConfirmed: true }).service).toMatchObject({ name: 'Our Billing', selector: '2026billing' });
    expect(m.identify({ asn: 64500 }).service?.name).toBe('SendGrid');
    expect(m.identify({ asn: 11377 }).service).toBeNull(); // the override replaced the built-in entry
    expect(m.services.length).toBe(loadKnownSenders().length + 1);
  });

  it('approves by ip, cidr, base domain or service', () => {
    const m = createSenderMatcher({
      approved: [
        { ip: '192.0.2.10' },
        { cidr: '198.51.100.0/24', service: 'Office relay' },
        { baseDomain: 'example.org' },
        { service: 'Zendesk' },
      ],
    });
    expect(m.identify({ ip: '192.0.2.10' })).toMatchObject({ approved: true, approvedBy: 'ip 192.0.2.10', service: null });
    expect(m.identify({ ip: '192.0.2.11' }).approved).toBe(false);
    const relay = m.identify({ ip: '198.51.100.7' });
    expect(relay).toMatchObject({ approved: true, service: { name: 'Office relay', via: 'approved', type: 'other' } });
    expect(m.identify({ ptr: 'smtp.example.org', forwardConfirmed: true }).approved).toBe(true);
    expect(m.identify({ ptr: 'smtp.example.org', forwardConfirmed: false }).approved).toBe(false);
    expect(m.identify({ asn: 21880 })).toMatchObject({ approved: true, service: { name: 'Zendesk' } });
    expect(m.identify({ asn: 11377 }).approved).toBe(false);
  });

  it('validates the config section and lists every problem', () => {
    const { config, problems } = validateSenderConfig({
      services: [{ name: 'X', type: 'nope', ptr: ['x.test'] }, { name: 'Y', type: 'crm' }, { name: 'Ok', type: 'crm', dkim: ['OK.Test.'] }],
      approved: [{ cidr: '1.2.3.0/99' }, {}, { ip: '192.0.2.1' }],
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/services\[0\]\.type/);
    expect(problems.join('\n')).toMatch(/services\[1\]: needs at least one/);
    expect(problems.join('\n')).toMatch(/approved\[0\]\.cidr/);
    expect(config.services).toEqual([{ name: 'Ok', type: 'crm', dkim: ['ok.test'] }]);
    expect(config.approved).toEqual([{ ip: '192.0.2.1' }]);
    expect(validateSenderConfig('x').problems).toHaveLength(1);
    expect(validateSenderConfig(undefined)).toEqual({ config: {}, problems: [] });
  });

  it('walks parents down to the registrable domain only', () => {
    expect(domainAndParents('a.b.example.co.uk')).toEqual(['a.b.example.co.uk', 'b.example.co.uk', 'example.co.uk']);
    expect(domainAndParents('Mail.Example.COM.')).toEqual(['mail.example.com', 'example.com']);
    expect(domainAndParents('co.uk')).toEqual(['co.uk']);
  });
});
