/**
 * An authoritative DNS server on loopback for tests (dns2, in-process), answering over UDP and TCP on
 * ONE port so that truncated UDP answers retried over TCP reach it too.
 *
 * The zone is a plain object `{ name: RR[] | 'SERVFAIL' | 'REFUSED' | 'NOTIMP' | 'DROP' }`:
 * unknown names get NXDOMAIN, names that exist (or have names below them) without the asked type get
 * NODATA, CNAMEs are chased, `*.` names act as wildcards, 'DROP' never answers. The zone object may be
 * changed while the server runs. A name with an SOA record is a zone apex: NXDOMAIN and NODATA answers for
 * names at or below it carry that SOA in the authority section (RFC 2308 negative caching).
 */
import net from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;
/** DNS response codes (RFC 1035 4.1.1); dns2 has them at runtime but not in its types */
const RCODE = { FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export type RR =
  | { type: 'A'; address: string; ttl?: number }
  | { type: 'AAAA'; address: string; ttl?: number }
  | { type: 'TXT'; data: string | string[]; ttl?: number }
  | { type: 'MX'; priority: number; exchange: string; ttl?: number }
  | { type: 'CNAME'; target: string; ttl?: number }
  | { type: 'SOA'; minimum: number; ttl?: number };

export type ZoneEntry = RR[] | 'SERVFAIL' | 'REFUSED' | 'NOTIMP' | 'DROP';
export type Zone = Record<string, ZoneEntry>;

export const txt = (...data: string[]): RR => ({ type: 'TXT', data });
export const mx = (priority: number, exchange: string): RR => ({ type: 'MX', priority, exchange });
export const a = (address: string): RR => ({ type: 'A', address });
export const aaaa = (address: string): RR => ({ type: 'AAAA', address });
export const cname = (target: string): RR => ({ type: 'CNAME', target });

export interface QueryLogEntry {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface FakeDns {
  port: number;
  /** "127.0.0.1:PORT", ready for Resolver#setServers or --resolver */
  address: string;
  zone: Zone;
  queries: QueryLogEntry[];
  stop(): Promise<void>;
}

const DEFAULT_TTL = 300;
const TYPE_NAMES = new Map<number, string>(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));

export async function startFakeDns(zone: Zone): Promise<FakeDns> {
  const queries: QueryLogEntry[] = [];
  const handler: dns2.DnsHandler = (request, send, client) => {
    const question = request.questions[0];
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    response.header.ra = 1;
    if (!question) {
      response.header.rcode = RCODE.FORMERR;
      void Promise.resolve(send(response)).catch(() => undefined);
      return;
    }
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const typeName = TYPE_NAMES.get(question.type) ?? String(question.type);
    queries.push({ name, type: typeName, transport: client instanceof net.Socket ? 'tcp' : 'udp' });
    const outcome = answer(zone, name, typeName, question.name, 0);
    if (outcome === 'DROP') return;
    if (typeof outcome === 'number') response.header.rcode = outcome;
    else response.answers.push(...outcome);
    if (outcome === RCODE.NXDOMAIN || (Array.isArray(outcome) && outcome.length === 0)) {
      const soa = enclosingSoa(zone, name);
      if (soa) response.authorities.push(soa);
    }
    // the UDP server's send returns a promise, the TCP server's returns nothing
    void Promise.resolve(send(response)).catch(() => undefined);
  };

  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dns2.createUDPServer(handler);
    await udp.listen(0, '127.0.0.1');
    const port = (udp.address() as net.AddressInfo).port;
    const tcp = dns2.createTCPServer(handler);
    const sockets = new Set<net.Socket>();
    tcp.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const bound = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      continue;
    }
    return {
      port,
      address: `127.0.0.1:${port}`,
      zone,
      queries,
      async stop() {
        for (const s of sockets) s.destroy();
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => tcp.close(() => resolve())),
        ]);
      },
    };
  }
  throw new Error('fake-dns: could not bind UDP and TCP on one free port');
}

