import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyFetcher } from '../../server/dns/fetch-policy.ts';

/** A loopback HTTP server standing in for https://mta-sts.<domain>/ (the fetcher does not care about the scheme). */
let server: http.Server;
let base: string;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/policy') res.writeHead(200, { 'content-type': 'text/plain' }).end('version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n');
    else if (req.url === '/moved') res.writeHead(301, { location: '/policy' }).end();
    else if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(16 * 1024);
      let sent = 0;
      const push = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', push);
        else res.end();
      };
      push();
    } else if (req.url === '/silent') {
      // never answers
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('createPolicyFetcher', () => {
  const fetchPolicy = createPolicyFetcher({ timeoutMs: 5000, maxBytes: 64 * 1024 });

  it('returns the status and body of a policy', async () => {
    const r = await fetchPolicy(`${base}/policy`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('mode: enforce');
  });

  it('returns other statuses without a body and does not follow redirects (RFC 8461 3.3)', async () => {
    expect(await fetchPolicy(`${base}/nothing`)).toEqual({ status: 404, body: '' });
    const before = hits.filter((h) => h === '/policy').length;
    expect(await fetchPolicy(`${base}/moved`)).toEqual({ status: 301, body: '' });
    expect(hits.filter((h) => h === '/policy').length).toBe(before);
  });

  it('refuses a policy larger than the cap instead of reading it all', async () => {
    await expect(fetchPolicy(`${base}/huge`)).rejects.toThrow(/larger than 65536 bytes/);
  });

  it('gives up on a server that never answers', async () => {
    await expect(createPolicyFetcher({ timeoutMs: 300 })(`${base}/silent`)).rejects.toThrow();
  });
});
