/**
 * Reverse DNS of one IP with forward confirmation: the PTR name counts only if one of its A/AAAA records is
 * the IP again (anyone can publish a PTR saying "mail.google.com"; only Google can make that name resolve back).
 * Never throws: failures come back as an error kind.
 */
import type { EnrichErrorKind } from './enrichment.ts';
import { parseIp, reverseName } from './ip-address.ts';
import type { ReverseResolver } from './resolver.ts';

export interface ReverseDnsResult {
  ptr: string | null;
  forwardConfirmed: boolean | null;
  error: EnrichErrorKind | null;
}

/** most PTR names considered for one IP, and most of them forward-resolved */
const MAX_NAMES = 8;
const MAX_CONFIRM = 3;

export function errorKindOf(err: unknown): EnrichErrorKind {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOTFOUND':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    case 'ETIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ESERVFAIL':
      return 'servfail';
    case 'EREFUSED':
      return 'refused';
    default:
      return 'error';
  }
}

/** A lower-case host name without trailing dot, or null when it is not a plausible host name. */
export function cleanHostName(name: string): string | null {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n.length === 0 || n.length > 253) return null;
  return /^[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/.test(n) ? n : null;
}

export async function reverseLookup(ip: string, resolver: ReverseResolver, deadlineMs: number): Promise<ReverseDnsResult> {
  const parsed = parseIp(ip);
  if (!parsed) return { ptr: null, forwardConfirmed: null, error: 'bad-ip' };
  let names: string[];
  try {
    const raw = await withDeadline(resolver.resolvePtr(reverseName(parsed)), deadlineMs);
    names = [...new Set(raw.slice(0, MAX_NAMES).map(cleanHostName).filter((n): n is string => n !== null))];
  } catch (err) {
    return { ptr: null, forwardConfirmed: null, error: errorKindOf(err) };
  }
  if (names.length === 0) return { ptr: null, forwardConfirmed: null, error: 'nodata' };

  let unknown = false;
  for (const name of names.slice(0, MAX_CONFIRM)) {
    try {
      const lookup = parsed.kind === 'ipv4' ? resolver.resolve4(name) : resolver.resolve6(name);
      const addrs = await withDeadline(lookup, deadlineMs);
      if (addrs.some((a) => parseIp(a)?.text === parsed.text)) return { ptr: name, forwardConfirmed: true, error: null };
    } catch (err) {
      const kind = errorKindOf(err);
      if (kind !== 'nxdomain' && kind !== 'nodata') unknown = true;
    }
  }
  return { ptr: names[0]!, forwardConfirmed: unknown ? null : false, error: null };
}

/**
 * c-ares enforces the resolver timeout itself; this is only a backstop so a wedged query can never hold a
 * concurrency slot forever.
 */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('deadline exceeded'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
