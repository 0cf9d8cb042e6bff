/**
 * Who operates a sending source: the built-in known-senders map (server/domain/known-senders.json), the
 * operator's own entries and the operator's "approved sources" list.
 *
 * Matching, strongest evidence first:
 *   1. the domain of a PASSING DKIM signature (only the service can sign for its own domain),
 *   2. the forward-confirmed PTR name (anyone can publish a PTR; only the owner of the name can confirm it),
 *   3. the ASN of the IP (weakest: shared networks).
 * A key matches the domain itself or any parent of it down to the registrable (base) domain, so an entry may
 * use a more specific key ("mail-out.ovh.net") than another ("ovh.net"): the longest key wins.
 * Operator entries come before built-in ones; an operator entry with a built-in name replaces it.
 */
import { readFileSync } from 'node:fs';
import { getDomain } from 'tldts';
import { ipInCidr, isValidCidr, normalizeIp } from './ip-address.ts';
import { projectPath } from '../project-root.ts';

export const SERVICE_TYPES = [
  'mailbox-provider',
  'esp-marketing',
  'esp-transactional',
  'crm',
  'helpdesk',
  'hr',
  'security-gateway',
  'forwarder',
  'mailing-list',
  'hosting',
  'saas',
  'ecommerce',
  'other',
] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export interface ServiceEntry {
  name: string;
  type: ServiceType;
  /** base domains (or more specific names) of the PTR names of its servers */
  ptr?: string[];
  asn?: number[];
  /** domains it signs DKIM with when not set up with the customer's own domain */
  dkim?: string[];
  /** the DKIM selector the service asks customers to publish (used in fix texts) */
  selector?: string;
  /** relays mail on behalf of others (mail arrives from it with the original author's From) */
  forwarder?: boolean;
  mailingList?: boolean;
}

export interface ApprovedSource {
  ip?: string;
  cidr?: string;
  /** base domain of a forward-confirmed PTR name */
  baseDomain?: string;
  /** alone: approves every source matched to this service; with ip/cidr/baseDomain: names that source */
  service?: string;
}

export interface SenderConfig {
  services?: ServiceEntry[];
  approved?: ApprovedSource[];
}

/** What is known about one source (from enrichment and the reports). */
export interface SenderFacts {
  ip?: string | null;
  ptr?: string | null;
  forwardConfirmed?: boolean | null;
  asn?: number | null;
  /** signing domains of DKIM signatures that PASSED for mail from this source */
  dkimPassDomains?: readonly string[];
}

export type MatchVia = 'dkim' | 'ptr' | 'asn' | 'approved';

export interface ServiceMatch {
  name: string;
  type: ServiceType;
  via: MatchVia;
  /** the key that matched: a domain, "AS15169", or the approved entry */
  key: string;
  forwarder: boolean;
  mailingList: boolean;
  selector: string | null;
  /** false for 'hosting': a network where anyone runs servers, not a service that sends for the domain */
  sendsForCustomers: boolean;
}

export interface SenderIdentity {
  service: ServiceMatch | null;
  approved: boolean;
  /** which approved entry matched, in words (e.g. "cidr 192.0.2.0/24") */
  approvedBy: string | null;
}

export interface SenderMatcher {
  readonly services: readonly ServiceEntry[];
  identify(facts: SenderFacts): SenderIdentity;
  /** a service by name (case-insensitive) */
  service(name: string): ServiceEntry | null;
}

let builtIn: ServiceEntry[] | null = null;

/** The built-in map (read once). */
export function loadKnownSenders(): ServiceEntry[] {
  if (!builtIn) {
    const raw: unknown = JSON.parse(readFileSync(projectPath('server', 'domain', 'known-senders.json'), 'utf8'));
    const { config, problems } = validateSenderConfig(raw);
    if (problems.length > 0) throw new Error(`known-senders.json: ${problems.join('; ')}`);
    builtIn = config.services ?? [];
  }
  return builtIn;
}

