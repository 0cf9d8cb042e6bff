/**
 * The receiving server's verdict on a report mail, read from its Authentication-Results headers (RFC 8601).
 * Pure: header fields in, MailAuthVerdict out.
 *
 * Which header is trusted: when an authserv-id is configured (DMARC_LENS_AUTHSERV_ID), only the topmost header
 * carrying that id — anyone can put any Authentication-Results header into the mail they send, so headers of
 * other ids prove nothing. Without one, the topmost header (the one the nearest server added).
 */
import { getDomain } from 'tldts';
import type { MailAuthVerdict } from '../domain/report-types.ts';
import { headerValues, type HeaderField } from './mail-headers.ts';

/** One `method=result` entry of an Authentication-Results header with its properties (`header.d`, `smtp.mailfrom`…). */
export interface AuthResult {
  method: string;
  result: string;
  props: Record<string, string>;
}

export interface AuthenticationResults {
  authservId: string;
  results: AuthResult[];
}

export interface MailAuthOptions {
  /** trust only Authentication-Results headers with this authserv-id (case-insensitive) */
  authservId?: string | null;
}

export function mailAuthVerdict(fields: HeaderField[], opts: MailAuthOptions = {}): MailAuthVerdict {
  const fromDomain = fromHeaderDomain(headerValues(fields, 'from')[0] ?? null);
  const parsed = headerValues(fields, 'authentication-results')
    .map(parseAuthenticationResults)
    .filter((h): h is AuthenticationResults => h !== null);
  const wanted = opts.authservId?.trim().toLowerCase();
  const trusted = wanted ? parsed.find((h) => h.authservId.toLowerCase() === wanted) : parsed[0];
  if (!trusted) {
    return { authservId: null, dkim: null, dkimDomain: null, spf: null, spfDomain: null, dmarc: null, fromDomain, authenticated: false };
  }
  const dkim = pickResult(trusted.results, 'dkim', dkimDomainOf, fromDomain);
  const spf = pickResult(trusted.results, 'spf', spfDomainOf, fromDomain);
  const dmarc = trusted.results.find((r) => r.method === 'dmarc')?.result ?? null;
  const authenticated =
    dmarc === 'pass' ||
    (dkim?.result === 'pass' && aligned(dkim.domain, fromDomain)) ||
    (spf?.result === 'pass' && aligned(spf.domain, fromDomain));
  return {
    authservId: trusted.authservId,
    dkim: dkim?.result ?? null,
    dkimDomain: dkim?.domain ?? null,
    spf: spf?.result ?? null,
    spfDomain: spf?.domain ?? null,
    dmarc,
    fromDomain,
    authenticated,
  };
}

/**
 * One `key=value` of a result. A key starts only at the start of the segment or after whitespace or a quote:
 * without that anchor, a long run of characters with no `=` (anyone can write such a header) would be tried from
 * each of its positions, quadratic in its length — minutes for one header of a few hundred kilobytes.
 */
const PAIR = /(?<![^\s"])([^\s="]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)/g;

/** Parses one Authentication-Results value; null when it has no authserv-id. */
export function parseAuthenticationResults(value: string): AuthenticationResults | null {
  const segments = splitOutsideQuotes(stripComments(value), ';').map((s) => s.trim());
  const head = segments.shift() ?? '';
  const authservId = head.split(/\s+/)[0] ?? '';
  if (!authservId) return null;
  const results: AuthResult[] = [];
  for (const segment of segments) {
    const pairs = [...segment.matchAll(PAIR)];
    const first = pairs.shift();
    if (!first) continue; // "none" or junk
    const method = (first[1] ?? '').toLowerCase().split('/')[0] ?? '';
    const props: Record<string, string> = {};
    for (const [, key, raw] of pairs) {
      const name = (key ?? '').toLowerCase();
      if (name && !(name in props)) props[name] = unquote(raw ?? '');
    }
    results.push({ method, result: unquote(first[2] ?? '').toLowerCase(), props });
  }
  return { authservId, results };
}

/** Domain of the From header's address, lower-case; null when there is no address. */
export function fromHeaderDomain(from: string | null): string | null {
  if (!from) return null;
  const angle = [...from.matchAll(/<([^<>]*)>/g)].pop()?.[1];
  const address = angle ?? from.split(/[\s,]+/).find((t) => t.includes('@')) ?? '';
  return domainOf(address);
}

/** Relaxed alignment (RFC 7489 3.1): same organizational domain. */
export function aligned(domain: string | null, fromDomain: string | null): boolean {
  if (!domain || !fromDomain) return false;
  if (domain === fromDomain) return true;
  const a = getDomain(domain);
  return a !== null && a === getDomain(fromDomain);
}

function pickResult(
  results: AuthResult[],
  method: string,
  domainOfResult: (r: AuthResult) => string | null,
  fromDomain: string | null,
): { result: string; domain: string | null } | null {
  const candidates = results.filter((r) => r.method === method).map((r) => ({ result: r.result, domain: domainOfResult(r) }));
  return (
    candidates.find((c) => c.result === 'pass' && aligned(c.domain, fromDomain)) ??
    candidates.find((c) => c.result === 'pass') ??
    candidates[0] ??
    null
  );
}

function dkimDomainOf(r: AuthResult): string | null {
  return domainOf(r.props['header.d'] ?? r.props['header.i'] ?? '');
}

function spfDomainOf(r: AuthResult): string | null {
  return domainOf(r.props['smtp.mailfrom'] ?? r.props['smtp.helo'] ?? '');
}

/** longest domain name (RFC 1035) */
const MAX_DOMAIN_LENGTH = 253;

function domainOf(value: string): string | null {
  const at = value.lastIndexOf('@');
  let domain = (at >= 0 ? value.slice(at + 1) : value).trim();
  // trailing '>', '.', ';', ',' cut by hand: a regex anchored at the end (/[>.;,]+$/) is quadratic on a long run of them
  let end = domain.length;
  while (end > 0 && '>.;,'.includes(domain[end - 1] as string)) end--;
  domain = domain.slice(0, end).toLowerCase();
  if (domain.length > MAX_DOMAIN_LENGTH) return null;
  return /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(domain) ? domain : null;
}

/** Removes RFC 5322 comments (nested parentheses, outside quoted strings). */
function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (value[i + 1] ?? '');
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && quoted) {
      current += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}
