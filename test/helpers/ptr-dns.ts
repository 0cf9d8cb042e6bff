/**
 * A loopback DNS server for reverse-DNS tests and the enrichment benchmark (dns2, in-process, UDP).
 *
 * Answers from explicit tables first:
 *   ptr:  IP → PTR names | 'NXDOMAIN' | 'SERVFAIL' | 'DROP' (never answered → client timeout)
 *   a / aaaa: name → addresses | 'NXDOMAIN' | 'SERVFAIL' | 'DROP'
 * With `synthesize`, any other address gets PTR `h-<a>-<b>-<c>-<d>.ptr.test` (IPv6: `h6-<32 hex>.ptr.test`)
 * whose A / AAAA is the address again (forward-confirmed). Everything else is NXDOMAIN.
 * Counts queries (per type, and per name when `logNames`), so tests can prove a cache hit sent nothing.
 */
import dns2 from 'dns2';
import { isIP } from 'node:net';

const { Packet } = dns2;
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;

type Answer = string[] | 'NXDOMAIN' | 'SERVFAIL' | 'DROP';

export interface PtrZone {
  ptr?: Record<string, Answer>;
  a?: Record<string, Answer>;
  aaaa?: Record<string, Answer>;
  synthesize?: boolean;
  /** answer every query this many ms late */
  delayMs?: number;
}

export interface PtrDns {
  port: number;
  /** "127.0.0.1:PORT" for Resolver#setServers / --resolver */
  address: string;
  zone: PtrZone;
  /** queries received, by type name (PTR, A, AAAA, …) */
  counts: Record<string, number>;
  total(): number;
  /** queries received for one name (only with logNames) */
  countFor(name: string): number;
  /** the most queries received but not yet answered at one time */
  peakOutstanding: number;
  stop(): Promise<void>;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; nibble ip6.arpa → compressed IPv6; else null */
export function addressOfReverseName(name: string): string | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.').reverse();
    const ip = parts.join('.');
    return parts.length === 4 && isIP(ip) === 4 ? ip : null;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.').reverse();
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return null;
    const groups = Array.from({ length: 8 }, (_, i) => nibbles.slice(i * 4, i * 4 + 4).join(''));
    return compressV6(groups.join(':'));
  }
  return null;
}

function compressV6(full: string): string {
  const groups = full.split(':').map((g) => g.replace(/^0+(?=.)/, ''));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function synthesizedName(ip: string): string {
  return isIP(ip) === 4 ? `h-${ip.replaceAll('.', '-')}.ptr.test` : `h6-${expandV6(ip)}.ptr.test`;
}

function expandV6(ip: string): string {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const mid = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...mid, ...t].map((g) => g.padStart(4, '0')).join('');
}

function addressOfSynthesized(name: string): string | null {
  let m = /^h-(\d+)-(\d+)-(\d+)-(\d+)\.ptr\.test$/.exec(name);
  if (m) return `${m[1]}.${m[2]}.${m[3]}.${m[4]}`;
  m = /^h6-([0-9a-f]{32})\.ptr\.test$/.exec(name);
  if (m) return compressV6(m[1]!.match(/.{4}/g)!.join(':'));
  return null;
}

export async function startPtrDns(zone: PtrZone, opts: { logNames?: boolean } = {}): Promise<PtrDns> {
  const counts: Record<string, number> = {};
  const byName = new Map<string, number>();
  let outstanding = 0;

  const answerFor = (qname: string, type: string): Answer => {
    const name = qname.toLowerCase().replace(/\.$/, '');
    if (type === 'PTR') {
      const ip = addressOfReverseName(name);
      if (!ip) return 'NXDOMAIN';
      const explicit = zone.ptr?.[ip];
      if (explicit) return explicit;
      return zone.synthesize ? [synthesizedName(ip)] : 'NXDOMAIN';
    }
    if (type === 'A' || type === 'AAAA') {
      const explicit = (type === 'A' ? zone.a : zone.aaaa)?.[name];
      if (explicit) return explicit;
      const ip = zone.synthesize ? addressOfSynthesized(name) : null;
      if (ip && isIP(ip) === (type === 'A' ? 4 : 6)) return [ip];
      return 'NXDOMAIN';
    }
    return 'NXDOMAIN';
  };

  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const q = request.questions[0];
      const type = q ? (TYPE_NAMES.get(q.type) ?? String(q.type)) : 'NONE';
      counts[type] = (counts[type] ?? 0) + 1;
      if (q && opts.logNames) byName.set(q.name.toLowerCase(), (byName.get(q.name.toLowerCase()) ?? 0) + 1);
      const response = Packet.createResponseFromRequest(request);
      const answer = q ? answerFor(q.name, type) : 'NXDOMAIN';
      if (answer === 'DROP') return;
      if (answer === 'NXDOMAIN') response.header.rcode = RCODE.NXDOMAIN;
      else if (answer === 'SERVFAIL') response.header.rcode = RCODE.SERVFAIL;
      else {
        for (const value of answer) {
          const rr =
            type === 'PTR'
              ? { name: q!.name, type: Packet.TYPE.PTR, class: Packet.CLASS.IN, ttl: 300, domain: value }
              : { name: q!.name, type: type === 'A' ? Packet.TYPE.A : Packet.TYPE.AAAA, class: Packet.CLASS.IN, ttl: 300, address: value };
          response.answers.push(rr as dns2.Packet.Resource);
        }
      }
      outstanding++;
      result.peakOutstanding = Math.max(result.peakOutstanding, outstanding);
      const reply = (): void => {
        outstanding--;
        send(response).catch(() => {});
      };
      if (zone.delayMs) setTimeout(reply, zone.delayMs);
      else reply();
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = addresses.udp!.port;
  const result: PtrDns = {
    port,
    address: `127.0.0.1:${port}`,
    zone,
    counts,
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    countFor: (name) => byName.get(name.toLowerCase()) ?? 0,
    peakOutstanding: 0,
    stop: () => server.close(),
  };
  return result;
}
