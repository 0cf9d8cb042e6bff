/**
 * SPF macro expansion (RFC 7208 7) for evaluating a record against one IP: %{i}, %{ir}, %{d}, %{o},
 * %{s}, %{l}, %{v}, %{h}, digit and r transformers, custom delimiters, %%, %_ and %-.
 */
import type ipaddr from 'ipaddr.js';

export interface MacroContext {
  ip: ipaddr.IPv4 | ipaddr.IPv6;
  /** the <domain> currently being evaluated */
  domain: string;
  /** envelope sender; postmaster@<domain> when unknown */
  sender: string;
  helo: string;
}

export function expandMacros(spec: string, ctx: MacroContext): string {
  const out = spec.replace(/%(?:\{([a-z])(\d*)(r?)([.\-+,/_=]*)\}|(%)|(_)|(-))/gi, (_m, letter?: string, digits?: string, reverse?: string, delims?: string, pct?: string, us?: string, dash?: string) => {
    if (pct) return '%';
    if (us) return ' ';
    if (dash) return '%20';
    const raw = macroValue((letter ?? '').toLowerCase(), ctx);
    let parts = raw.split(new RegExp(`[${escapeClass(delims || '.')}]`));
    if (reverse) parts = parts.reverse();
    const keep = digits ? Number(digits) : 0;
    if (keep > 0 && keep < parts.length) parts = parts.slice(parts.length - keep);
    return parts.join('.');
  });
  // RFC 7208 7.3: drop labels from the left until the name fits in 253 octets
  let name = out;
  while (name.length > 253 && name.includes('.')) name = name.slice(name.indexOf('.') + 1);
  return name;
}

function macroValue(letter: string, ctx: MacroContext): string {
  const at = ctx.sender.lastIndexOf('@');
  switch (letter) {
    case 's':
      return ctx.sender;
    case 'l':
      return at > 0 ? ctx.sender.slice(0, at) : 'postmaster';
    case 'o':
      return at >= 0 ? ctx.sender.slice(at + 1) : ctx.sender;
    case 'd':
      return ctx.domain;
    case 'i':
      return ctx.ip.kind() === 'ipv4'
        ? ctx.ip.toString()
        : ctx.ip.toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('').split('').join('.');
    case 'v':
      return ctx.ip.kind() === 'ipv4' ? 'in-addr' : 'ip6';
    case 'h':
      return ctx.helo;
    case 'p':
      return 'unknown';
    default:
      return '';
  }
}

function escapeClass(chars: string): string {
  return chars.replace(/[\]\\^-]/g, (c) => `\\${c}`);
}
