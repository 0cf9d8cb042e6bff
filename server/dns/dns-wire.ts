/**
 * A small DNS client for the record types whose TTL node's resolver does not report: TXT and MX.
 * One question per message, recursion desired, over UDP (no EDNS) and again over TCP when the answer is
 * truncated. Messages are encoded and decoded by dns-packet; `decodeResponse` (pure) checks that a message
 * answers our query and reduces it to what the checker needs; `queryServer` is the I/O. Failures to reach a
 * server, and malformed answers, are thrown as `WireError` (code ETIMEOUT, ECONNREFUSED, EFORMERR, …); an
 * answer with any rcode is a value.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { MxRecord } from './check-types.ts';

export type WireType = 'TXT' | 'MX';

/** the largest DNS message: TCP frames it with a 16-bit length, and a UDP datagram is smaller still */
const MAX_MESSAGE = 0xffff;

export interface WireAnswer {
  /** the response code: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, … */
  rcode: number;
  /** TXT: each record's character-strings (latin1, as node's resolver gives them); MX: preference and host */
  records: string[][] | MxRecord[];
  /** smallest TTL of the answer section (CNAMEs included); null when it has no record of the asked type */
  ttl: number | null;
  /** negative-caching TTL from the authority section's SOA (RFC 2308: min of its TTL and MINIMUM), if any */
  negativeTtl: number | null;
}

export class WireError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

export interface WireServer {
  host: string;
  port: number;
}

/** "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address (the forms Resolver#getServers and setServers use). */
export function parseServer(spec: string): WireServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed) return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
  if (net.isIP(spec) === 6) return { host: spec, port: 53 };
  const m = /^([^:]+)(?::(\d+))?$/.exec(spec);
  return { host: m?.[1] ?? spec, port: Number(m?.[2] ?? 53) };
}

/** The query: one question of class IN, recursion desired. Throws EBADNAME for a name DNS cannot carry. */
function queryPacket(id: number, name: string, type: WireType): dnsPacket.Packet {
  const labels = name.replace(/\.$/, '').split('.');
  const sizes = labels.map((l) => Buffer.byteLength(l));
  if (sizes.some((n) => n < 1 || n > 63) || sizes.reduce((sum, n) => sum + n + 1, 0) > 254) {
    throw new WireError('EBADNAME', `not a DNS name: ${JSON.stringify(name)}`);
  }
  return { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: labels.join('.'), type, class: 'IN' }] };
}

/** the query as one UDP message (queryServer builds it the same way; the tests read it back) */
export function encodeQuery(id: number, name: string, type: WireType): Buffer {
  return dnsPacket.encode(queryPacket(id, name, type));
}

/**
 * Decodes a response to the query (id, name, type). Returns 'truncated' when the TC bit is set, null when the
 * message is not the answer to this query (another id or question, or a query); throws WireError EFORMERR when
 * malformed.
 */
export function decodeResponse(buf: Buffer, id: number, name: string, type: WireType): WireAnswer | 'truncated' | null {
  if (buf.length < 12) throw new WireError('EFORMERR', 'DNS message shorter than its header');
  // The header alone says whose answer this is and whether it was truncated: a truncated message need not
  // decode, and a stray datagram for another query must not end this one.
  if (buf.readUInt16BE(0) !== id) return null;
  const flags = buf.readUInt16BE(2);
  if ((flags & 0x8000) === 0) return null; // a query, not a response
  if (flags & dnsPacket.TRUNCATED_RESPONSE) return 'truncated';
  const packet = decodeMessage(buf);
  const questions = packet.questions ?? [];
  const question = questions[0];
  if (questions.length !== 1 || !question) throw new WireError('EFORMERR', `DNS response with ${questions.length} questions`);
  if (bare(question.name).toLowerCase() !== bare(name).toLowerCase() || question.type !== type || question.class !== 'IN') return null;

  const txt: string[][] = [];
  const mx: MxRecord[] = [];
  let anyTtl: number | null = null;
  for (const rr of packet.answers ?? []) {
    const ttl = ttlOf(rr);
    anyTtl = anyTtl === null ? ttl : Math.min(anyTtl, ttl);
    if (rr.type !== type) continue;
    // dns-packet moves the class's top bit (mDNS "cache flush") into `flush`: with it the class is not IN
    if (rr.type === 'TXT' && rr.class === 'IN' && !rr.flush) txt.push(txtStrings(rr.data));
    if (rr.type === 'MX' && rr.class === 'IN' && !rr.flush) mx.push({ priority: rr.data.preference ?? 0, exchange: bare(rr.data.exchange) });
  }
  let negativeTtl: number | null = null;
  for (const rr of packet.authorities ?? []) {
    if (rr.type === 'SOA') negativeTtl = Math.min(ttlOf(rr), rr.data.minimum ?? 0);
  }
  const records = type === 'TXT' ? txt : mx;
  return { rcode: flags & 0x000f, records, ttl: records.length > 0 ? anyTtl : null, negativeTtl };
}