type Outcome = dns2.Packet.Resource[] | number | 'DROP';

function answer(zone: Zone, name: string, type: string, wireName: string, depth: number): Outcome {
  const entry = lookupEntry(zone, name);
  if (entry === undefined) return RCODE.NXDOMAIN;
  if (entry === 'DROP') return 'DROP';
  if (entry === 'SERVFAIL') return RCODE.SERVFAIL;
  if (entry === 'REFUSED') return RCODE.REFUSED;
  if (entry === 'NOTIMP') return RCODE.NOTIMP;
  const matching = entry.filter((rr) => rr.type === type);
  if (matching.length > 0) return matching.map((rr) => toResource(rr, wireName));
  const alias = entry.find((rr): rr is Extract<RR, { type: 'CNAME' }> => rr.type === 'CNAME');
  if (alias && depth < 8) {
    const target = alias.target.toLowerCase().replace(/\.$/, '');
    const rest = answer(zone, target, type, alias.target, depth + 1);
    if (typeof rest === 'number' || rest === 'DROP') return rest === RCODE.NXDOMAIN ? [toResource(alias, wireName)] : rest;
    return [toResource(alias, wireName), ...rest];
  }
  return []; // NODATA
}

/** exact name, else an empty non-terminal (NODATA), else the nearest wildcard, else undefined (NXDOMAIN) */
function lookupEntry(zone: Zone, name: string): ZoneEntry | undefined {
  const exact = zone[name];
  if (exact !== undefined) return exact;
  const keys = Object.keys(zone);
  if (keys.some((k) => k.endsWith(`.${name}`))) return [];
  const labels = name.split('.');
  for (let i = 1; i < labels.length; i++) {
    const parent = labels.slice(i).join('.');
    const wildcard = zone[`*.${parent}`];
    if (wildcard !== undefined) return wildcard;
    if (zone[parent] !== undefined) return undefined;
  }
  return undefined;
}

/** the SOA of the nearest zone apex at or above `name`, for the authority section of a negative answer */
function enclosingSoa(zone: Zone, name: string): dns2.Packet.Resource | null {
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const apex = labels.slice(i).join('.');
    const entry = zone[apex];
    const soa = Array.isArray(entry) ? entry.find((rr) => rr.type === 'SOA') : undefined;
    if (soa) return toResource(soa, apex);
  }
  return null;
}

function toResource(rr: RR, name: string): dns2.Packet.Resource {
  const base = { name, class: Packet.CLASS.IN, ttl: rr.ttl ?? DEFAULT_TTL };
  switch (rr.type) {
    case 'A':
      return { ...base, type: Packet.TYPE.A, address: rr.address } as dns2.Packet.Resource;
    case 'AAAA':
      return { ...base, type: Packet.TYPE.AAAA, address: rr.address } as dns2.Packet.Resource;
    case 'MX':
      return { ...base, type: Packet.TYPE.MX, priority: rr.priority, exchange: rr.exchange } as dns2.Packet.Resource;
    case 'CNAME':
      return { ...base, type: Packet.TYPE.CNAME, domain: rr.target } as dns2.Packet.Resource;
    case 'TXT':
      return { ...base, type: Packet.TYPE.TXT, data: splitStrings(rr.data) } as unknown as dns2.Packet.Resource;
    case 'SOA':
      return { ...base, type: Packet.TYPE.SOA, primary: `ns.${name}`, admin: `hostmaster.${name}`, serial: 1, refresh: 3600, retry: 600, expiration: 86400, minimum: rr.minimum } as dns2.Packet.Resource;
  }
}

/** TXT character-strings are at most 255 bytes: longer strings are cut like zone-file tools do. */
function splitStrings(data: string | string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const s of Array.isArray(data) ? data : [data]) {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length === 0) out.push(bytes);
    for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  }
  return out;
}
