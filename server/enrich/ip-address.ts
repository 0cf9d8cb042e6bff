/**
 * IP address parsing shared by the enrichment code: strict (no "1.2.3", no zone ids), IPv4-mapped IPv6
 * addresses become IPv4, and the text form is canonical (lower-case, compressed IPv6) so it can be a cache key.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type ParsedIp =
  | { kind: 'ipv4'; text: string; /** unsigned 32-bit value */ v4: number }
  | { kind: 'ipv6'; text: string; /** upper and lower 64 bits */ hi: bigint; lo: bigint };

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIp(raw: string): ParsedIp | null {
  const s = raw.trim();
  // fast path for the common case: canonical dotted-quad IPv4
  const q = DOTTED_QUAD.exec(s);
  if (q) return { kind: 'ipv4', text: s, v4: ((+q[1]! << 24) | (+q[2]! << 16) | (+q[3]! << 8) | +q[4]!) >>> 0 };
  if (s.includes('%') || isIP(s) === 0) return null;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(s);
  } catch {
    return null;
  }
  const bytes = addr.toByteArray();
  if (addr.kind() === 'ipv4') {
    const v4 = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    return { kind: 'ipv4', text: addr.toString(), v4 };
  }
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 8; i++) hi = (hi << 8n) | BigInt(bytes[i]!);
  for (let i = 8; i < 16; i++) lo = (lo << 8n) | BigInt(bytes[i]!);
  return { kind: 'ipv6', text: addr.toString(), hi, lo };
}

/** The canonical text of an IP address, or null when it is not one. */
export function normalizeIp(raw: string): string | null {
  return parseIp(raw)?.text ?? null;
}

/** Whether `ip` lies in `cidr` ("192.0.2.0/24", "2001:db8::/32"; a bare address means a single host). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const parsed = parseIp(ip);
  if (!parsed) return false;
  try {
    const [net, bits] = cidr.includes('/') ? ipaddr.parseCIDR(cidr.trim()) : cidrOfHost(cidr);
    const addr = ipaddr.parse(parsed.text);
    if (addr instanceof ipaddr.IPv4 && net instanceof ipaddr.IPv4) return addr.match(net, bits);
    if (addr instanceof ipaddr.IPv6 && net instanceof ipaddr.IPv6) return addr.match(net, bits);
    return false;
  } catch {
    return false;
  }
}

function cidrOfHost(host: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const p = parseIp(host);
  if (!p) throw new Error('not an address');
  const a = ipaddr.parse(p.text);
  return [a, a.kind() === 'ipv4' ? 32 : 128];
}

/** Whether a CIDR (or bare address) is well-formed; used to validate operator config. */
export function isValidCidr(cidr: string): boolean {
  if (!cidr.includes('/')) return parseIp(cidr) !== null;
  try {
    ipaddr.parseCIDR(cidr.trim());
    return true;
  } catch {
    return false;
  }
}

/** The name a PTR query asks for: "4.3.2.1.in-addr.arpa", or the 32 nibbles of an IPv6 address under ip6.arpa. */
export function reverseName(ip: ParsedIp): string {
  if (ip.kind === 'ipv4') {
    const v = ip.v4;
    return `${v & 255}.${(v >>> 8) & 255}.${(v >>> 16) & 255}.${v >>> 24}.in-addr.arpa`;
  }
  const hex = ip.hi.toString(16).padStart(16, '0') + ip.lo.toString(16).padStart(16, '0');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}