/** dns-packet's decode, with every failure (it throws RangeErrors and plain Errors) as EFORMERR */
function decodeMessage(buf: Buffer): dnsPacket.DecodedPacket {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch (e) {
    throw new WireError('EFORMERR', `malformed DNS message: ${e instanceof Error ? e.message : String(e)}`);
  }
  // some record data (TXT, unknown types) is sliced without a bounds check: a message cut short reads as one
  // that ends past the buffer rather than throwing
  if (dnsPacket.decode.bytes > buf.length) throw new WireError('EFORMERR', 'DNS message cut short');
  return packet;
}

/** RFC 2181 8: a TTL with the top bit set is treated as zero (an OPT record in the wrong place has none) */
function ttlOf(rr: dnsPacket.Answer): number {
  const ttl = 'ttl' in rr ? (rr.ttl ?? 0) : 0;
  return ttl > 0x7fffffff ? 0 : ttl;
}

/** TXT character-strings as latin1 text, one char per byte, like node's resolver */
function txtStrings(data: dnsPacket.TxtData): string[] {
  return (Array.isArray(data) ? data : [data]).map((s) => (typeof s === 'string' ? s : s.toString('latin1')));
}

/** a domain name without its trailing dot ('' for the root, which dns-packet decodes as '.') */
function bare(name: string): string {
  return name.replace(/\.$/, '');
}

/** One question to one server: UDP, then TCP if the answer is truncated. Each transport gets `timeoutMs`. */
export async function queryServer(server: WireServer, name: string, type: WireType, timeoutMs: number): Promise<WireAnswer> {
  const id = randomInt(0, 0x10000);
  const query = queryPacket(id, name, type);
  const decode: Decode = (msg) => decodeResponse(msg, id, name, type);
  const udp = await overUdp(server, dnsPacket.encode(query), decode, timeoutMs);
  if (udp !== 'truncated') return udp;
  // over TCP the message goes with its 2-byte length in front
  const tcp = await overTcp(server, dnsPacket.streamEncode(query), decode, timeoutMs);
  if (tcp === 'truncated' || tcp === null) throw new WireError('EFORMERR', 'truncated or unrelated answer over TCP');
  return tcp;
}

type Decode = (msg: Buffer) => WireAnswer | 'truncated' | null;

function overUdp(server: WireServer, query: Buffer, decode: Decode, timeoutMs: number): Promise<WireAnswer | 'truncated'> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.close();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new WireError('ETIMEOUT', `no answer from ${server.host}:${server.port} within ${timeoutMs} ms`))), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => done(() => reject(new WireError(err.code ?? 'ECONNREFUSED', err.message))));
    socket.on('message', (msg) => {
      let answer: ReturnType<Decode>;
      try {
        answer = decode(msg);
      } catch (e) {
        done(() => reject(e));
        return;
      }
      if (answer !== null) done(() => resolve(answer));
      // anything else (another id, another question) is ignored: the real answer may still come
    });
    socket.connect(server.port, server.host, () => socket.send(query));
  });
}

/** `framed` is the query with its length prefix; the reply is read up to the length in its own prefix. */
function overTcp(server: WireServer, framed: Buffer, decode: Decode, timeoutMs: number): Promise<WireAnswer | 'truncated' | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let data = Buffer.alloc(0);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new WireError('ETIMEOUT', `no answer over TCP from ${server.host}:${server.port} within ${timeoutMs} ms`))), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => done(() => reject(new WireError(err.code ?? 'ECONNREFUSED', err.message))));
    socket.on('close', () => done(() => reject(new WireError('ECONNRESET', 'the server closed the TCP connection before answering'))));
    socket.on('connect', () => socket.write(framed));
    socket.on('data', (chunk: Buffer) => {
      // at most 2 + MAX_MESSAGE bytes are kept: the reply ends where its length prefix says
      data = Buffer.concat([data, chunk]).subarray(0, 2 + MAX_MESSAGE);
      if (data.length < 2) return;
      const size = data.readUInt16BE(0);
      if (data.length < 2 + size) return;
      try {
        const answer = decode(data.subarray(2, 2 + size));
        done(() => resolve(answer));
      } catch (e) {
        done(() => reject(e));
      }
    });
  });
}