/** Checks an operator config section (`senders` in the config file); lists every problem at once. */
export function validateSenderConfig(raw: unknown): { config: SenderConfig; problems: string[] } {
  const problems: string[] = [];
  const config: SenderConfig = {};
  if (raw === undefined || raw === null) return { config, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { config, problems: ['senders: expected an object'] };
  const r = raw as Record<string, unknown>;
  if (r.services !== undefined) {
    if (!Array.isArray(r.services)) problems.push('senders.services: expected an array');
    else config.services = r.services.flatMap((e, i) => validService(e, `senders.services[${i}]`, problems));
  }
  if (r.approved !== undefined) {
    if (!Array.isArray(r.approved)) problems.push('senders.approved: expected an array');
    else config.approved = r.approved.flatMap((e, i) => validApproved(e, `senders.approved[${i}]`, problems));
  }
  return { config, problems };
}

function strings(v: unknown, where: string, problems: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.trim() !== '')) {
    problems.push(`${where}: expected an array of non-empty strings`);
    return undefined;
  }
  return v.map((s: string) => cleanDomain(s));
}

function validService(e: unknown, where: string, problems: string[]): ServiceEntry[] {
  if (!e || typeof e !== 'object') {
    problems.push(`${where}: expected an object`);
    return [];
  }
  const o = e as Record<string, unknown>;
  const before = problems.length;
  if (typeof o.name !== 'string' || o.name.trim() === '') problems.push(`${where}.name: required`);
  if (typeof o.type !== 'string' || !(SERVICE_TYPES as readonly string[]).includes(o.type)) {
    problems.push(`${where}.type: one of ${SERVICE_TYPES.join(', ')}`);
  }
  const ptr = strings(o.ptr, `${where}.ptr`, problems);
  const dkim = strings(o.dkim, `${where}.dkim`, problems);
  let asn: number[] | undefined;
  if (o.asn !== undefined) {
    if (!Array.isArray(o.asn) || !o.asn.every((n) => Number.isInteger(n) && n > 0 && n < 2 ** 32)) problems.push(`${where}.asn: expected an array of AS numbers`);
    else asn = o.asn as number[];
  }
  if (!ptr?.length && !dkim?.length && !asn?.length) problems.push(`${where}: needs at least one of ptr, asn, dkim`);
  if (o.selector !== undefined && typeof o.selector !== 'string') problems.push(`${where}.selector: expected a string`);
  if (problems.length > before) return [];
  const entry: ServiceEntry = { name: (o.name as string).trim(), type: o.type as ServiceType };
  if (ptr) entry.ptr = ptr;
  if (asn) entry.asn = asn;
  if (dkim) entry.dkim = dkim;
  if (typeof o.selector === 'string') entry.selector = o.selector;
  if (o.forwarder === true) entry.forwarder = true;
  if (o.mailingList === true) entry.mailingList = true;
  return [entry];
}

