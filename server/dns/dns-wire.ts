/**
 * A small DNS client (RFC 1035) for the record types whose TTL node's resolver does not report: TXT and MX.
 * One question per message, recursion desired, over UDP (512 bytes, no EDNS) and again over TCP when the answer
 * is truncated. Decoding is pure (`decodeResponse`); `queryServer` is the I/O. Failures to reach a server are
 * thrown as `WireError` (code ETIMEOUT, ECONNREFUSED, EFORMERR, …); an answer with any rcode is a value.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { MxRecord } from './check-types.ts';

export type WireType = 'TXT' | 'MX';

const QTYPE: Record<WireType, number> = { TXT: 16, MX: 15 };
const TYPE_SOA = 6;
const CLASS_IN = 1;
const MAX_POINTER_JUMPS = 64;

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

export function encodeQuery(id: number, name: string, type: WireType): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(QTYPE[type], 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, qname, tail]);
}

/**
 * Decodes a response to the query (id, name, type). Returns 'truncated' when the TC bit is set, null when the
 * message is not the answer to this query (another id or question); throws WireError EFORMERR when malformed.
 */
export function decodeResponse(buf: Buffer, id: number, name: string, type: WireType): WireAnswer | 'truncated' | null {
  const r = new Reader(buf);
  if (buf.length < 12) throw new WireError('EFORMERR', 'DNS message shorter than its header');
  if (r.u16() !== id) return null;
  const flags = r.u16();
  if ((flags & 0x8000) === 0) return null; // not a response
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  r.u16(); // ARCOUNT: not needed
  if (flags & 0x0200) return 'truncated';
  const rcode = flags & 0x000f;
  if (qd !== 1) throw new WireError('EFORMERR', `DNS response with ${qd} questions`);
  const qname = r.name();
  const qtype = r.u16();
  r.u16();
  if (qname.toLowerCase() !== name.replace(/\.$/, '').toLowerCase() || qtype !== QTYPE[type]) return null;

  const txt: string[][] = [];
  const mx: MxRecord[] = [];
  let ttl: number | null = null;
  let anyTtl: number | null = null;
  for (let i = 0; i < an; i++) {
    const rr = r.record();
    anyTtl = anyTtl === null ? rr.ttl : Math.min(anyTtl, rr.ttl);
    if (rr.type !== QTYPE[type] || rr.class !== CLASS_IN) continue;
    const data = new Reader(buf, rr.offset, rr.offset + rr.length);
    if (type === 'TXT') {
      const strings: string[] = [];
      while (data.offset < rr.offset + rr.length) strings.push(data.characterString());
      txt.push(strings);
    } else {
      const priority = data.u16();
      mx.push({ priority, exchange: data.name() });
    }
  }
  if (txt.length + mx.length > 0) ttl = anyTtl;
  let negativeTtl: number | null = null;
  for (let i = 0; i < ns; i++) {
    const rr = r.record();
    if (rr.type !== TYPE_SOA) continue;
    const data = new Reader(buf, rr.offset, rr.offset + rr.length);
    data.name(); // MNAME
    data.name(); // RNAME
    data.skip(16); // SERIAL, REFRESH, RETRY, EXPIRE
    negativeTtl = Math.min(rr.ttl, data.u32());
  }
  return { rcode, records: type === 'TXT' ? txt : mx, ttl, negativeTtl };
}

/** Bounds-checked reading of a DNS message, with name decompression (RFC 1035 4.1.4). */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public offset = 0,
    private readonly end = buf.length,
  ) {}

  private need(n: number): void {
    if (this.offset + n > this.end) throw new WireError('EFORMERR', 'DNS message cut short');
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  characterString(): string {
    this.need(1);
    const len = this.buf[this.offset] ?? 0;
    this.offset += 1;
    this.need(len);
    const s = this.buf.toString('latin1', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  /** a domain name without the trailing dot ('' for the root) */
  name(): string {
    const labels: string[] = [];
    let pos = this.offset;
    let jumped = false;
    for (let jumps = 0; ; ) {
      if (pos >= this.buf.length) throw new WireError('EFORMERR', 'DNS name runs past the message');
      const len = this.buf[pos] ?? 0;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length || ++jumps > MAX_POINTER_JUMPS) throw new WireError('EFORMERR', 'bad DNS name compression');
        if (!jumped) this.offset = pos + 2;
        jumped = true;
        pos = ((len & 0x3f) << 8) | (this.buf[pos + 1] ?? 0);
        continue;
      }
      if (len & 0xc0) throw new WireError('EFORMERR', 'unknown DNS label type');
      if (len === 0) {
        if (!jumped) this.offset = pos + 1;
        break;
      }
      if (pos + 1 + len > this.buf.length) throw new WireError('EFORMERR', 'DNS label runs past the message');
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
    if (this.offset > this.end) throw new WireError('EFORMERR', 'DNS name runs past its record');
    return labels.join('.');
  }

  record(): { type: number; class: number; ttl: number; offset: number; length: number } {
    this.name();
    const type = this.u16();
    const klass = this.u16();
    const ttl = this.u32();
    const length = this.u16();
    const offset = this.offset;
    this.skip(length);
    // RFC 2181 8: a TTL with the top bit set is treated as zero
    return { type, class: klass, ttl: ttl > 0x7fffffff ? 0 : ttl, offset, length };
  }
}

/** One question to one server: UDP, then TCP if the answer is truncated. Each transport gets `timeoutMs`. */
export async function queryServer(server: WireServer, name: string, type: WireType, timeoutMs: number): Promise<WireAnswer> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, name, type);
  const udp = await overUdp(server, query, (msg) => decodeResponse(msg, id, name, type), timeoutMs);
  if (udp !== 'truncated') return udp;
  const tcp = await overTcp(server, query, (msg) => decodeResponse(msg, id, name, type), timeoutMs);
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

function overTcp(server: WireServer, query: Buffer, decode: Decode, timeoutMs: number): Promise<WireAnswer | 'truncated' | null> {
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
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
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
