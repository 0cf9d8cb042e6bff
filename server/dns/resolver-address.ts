/**
 * The `--resolver` / DMARC_LENS_RESOLVER value, shared by the record checks (server/dns/resolver.ts) and
 * enrichment (server/enrich/resolver.ts) so both accept exactly the same addresses.
 */
import { isIP } from 'node:net';

export const RESOLVER_ENV = 'DMARC_LENS_RESOLVER';

/**
 * Parses a comma-separated list of "IP", "IP:PORT" or "[IPv6]:PORT" into the form node's setServers accepts;
 * throws an Error naming the bad entry. Addresses are checked with node's own isIP, the test setServers applies.
 */
export function parseResolverSpec(spec: string): string[] {
  const entries = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (entries.length === 0) throw new Error('no resolver address given');
  return entries.map(parseResolverAddress);
}

function parseResolverAddress(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  // A bare IPv6 address has colons but no port; anything else is "host" or "host:port".
  const split = bracketed ?? (isIP(entry) === 6 ? null : /^([^:]+)(?::(\d+))?$/.exec(entry));
  const host = split ? split[1]! : entry;
  const port = split?.[2];
  const kind = isIP(host);
  if (kind === 0) throw new Error(`not an IP address: ${JSON.stringify(entry)}`);
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new Error(`bad port in ${JSON.stringify(entry)}`);
  if (port === undefined) return host;
  return kind === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
