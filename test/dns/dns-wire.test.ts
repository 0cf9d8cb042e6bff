/**
 * The TXT/MX wire client: what it makes of answers (built with dns2, another DNS implementation than the
 * dns-packet it decodes with), and its I/O against the loopback DNS server and small hostile servers.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dns2 from 'dns2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeQuery, parseServer, queryServer, WireError } from '../../server/dns/dns-wire.ts';
import { startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';

const { Packet } = dns2;
type Resource = dns2.Packet.Resource;

/** a response to `query` built with dns2's encoder */
function response(query: Buffer, build: (p: dns2.Packet) => void): Buffer {
  const p = Packet.createResponseFromRequest(Packet.parse(query));
  build(p);
  return p.toBuffer();
}

const txtRecord = (ttl: number, ...data: Buffer[]) => ({ name: 'example.test', type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl, data }) as unknown as Resource;

/** a deterministic stream of pseudo-random numbers (xorshift32) */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('encodeQuery / decodeResponse', () => {
  it('asks one question with recursion desired, which another DNS implementation reads back', () => {
    const q = Packet.parse(encodeQuery(0x1234, 'Sel._domainkey.Example.COM.', 'TXT'));
    expect(q.header).toMatchObject({ id: 0x1234, qr: 0, rd: 1, qdcount: 1, ancount: 0 });
    expect(q.questions).toEqual([{ name: 'Sel._domainkey.Example.COM', type: Packet.TYPE.TXT, class: Packet.CLASS.IN }]);
    expect(Packet.parse(encodeQuery(1, 'example.test', 'MX')).questions[0]).toMatchObject({ type: Packet.TYPE.MX });
  });

  it('refuses names that a DNS message cannot carry', () => {
    for (const bad of ['a..b', `${'x'.repeat(64)}.test`, `${'abcdefghi.'.repeat(26)}test`, '', '.']) {
      expect(() => encodeQuery(1, bad, 'TXT'), bad).toThrow(expect.objectContaining({ code: 'EBADNAME' }));
    }
    expect(() => encodeQuery(1, `${'x'.repeat(63)}.test`, 'TXT')).not.toThrow();
  });

  it('reads TXT strings apart (as latin1), MX records, and the smallest TTL of the answer section', () => {
    const q = encodeQuery(7, 'example.test', 'TXT');
    const txtAnswer = response(q, (p) => {
      p.answers.push(txtRecord(90, Buffer.from('v=DKIM1; p=ab'), Buffer.from('cd')));
      p.answers.push(txtRecord(30, Buffer.from([0x6f, 0xe9, 0xff])));
    });
    expect(decodeResponse(txtAnswer, 7, 'EXAMPLE.test.', 'TXT')).toEqual({ rcode: 0, records: [['v=DKIM1; p=ab', 'cd'], ['o\u00e9\u00ff']], ttl: 30, negativeTtl: null });
    const m = encodeQuery(8, 'example.test', 'MX');
    const mxAnswer = response(m, (p) => {
      p.answers.push({ name: 'example.test', type: Packet.TYPE.CNAME, class: Packet.CLASS.IN, ttl: 20, domain: 'example.test' } as Resource);
      p.answers.push({ name: 'example.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 600, priority: 10, exchange: 'mx.example.test' } as Resource);
      p.answers.push({ name: 'example.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 600, priority: 0, exchange: '' } as Resource);
    });
    // the CNAME's TTL counts; a null MX's exchange is '' like node's resolver gives it
    expect(decodeResponse(mxAnswer, 8, 'example.test', 'MX')).toEqual({ rcode: 0, records: [{ priority: 10, exchange: 'mx.example.test' }, { priority: 0, exchange: '' }], ttl: 20, negativeTtl: null });
  });

  it('follows name compression, and takes a TTL with the top bit set as zero', () => {
    const q = encodeQuery(3, 'example.test', 'MX');
    const head = response(q, () => undefined);
    head.writeUInt16BE(1, 6); // ANCOUNT
    // owner: pointer to the question name (offset 12); exchange: "mx" + pointer to it
    const rr = Buffer.from([0xc0, 12, 0, 15, 0, 1, 0x80, 0, 0, 0, 0, 7, 0, 5, 2, 0x6d, 0x78, 0xc0, 12]);
    expect(decodeResponse(Buffer.concat([head, rr]), 3, 'example.test', 'MX')).toEqual({ rcode: 0, records: [{ priority: 5, exchange: 'mx.example.test' }], ttl: 0, negativeTtl: null });
  });

  it('skips answers of another type or class, and gives no TTL when no record of the asked type is left', () => {
    const q = encodeQuery(4, 'example.test', 'TXT');
    const answer = response(q, (p) => {
      p.answers.push({ name: 'example.test', type: Packet.TYPE.CNAME, class: Packet.CLASS.IN, ttl: 50, domain: 'example.test' } as Resource);
      p.answers.push({ ...txtRecord(70, Buffer.from('chaos')), class: 3 } as Resource);
    });
    expect(decodeResponse(answer, 4, 'example.test', 'TXT')).toEqual({ rcode: 0, records: [], ttl: null, negativeTtl: null });
  });

  it('returns the rcode and the negative TTL of the SOA (the smaller of its TTL and MINIMUM)', () => {
    const soa = (ttl: number, minimum: number) => ({ name: 'example.test', type: Packet.TYPE.SOA, class: Packet.CLASS.IN, ttl, primary: 'ns.example.test', admin: 'h.example.test', serial: 1, refresh: 1, retry: 1, expiration: 1, minimum }) as Resource;
    const q = encodeQuery(9, 'nothing.example.test', 'TXT');
    const nx = response(q, (p) => {
      p.header.rcode = 3;
      p.authorities.push(soa(45, 300));
    });
    expect(decodeResponse(nx, 9, 'nothing.example.test', 'TXT')).toEqual({ rcode: 3, records: [], ttl: null, negativeTtl: 45 });
    const nodata = response(q, (p) => p.authorities.push(soa(3600, 120)));
    expect(decodeResponse(nodata, 9, 'nothing.example.test', 'TXT')).toEqual({ rcode: 0, records: [], ttl: null, negativeTtl: 120 });
    for (const rcode of [2, 5]) {
      const failed = response(q, (p) => (p.header.rcode = rcode));
      expect(decodeResponse(failed, 9, 'nothing.example.test', 'TXT')).toMatchObject({ rcode, records: [], negativeTtl: null });
    }
  });

  it('ignores answers to other queries and reports truncation, even of a message cut short', () => {
    const q = encodeQuery(10, 'example.test', 'TXT');
    const answer = response(q, (p) => p.answers.push(txtRecord(90, Buffer.from('v=spf1 -all'))));
    expect(decodeResponse(answer, 10, 'example.test', 'TXT')).toMatchObject({ records: [['v=spf1 -all']] });
    expect(decodeResponse(answer, 11, 'example.test', 'TXT')).toBeNull();
    expect(decodeResponse(answer, 10, 'other.test', 'TXT')).toBeNull();
    expect(decodeResponse(answer, 10, 'example.test', 'MX')).toBeNull();
    expect(decodeResponse(q, 10, 'example.test', 'TXT')).toBeNull(); // the query itself is not a response
    const truncated = Buffer.from(answer);
    truncated[2] = (truncated[2] ?? 0) | 0x02;
    expect(decodeResponse(truncated, 10, 'example.test', 'TXT')).toBe('truncated');
    expect(decodeResponse(truncated.subarray(0, truncated.length - 6), 10, 'example.test', 'TXT')).toBe('truncated');
  });

  it('throws EFORMERR on malformed messages instead of reading past them', () => {
    const q = encodeQuery(12, 'example.test', 'TXT');
    const answer = response(q, (p) => p.answers.push(txtRecord(90, Buffer.from('v=spf1 -all'))));
    const formerr = expect.objectContaining({ name: 'WireError', code: 'EFORMERR' });
    // cut inside the TXT data: dns-packet alone would hand back 'v=spf1 ' without complaint
    expect(() => decodeResponse(answer.subarray(0, answer.length - 4), 12, 'example.test', 'TXT')).toThrow(formerr);
    // cut inside the record header
    expect(() => decodeResponse(answer.subarray(0, answer.length - 16), 12, 'example.test', 'TXT')).toThrow(formerr);
    // a compression pointer that points at itself
    const header = Buffer.from(answer.subarray(0, 12));
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(0, 6);
    expect(() => decodeResponse(Buffer.concat([header, Buffer.from([0xc0, 12, 0, 16, 0, 1])]), 12, 'example.test', 'TXT')).toThrow(formerr);
    // no question, or two
    const none = Buffer.from(header);
    none.writeUInt16BE(0, 4);
    expect(() => decodeResponse(none, 12, 'example.test', 'TXT')).toThrow(/0 questions/);
    const question = q.subarray(12);
    const two = Buffer.concat([header, question, question]);
    two.writeUInt16BE(2, 4);
    expect(() => decodeResponse(two, 12, 'example.test', 'TXT')).toThrow(/2 questions/);
    expect(() => decodeResponse(Buffer.alloc(5), 12, 'example.test', 'TXT')).toThrow(formerr);
  });

  it('turns any damage to an answer into a WireError or a value, never another exception', () => {
    const q = encodeQuery(13, 'example.test', 'MX');
    const answer = response(q, (p) => {
      p.answers.push({ name: 'example.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 600, priority: 10, exchange: 'mx.example.test' } as Resource);
      p.authorities.push({ name: 'example.test', type: Packet.TYPE.SOA, class: Packet.CLASS.IN, ttl: 45, primary: 'ns.example.test', admin: 'h.example.test', serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: 300 } as Resource);
    });
    const outcomes = new Set<string>();
    const tryOne = (msg: Buffer) => {
      try {
        const r = decodeResponse(msg, 13, 'example.test', 'MX');
        outcomes.add(r === null ? 'null' : r === 'truncated' ? 'truncated' : 'answer');
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        outcomes.add((e as WireError).code);
      }
    };
    for (let n = 0; n <= answer.length; n++) tryOne(answer.subarray(0, n));
    const random = prng(0x5eed);
    for (let i = 0; i < 3000; i++) {
      const msg = Buffer.from(answer);
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) msg[12 + Math.floor(random() * (msg.length - 12))] = Math.floor(random() * 256);
      tryOne(msg);
    }
    expect(outcomes).toContain('EFORMERR');
    expect(outcomes).toContain('answer');
  });

  it('parses the server forms that Resolver#getServers returns', () => {
    expect(parseServer('127.0.0.1')).toEqual({ host: '127.0.0.1', port: 53 });
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseServer('[::1]:5353')).toEqual({ host: '::1', port: 5353 });
    expect(parseServer('2001:db8::1')).toEqual({ host: '2001:db8::1', port: 53 });
  });
});

describe('queryServer against the loopback DNS server', () => {
  let dns: FakeDns;
  let stray: dgram.Socket;
  beforeAll(async () => {
    dns = await startFakeDns({ 'big.test': [txt('x'.repeat(250), 'y'.repeat(250), 'z'.repeat(250))], 'small.test': [txt('v=spf1 -all')], 'drop.test': 'DROP' });
    stray = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => stray.bind(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await dns.stop();
    await new Promise<void>((resolve) => stray.close(() => resolve()));
  });

  it('gets a small answer over UDP and a large one over TCP after truncation', async () => {
    const server = parseServer(dns.address);
    expect(await queryServer(server, 'small.test', 'TXT', 2000)).toMatchObject({ rcode: 0, records: [['v=spf1 -all']], ttl: 300 });
    const big = await queryServer(server, 'big.test', 'TXT', 2000);
    expect(big.records).toEqual([['x'.repeat(250), 'y'.repeat(250), 'z'.repeat(250)]]);
    expect(dns.queries.filter((q) => q.name === 'big.test').map((q) => q.transport)).toEqual(['udp', 'tcp']);
    expect(await queryServer(server, 'missing.test', 'TXT', 2000)).toMatchObject({ rcode: 3, records: [] });
  });

  it('times out on a silent server and reports a closed port', async () => {
    await expect(queryServer(parseServer(dns.address), 'drop.test', 'TXT', 200)).rejects.toMatchObject({ code: 'ETIMEOUT' });
    // a bound socket that never answers, then a port nobody listens on
    await expect(queryServer({ host: '127.0.0.1', port: (stray.address() as { port: number }).port }, 'small.test', 'TXT', 200)).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(queryServer({ host: '127.0.0.1', port: 1 }, 'small.test', 'TXT', 2000)).rejects.toBeInstanceOf(WireError);
  });
});

/**
 * A hostile server on one loopback port, UDP and TCP: `udp` and `tcp` turn each query into the datagrams /
 * byte chunks sent back (TCP chunks go out one by one, each in its own write).
 */
async function hostileServer(udp: (query: Buffer) => Buffer[], tcp: (query: Buffer) => Buffer[]) {
  const server = net.createServer((socket) => {
    let data = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 2 || data.length < 2 + data.readUInt16BE(0)) return;
      const chunks = tcp(data.subarray(2, 2 + data.readUInt16BE(0)));
      const next = () => {
        const c = chunks.shift();
        if (c && !socket.destroyed) socket.write(c, () => setTimeout(next, 5));
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  socket.on('message', (msg, rinfo) => {
    for (const d of udp(msg)) socket.send(d, rinfo.port, rinfo.address);
  });
  return {
    address: { host: '127.0.0.1', port },
    async stop() {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const withLength = (msg: Buffer) => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);

describe('queryServer against hostile servers', () => {
  const spf = (query: Buffer) => response(query, (p) => p.answers.push(txtRecord(60, Buffer.from('v=spf1 -all'))));
  const truncated = (query: Buffer) => {
    const r = response(query, () => undefined);
    r[2] = (r[2] ?? 0) | 0x02;
    return r;
  };

  it('ignores a datagram for another query id and takes the answer that follows', async () => {
    const s = await hostileServer(
      (q) => {
        const other = spf(q);
        other.writeUInt16BE((other.readUInt16BE(0) + 1) & 0xffff, 0);
        other[other.length - 2] = 0x21; // other text too, so that taking it would show
        return [other, spf(q)];
      },
      () => [],
    );
    try {
      expect(await queryServer(s.address, 'example.test', 'TXT', 2000)).toMatchObject({ rcode: 0, records: [['v=spf1 -all']], ttl: 60 });
    } finally {
      await s.stop();
    }
  });

  it('rejects a malformed answer over UDP with EFORMERR', async () => {
    const s = await hostileServer((q) => [Buffer.concat([spf(q).subarray(0, 12), Buffer.from([0xc0, 12, 0xc0, 12])])], () => []);
    try {
      await expect(queryServer(s.address, 'example.test', 'TXT', 2000)).rejects.toMatchObject({ name: 'WireError', code: 'EFORMERR' });
    } finally {
      await s.stop();
    }
  });

  it('reads a TCP answer that arrives in pieces, and rejects a malformed or truncated one', async () => {
    let tcpReply: (q: Buffer) => Buffer[] = (q) => {
      const framed = withLength(spf(q));
      return [framed.subarray(0, 1), framed.subarray(1, 9), framed.subarray(9)];
    };
    const s = await hostileServer((q) => [truncated(q)], (q) => tcpReply(q));
    try {
      expect(await queryServer(s.address, 'example.test', 'TXT', 2000)).toMatchObject({ rcode: 0, records: [['v=spf1 -all']], ttl: 60 });
      tcpReply = (q) => [withLength(spf(q).subarray(0, 40))];
      await expect(queryServer(s.address, 'example.test', 'TXT', 2000)).rejects.toMatchObject({ code: 'EFORMERR' });
      tcpReply = (q) => [withLength(truncated(q))];
      await expect(queryServer(s.address, 'example.test', 'TXT', 2000)).rejects.toMatchObject({ code: 'EFORMERR' });
      // a length prefix promising more than is ever sent: no answer within the timeout
      tcpReply = (q) => [withLength(spf(q)).subarray(0, 20)];
      await expect(queryServer(s.address, 'example.test', 'TXT', 300)).rejects.toMatchObject({ code: 'ETIMEOUT' });
    } finally {
      await s.stop();
    }
  });
});
