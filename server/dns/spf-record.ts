/**
 * SPF records (RFC 7208): parsing the terms and judging one record on its own (all, ptr, order, size).
 * Pure; the include/redirect walk is spf-lookups.ts and evaluation for an IP is spf-eval.ts.
 */
import ipaddr from 'ipaddr.js';
import type { Finding } from './check-types.ts';
import { finding } from './finding-codes.ts';

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface SpfMechanism {
  kind: 'mechanism';
  raw: string;
  qualifier: Qualifier;
  name: MechanismName;
  /** target of include/exists/a/mx/ptr (may contain macros); undefined means the current domain */
  domainSpec?: string;
  /** ip4/ip6: the network address */
  ip?: string;
  cidr4?: number;
  cidr6?: number;
}

export interface SpfModifier {
  kind: 'modifier';
  raw: string;
  name: string;
  value: string;
}

export type SpfTerm = SpfMechanism | SpfModifier;

export interface ParsedSpf {
  terms: SpfTerm[];
  /** syntax errors; any of them makes the record a permanent error */
  problems: string[];
  redirect?: string;
}

const MECHANISMS = new Set<string>(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
/** mechanisms and modifiers that cost one DNS lookup each (RFC 7208 4.6.4) */
export const LOOKUP_TERMS = new Set<string>(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);
const MACRO = /%(\{[slodiphcrtv]\d*r?[.\-+,/_=]*\}|%|_|-)/gi;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

export function isSpfRecord(text: string): boolean {
  return /^v=spf1(\s|$)/i.test(text.trim());
}

export function hasMacro(spec: string): boolean {
  return spec.includes('%');
}

/** domain-spec: macro-string ending in a domain (RFC 7208 7.1); with macros only the macro syntax is checked */
export function isValidDomainSpec(spec: string): boolean {
  if (hasMacro(spec)) return spec.replace(MACRO, 'x').indexOf('%') < 0 && /^[\x21-\x7e]+$/.test(spec);
  const name = spec.replace(/\.$/, '');
  const labels = name.split('.');
  return labels.length >= 2 && name.length <= 253 && labels.every((l) => LABEL.test(l)) && /[a-z]/i.test(labels[labels.length - 1] ?? '');
}

export function parseSpf(text: string): ParsedSpf {
  const words = text.trim().split(/\s+/);
  const terms: SpfTerm[] = [];
  const problems: string[] = [];
  let redirect: string | undefined;
  const seenModifiers = new Set<string>();
  for (const raw of words.slice(1)) {
    const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(raw);
    if (modifier) {
      const name = (modifier[1] ?? '').toLowerCase();
      const value = modifier[2] ?? '';
      if ((name === 'redirect' || name === 'exp') && seenModifiers.has(name)) problems.push(`"${name}=" appears more than once`);
      seenModifiers.add(name);
      if ((name === 'redirect' || name === 'exp') && !isValidDomainSpec(value)) problems.push(`"${raw}": "${value}" is not a valid domain`);
      if (name === 'redirect') redirect = value;
      terms.push({ kind: 'modifier', raw, name, value });
      continue;
    }
    const m = /^([+\-~?]?)([a-z0-9]+)(.*)$/i.exec(raw);
    const name = (m?.[2] ?? '').toLowerCase();
    if (!m || !MECHANISMS.has(name)) {
      problems.push(`"${raw}" is not an SPF mechanism or modifier`);
      continue;
    }
    const mech = parseMechanism(raw, (m[1] || '+') as Qualifier, name as MechanismName, m[3] ?? '');
    if (typeof mech === 'string') problems.push(`"${raw}": ${mech}`);
    else terms.push(mech);
  }
  return redirect === undefined ? { terms, problems } : { terms, problems, redirect };
}

function parseMechanism(raw: string, qualifier: Qualifier, name: MechanismName, rest: string): SpfMechanism | string {
  const base: SpfMechanism = { kind: 'mechanism', raw, qualifier, name };
  if (name === 'all') return rest === '' ? base : 'all takes no argument';
  if (name === 'ip4' || name === 'ip6') {
    const m = /^:([^/]+)(?:\/(\d{1,3}))?$/.exec(rest);
    if (!m) return `${name} needs an address`;
    const ip = m[1] ?? '';
    const bits = m[2] === undefined ? undefined : Number(m[2]);
    if (name === 'ip4') {
      if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return `"${ip}" is not an IPv4 address`;
      if (bits !== undefined && bits > 32) return `/${bits} is not a valid IPv4 prefix length`;
      return { ...base, ip, cidr4: bits ?? 32 };
    }
    if (!ip.includes(':') || !ipaddr.IPv6.isValid(ip)) return `"${ip}" is not an IPv6 address`;
    if (bits !== undefined && bits > 128) return `/${bits} is not a valid IPv6 prefix length`;
    return { ...base, ip, cidr6: bits ?? 128 };
  }
  const m = /^(?::([^/]*))?((?:\/\d{1,3})?(?:\/\/\d{1,3})?)$/.exec(rest);
  if (!m) return 'malformed argument';
  const spec = m[1];
  const cidr = m[2] ?? '';
  if (spec !== undefined && !isValidDomainSpec(spec)) return `"${spec}" is not a valid domain`;
  if ((name === 'include' || name === 'exists') && spec === undefined) return `${name} needs a domain (${name}:example.com)`;
  if (cidr !== '' && name !== 'a' && name !== 'mx') return `${name} takes no prefix length`;
  const c4 = /^\/(\d{1,3})/.exec(cidr);
  const c6 = /\/\/(\d{1,3})$/.exec(cidr);
  const cidr4 = c4 ? Number(c4[1]) : 32;
  const cidr6 = c6 ? Number(c6[1]) : 128;
  if (cidr4 > 32 || cidr6 > 128) return 'prefix length out of range';
  const out: SpfMechanism = { ...base, cidr4, cidr6 };
  if (spec !== undefined) out.domainSpec = spec;
  return out;
}

/** Judges the all mechanism, term order and size of the record published at the checked domain. */
export function analyzeTopSpf(domain: string, text: string, parsed: ParsedSpf): Finding[] {
  const findings: Finding[] = [];
  const allIndex = parsed.terms.findIndex((t) => t.kind === 'mechanism' && t.name === 'all');
  const all = allIndex >= 0 ? (parsed.terms[allIndex] as SpfMechanism) : undefined;
  const fixed = (replacement: string) => `${domain} TXT "${rebuild(parsed, replacement)}"`;
  if (all?.qualifier === '?') findings.push(finding('spf-neutral-all', `"${all.raw}" makes every host not listed "neutral", which gives no protection.`, fixed('~all')));
  if (all === undefined && parsed.redirect === undefined) {
    findings.push(finding('spf-no-all', 'The record ends without an all mechanism (and has no redirect=), so hosts not listed get "neutral".', fixed('~all')));
  }
  if (all !== undefined) {
    const afterMechanisms = parsed.terms.slice(allIndex + 1).filter((t) => t.kind === 'mechanism');
    if (afterMechanisms.length > 0) findings.push(finding('spf-terms-after-all', `${afterMechanisms.map((t) => t.raw).join(', ')} come${afterMechanisms.length === 1 ? 's' : ''} after "${all.raw}" and ${afterMechanisms.length === 1 ? 'is' : 'are'} never evaluated.`, fixed(all.raw)));
    if (parsed.redirect !== undefined) findings.push(finding('spf-redirect-with-all', `redirect=${parsed.redirect} is ignored because the record has "${all.raw}".`, fixed(all.raw)));
  }
  for (const t of parsed.terms) {
    if (t.kind === 'modifier' && t.name !== 'redirect' && t.name !== 'exp') findings.push(finding('spf-unknown-modifier', `Unknown modifier "${t.raw}" is ignored.`));
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > 450) findings.push(finding('spf-record-too-long', `The record is ${bytes} bytes; RFC 7208 3.4 advises staying under 450 so the answer fits in one UDP packet. Move hosts into an include: of a subdomain.`));
  return findings;
}

/** Findings any record in the include tree can trigger: +all and ptr. `via` names the path ("include:x.test"). */
export function analyzeMechanisms(domain: string, parsed: ParsedSpf, via: string): Finding[] {
  const findings: Finding[] = [];
  const where = via === '' ? `The record of ${domain}` : `The record of ${domain} (reached through ${via})`;
  for (const t of parsed.terms) {
    if (t.kind !== 'mechanism') continue;
    if (t.name === 'all' && t.qualifier === '+') {
      findings.push(finding('spf-pass-all', `${where} has "${t.raw}", which authorizes every host on the Internet to send as this domain.`, via === '' ? `${domain} TXT "${rebuild(parsed, '~all')}"` : undefined));
    }
    if (t.name === 'ptr') findings.push(finding('spf-ptr', `${where} uses "${t.raw}": slow, unreliable and discouraged (RFC 7208 5.5); many receivers skip it. List the addresses with ip4:/ip6: instead.`));
  }
  return findings;
}

/** The record with its all mechanism replaced (or appended) and terms after it dropped. */
function rebuild(parsed: ParsedSpf, all: string): string {
  const out = ['v=spf1'];
  for (const t of parsed.terms) {
    if (t.kind === 'mechanism' && t.name === 'all') break;
    if (t.kind === 'modifier' && t.name === 'redirect') continue;
    out.push(t.raw);
  }
  out.push(all);
  return out.join(' ');
}