function validApproved(e: unknown, where: string, problems: string[]): ApprovedSource[] {
  if (!e || typeof e !== 'object') {
    problems.push(`${where}: expected an object`);
    return [];
  }
  const o = e as Record<string, unknown>;
  const before = problems.length;
  const out: ApprovedSource = {};
  if (o.ip !== undefined) {
    const ip = typeof o.ip === 'string' ? normalizeIp(o.ip) : null;
    if (!ip) problems.push(`${where}.ip: not an IP address`);
    else out.ip = ip;
  }
  if (o.cidr !== undefined) {
    if (typeof o.cidr !== 'string' || !isValidCidr(o.cidr)) problems.push(`${where}.cidr: not a CIDR range`);
    else out.cidr = o.cidr.trim();
  }
  for (const k of ['baseDomain', 'service'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string' || (o[k] as string).trim() === '') problems.push(`${where}.${k}: expected a non-empty string`);
    else out[k] = k === 'baseDomain' ? cleanDomain(o[k] as string) : (o[k] as string).trim();
  }
  if (!out.ip && !out.cidr && !out.baseDomain && !out.service && problems.length === before) problems.push(`${where}: needs one of ip, cidr, baseDomain, service`);
  return problems.length > before ? [] : [out];
}

function cleanDomain(d: string): string {
  return d.trim().toLowerCase().replace(/\.$/, '');
}

/** The name itself, then each parent, down to (and including) its registrable domain. */
export function domainAndParents(name: string): string[] {
  const d = cleanDomain(name);
  if (d === '') return [];
  const base = getDomain(d);
  const out = [d];
  let rest = d;
  while (base && rest !== base && rest.includes('.')) {
    rest = rest.slice(rest.indexOf('.') + 1);
    out.push(rest);
  }
  return out;
}

export function createSenderMatcher(config: SenderConfig = {}): SenderMatcher {
  const own = config.services ?? [];
  const ownNames = new Set(own.map((s) => s.name.toLowerCase()));
  const services = [...own, ...loadKnownSenders().filter((s) => !ownNames.has(s.name.toLowerCase()))];
  const byPtr = new Map<string, ServiceEntry>();
  const byDkim = new Map<string, ServiceEntry>();
  const byAsn = new Map<number, ServiceEntry>();
  const byName = new Map<string, ServiceEntry>();
  // first entry wins a key: operator entries were put first
  for (const s of services) {
    for (const k of s.ptr ?? []) if (!byPtr.has(k)) byPtr.set(k, s);
    for (const k of s.dkim ?? []) if (!byDkim.has(k)) byDkim.set(k, s);
    for (const k of s.asn ?? []) if (!byAsn.has(k)) byAsn.set(k, s);
    if (!byName.has(s.name.toLowerCase())) byName.set(s.name.toLowerCase(), s);
  }
  const approved = config.approved ?? [];

  const toMatch = (s: ServiceEntry, via: MatchVia, key: string): ServiceMatch => ({
    name: s.name,
    type: s.type,
    via,
    key,
    forwarder: s.forwarder === true || s.type === 'forwarder' || s.type === 'mailing-list',
    mailingList: s.mailingList === true || s.type === 'mailing-list',
    selector: s.selector ?? null,
    sendsForCustomers: s.type !== 'hosting',
  });

  const findByDomain = (map: Map<string, ServiceEntry>, domain: string): [ServiceEntry, string] | null => {
    for (const d of domainAndParents(domain)) {
      const s = map.get(d);
      if (s) return [s, d];
    }
    return null;
  };

  const matchService = (f: SenderFacts): ServiceMatch | null => {
    // Strongest evidence first (DKIM, then confirmed PTR, then ASN), but a sending service found by weaker
    // evidence beats a hosting network found by stronger evidence (PTR "ec2-….amazonaws.com" vs an ASN entry).
    const found: ServiceMatch[] = [];
    for (const d of f.dkimPassDomains ?? []) {
      const hit = findByDomain(byDkim, d);
      if (hit) found.push(toMatch(hit[0], 'dkim', hit[1]));
    }
    if (f.ptr && f.forwardConfirmed === true) {
      const hit = findByDomain(byPtr, f.ptr);
      if (hit) found.push(toMatch(hit[0], 'ptr', hit[1]));
    }
    if (f.asn != null) {
      const s = byAsn.get(f.asn);
      if (s) found.push(toMatch(s, 'asn', `AS${f.asn}`));
    }
    return found.find((m) => m.sendsForCustomers) ?? found[0] ?? null;
  };

  const approvalOf = (a: ApprovedSource, f: SenderFacts, svc: ServiceMatch | null): boolean => {
    const hasNetwork = a.ip !== undefined || a.cidr !== undefined || a.baseDomain !== undefined;
    if (!hasNetwork) return svc !== null && a.service !== undefined && svc.name.toLowerCase() === a.service.toLowerCase();
    const ip = f.ip ? normalizeIp(f.ip) : null;
    if (a.ip !== undefined && ip !== a.ip) return false;
    if (a.cidr !== undefined && !(ip && ipInCidr(ip, a.cidr))) return false;
    if (a.baseDomain !== undefined) {
      if (!f.ptr || f.forwardConfirmed !== true || !domainAndParents(f.ptr).includes(a.baseDomain)) return false;
    }
    return true;
  };

  return {
    services,
    service: (name) => byName.get(name.toLowerCase()) ?? null,
    identify(f: SenderFacts): SenderIdentity {
      let service = matchService(f);
      for (const a of approved) {
        if (!approvalOf(a, f, service)) continue;
        const by = describeApproved(a);
        // an approved network entry that names a service labels the source when nothing stronger matched
        if (a.service && (!service || !service.sendsForCustomers)) {
          const known = byName.get(a.service.toLowerCase());
          service = known
            ? { ...toMatch(known, 'approved', by) }
            : { name: a.service, type: 'other', via: 'approved', key: by, forwarder: false, mailingList: false, selector: null, sendsForCustomers: true };
        }
        return { service, approved: true, approvedBy: by };
      }
      return { service, approved: false, approvedBy: null };
    },
  };
}

function describeApproved(a: ApprovedSource): string {
  const parts: string[] = [];
  if (a.ip) parts.push(`ip ${a.ip}`);
  if (a.cidr) parts.push(`cidr ${a.cidr}`);
  if (a.baseDomain) parts.push(`baseDomain ${a.baseDomain}`);
  if (a.service) parts.push(`service ${a.service}`);
  return parts.join(', ');
}
