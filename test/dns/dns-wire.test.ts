/** The TXT/MX wire client: encoding, decoding (pure), and the I/O against the loopback DNS server. */
import dgram from 'node:dgram';
import dns2 from 'dns2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeQuery, parseServer, queryServer, WireError } from '../../server/dns/dns-wire.ts';
import { startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';

const { Packet } = dns2;

/** a response to `query` built with dns2's encoder (another implementation than the one under test) */
function response(query: Buffer, build: (p: dns2.Packet) => void): Buffer {
  const request = Packet.parse(query);
  const p = Packet.createResponseFromRequest(request);
  build(p);
  return p.toBuffer();
}

describe('encodeQuery / decodeResponse', () => {
  it('asks one question with recursion desired, which another DNS implementation reads back', () => {
    const q = Packet.parse(encodeQuery(0x1234, 'Sel._domainkey.Example.COM.', 'TXT'));
    expect(q.header).toMatchObject({ id: 0x1234, qr: 0, rd: 1, qdcount: 1 });
    expect(q.questions).toEqual([{ name: 'Sel._domainkey.Example.COM', type: Packet.TYPE.TXT, class: Packet.CLASS.IN }]);
  });

  it('reads TXT strings apart, MX through name compression, and the smallest TTL', () => {
    const q = encodeQuery(7, 'example.test', 'TXT');
    const txtAnswer = response(q, (p) => {
      p.answers.push({ name: 'example.test', type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 90, data: [Buffer.from('v=DKIM1; p=ab'), Buffer.from('cd')] } as unknown as dns2.Packet.Resource);
      p.answers.push({ name: 'example.test', type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 30, data: [Buffer.from('other')] } as unknown as dns2.Packet.Resource);
    });
    expect(decodeResponse(txtAnswer, 7, 'EXAMPLE.test.', 'TXT')).toEqual({ rcode: 0, records: [['v=DKIM1; p=ab', 'cd'], ['other']], ttl: 30, negativeTtl: null });
    const m = encodeQuery(8, 'example.test', 'MX');
    const mxAnswer = response(m, (p) => {
      p.answers.push({ name: 'example.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 600, priority: 10, exchange: 'mx.example.test' } as dns2.Packet.Resource);
      p.answers.push({ name: 'example.test', type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 600, priority: 0, exchange: '' } as dns2.Packet.Resource);
    });
    expect(decodeResponse(mxAnswer, 8, 'example.test', 'MX')).toEqual({ rcode: 0, records: [{ priority: 10, exchange: 'mx.example.test' }, { priority: 0, exchange: '' }], ttl: 600, negativeTtl: null });
  });

  it('returns the rcode and the negative TTL of the SOA (the smaller of its TTL and MINIMUM)', () => {
    const q = encodeQuery(9, 'nothing.example.test', 'TXT');
    const nx = response(q, (p) => {
      p.header.rcode = 3;
      p.authorities.push({ name: 'example.test', type: Packet.TYPE.SOA, class: Packet.CLASS.IN, ttl: 45, primary: 'ns.example.test', admin: 'h.example.test', serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: 300 } as dns2.Packet.Resource);
    });
    expect(decodeResponse(nx, 9, 'nothing.example.test', 'TXT')).toEqual({ rcode: 3, records: [], ttl: null, negativeTtl: 45 });
  });

  it('ignores answers to other queries and reports truncation', () => {
    const q = encodeQuery(10, 'example.test', 'TXT');
    const answer = response(q, () => undefined);
    expect(decodeResponse(answer, 11, 'example.test', 'TXT')).toBeNull();
    expect(decodeResponse(answer, 10, 'other.test', 'TXT')).toBeNull();
    expect(decodeResponse(answer, 10, 'example.test', 'MX')).toBeNull();
    expect(decodeResponse(q, 10, 'example.test', 'TXT')).toBeNull(); // the query itself is not a response
    const truncated = Buffer.from(answer);
    truncated[2] = (truncated[2] ?? 0) | 0x02;
    expect(decodeResponse(truncated, 10, 'example.test', 'TXT')).toBe('truncated');
  });

  it('throws EFORMERR on malformed messages instead of reading past them', () => {
    const q = encodeQuery(12, 'example.test', 'TXT');
    const answer = response(q, (p) => {
      p.answers.push({ name: 'example.test', type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 90, data: [Buffer.from('v=spf1 -all')] } as unknown as dns2.Packet.Resource);
    });
    const cut = answer.subarray(0, answer.length - 4);
    expect(() => decodeResponse(cut, 12, 'example.test', 'TXT')).toThrow(WireError);
    // a compression pointer that points at itself
    const header = Buffer.from(answer.subarray(0, 12));
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(0, 6);
    const loop = Buffer.concat([header, Buffer.from([0xc0, 12, 0, 16, 0, 1])]);
    expect(() => decodeResponse(loop, 12, 'example.test', 'TXT')).toThrow(/compression/);
    expect(() => decodeResponse(Buffer.alloc(5), 12, 'example.test', 'TXT')).toThrow(WireError);
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
