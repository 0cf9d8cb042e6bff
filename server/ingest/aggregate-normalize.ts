/**
 * Pure value normalizers for aggregate reports: what reporters get wrong in single values
 * (padding, case, decimal or millisecond epochs, odd IP spellings, non-numeric counts).
 */
import ipaddr from 'ipaddr.js';

/** Trims spaces, tabs, CR/LF (and other Unicode white space); empty → null. */
export function cleanText(raw: string | null): string | null {
  if (raw === null) return null;
  const n = raw.length;
  if (n === 0) return null;
  const v = raw.charCodeAt(0) <= 32 || raw.charCodeAt(n - 1) <= 32 || raw.charCodeAt(0) > 127 || raw.charCodeAt(n - 1) > 127 ? raw.trim() : raw;
  return v.length === 0 ? null : v;
}

const UPPER = /[A-Z]/;

/** Lower-cased enum value (already trimmed). */
export function lowerEnum(v: string | null): string | null {
  return v !== null && UPPER.test(v) ? v.toLowerCase() : v;
}

/** SPF results: lower-case, and the common `hardfail` means `fail`. */
export function spfResult(v: string | null): string | null {
  const r = lowerEnum(v);
  return r === 'hardfail' ? 'fail' : r;
}

/** A non-negative integer from a trimmed value ("12", "12.0"); null when it is not one. */
export function parseCount(v: string | null): number | null {
  if (v === null) return null;
  let n = 0;
  const len = v.length;
  let k = 0;
  for (; k < len; k++) {
    const c = v.charCodeAt(k);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (k === len) return k > 0 && n <= Number.MAX_SAFE_INTEGER ? n : null;
  if (!/^\d*\.\d*$/.test(v) || v === '.') return null;
  const f = Number(v);
  return Number.isFinite(f) && f >= 0 ? Math.trunc(f) : null;
}

/** `pct`: an integer percentage, or null. */
export function parsePct(v: string | null): number | null {
  if (v === null) return null;
  const f = Number(v.replace(/%$/, ''));
  return Number.isFinite(f) ? Math.trunc(f) : null;
}

/** Epoch seconds from "1524182400", "1524182400.0", milliseconds, or (as a last resort) an ISO date. */
export function parseEpoch(v: string | null, what: string, note: (message: string) => void): number | null {
  if (v === null) return null;
  let seconds: number;
  if (/^\d+(\.\d*)?$/.test(v)) {
    seconds = Math.trunc(Number(v));
    if (seconds > 1e11) {
      seconds = Math.trunc(seconds / 1000);
      note(`repaired: millisecond epoch in <${what}> converted to seconds`);
    }
  } else {
    const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) return null;
    seconds = Math.trunc(ms / 1000);
    note(`repaired: date ${JSON.stringify(v)} in <${what}> read as an ISO date`);
  }
  return Number.isSafeInteger(seconds) ? seconds : null;
}

/** `ok` false: not an IP address; `ip` is then the text as given */
export interface IpParse {
  ip: string;
  ok: boolean;
}

/** IPv4 as dotted decimal without leading zeros, IPv6 lower-case compressed (RFC 5952); else kept as text. */
export function normalizeIp(v: string): IpParse {
  const four = fastIpv4(v);
  if (four !== null) return { ip: four, ok: true };
  let s = v;
  if (s.charCodeAt(0) === 91 && s.charCodeAt(s.length - 1) === 93) s = s.slice(1, -1);
  if (isCanonicalIpv6(s)) return { ip: s, ok: true };
  if (s.indexOf(':') >= 0 && ipaddr.IPv6.isValid(s)) {
    if (s.indexOf('.') >= 0) return { ip: s.toLowerCase(), ok: true };
    return { ip: ipaddr.IPv6.parse(s).toRFC5952String(), ok: true };
  }
  return { ip: v, ok: false };
}

/** "192.0.2.1" (1–3 decimal digits per part, each ≤ 255); leading zeros are read as decimal and dropped */
function fastIpv4(v: string): string | null {
  const len = v.length;
  if (len < 7 || len > 15) return null;
  let parts = 0;
  let digits = 0;
  let value = 0;
  let leadingZero = false;
  for (let k = 0; k <= len; k++) {
    const c = k < len ? v.charCodeAt(k) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return null;
      if (digits > 1 && v.charCodeAt(k - digits) === 48) leadingZero = true;
      parts++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else return null;
  }
  if (parts !== 4) return null;
  return leadingZero ? v.split('.').map((p) => String(Number(p))).join('.') : v;
}

/**
 * True for IPv6 text already in RFC 5952 form with a '::' (lower-case hex, no leading zeros, no zero group
 * besides the compressed run, which stands for at least two groups): the common case, checked without parsing.
 */
function isCanonicalIpv6(s: string): boolean {
  const len = s.length;
  if (len < 2 || len > 39) return false;
  let groups = 0;
  let digits = 0;
  let double = 0;
  let leadingZero = false;
  for (let k = 0; k <= len; k++) {
    const c = k < len ? s.charCodeAt(k) : 58;
    if (c === 58) {
      if (digits === 0) {
        // an empty group: only as part of one '::'
        if (k === len) {
          if (s.charCodeAt(k - 1) !== 58 || s.charCodeAt(k - 2) !== 58) return false;
        } else if (k === 0) {
          if (s.charCodeAt(1) !== 58) return false;
        } else if (s.charCodeAt(k - 1) === 58) {
          if (++double > 1 || (k >= 2 && s.charCodeAt(k - 2) === 58)) return false;
        } else return false;
      } else {
        if (leadingZero) return false;
        groups++;
      }
      digits = 0;
      leadingZero = false;
    } else if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) {
      if (digits === 0 && c === 48) leadingZero = true;
      else if (digits > 0 && leadingZero) return false;
      if (++digits > 4) return false;
    } else return false;
  }
  return double === 1 && groups <= 6;
}

/** "dmarc@mail.example.com" / "mailto:x@y" / "Name <x@y>" → "mail.example.com" */
export function domainOfEmail(email: string | null): string | null {
  if (email === null) return null;
  const at = email.lastIndexOf('@');
  if (at < 0) return null;
  const domain = email
    .slice(at + 1)
    .replace(/[>\s,;].*$/, '')
    .toLowerCase();
  return domain.length > 0 ? domain : null;
}
