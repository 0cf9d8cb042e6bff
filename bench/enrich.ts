/**
 * Enrichment benchmark: 100,000 distinct IPs (95 % IPv4 spread over the whole address space, 5 % IPv6)
 * through reverse DNS + forward confirmation against a loopback DNS server (dns2, run in a worker thread
 * of this file so that it does not share the event loop with the code measured), plus ASN / country
 * from the offline databases. Reports wall time, throughput, queries seen by the server, the concurrency
 * bound held, and memory (peak RSS / heap sampled every 50 ms; RSS includes the DNS worker thread).
 * Memory of the run itself is O(concurrency) plus the de-duplication set; what grows with the input is the
 * in-memory cache used here (the store-backed cache keeps it on disk).
 *
 * Called by `npm run bench` (bench/run.ts) or alone: `node --expose-gc --import tsx bench/enrich.ts [--ips N] [--concurrency N]`.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { sharedAsnDatabase } from '../server/enrich/asn-db.ts';
import { sharedCountryDatabase } from '../server/enrich/country-db.ts';
import { enrichIps } from '../server/enrich/enrich-ips.ts';
import { MemoryEnrichmentCache } from '../server/enrich/enrichment.ts';
import { startPtrDns } from '../test/helpers/ptr-dns.ts';

export interface EnrichBenchFigures {
  ips: number;
  concurrency: number;
  asnLoadMs: number;
  asnTableMb: number;
  countryLoadMs: number;
  heapAfterDatabasesMb: number;
  seconds: number;
  ipsPerSecond: number;
  dnsQueries: number;
  peakConcurrency: number;
  errors: number;
  withAsn: number;
  withCountry: number;
  forwardConfirmed: number;
  peakRssMb: number;
  peakHeapMb: number;
  /** heap still held after the run (after GC): the 100,000 entries of the in-memory cache */
  heapRetainedByCacheMb: number;
  cacheEntries: number;
  cachedRerunSeconds: number;
  cachedRerunDnsQueries: number;
}

const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

/** distinct addresses: i → i·k mod 2^32 is a bijection for odd k */
function* addresses(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    if (i % 20 === 19) {
      const x = (i * 2654435761) >>> 0;
      yield `2001:db8:${(x >>> 16).toString(16)}:${(x & 0xffff).toString(16)}::${(i & 0xffff).toString(16)}`;
    } else {
      const v = Math.imul(i + 1, 2654435761) >>> 0;
      yield `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    }
  }
}

interface DnsHandle {
  address: string;
  total(): Promise<number>;
  stop(): Promise<void>;
}

/** the loopback server in a worker thread (this same file, role 'dns') */
async function startDnsWorker(): Promise<DnsHandle> {
  // a worker does not inherit tsx's loader: register it there, then load this file
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { role: 'dns' } });
  const next = () => new Promise<{ port?: number; total?: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const { port } = await next();
  return {
    address: `127.0.0.1:${port}`,
    total: async () => {
      worker.postMessage('total');
      return (await next()).total ?? 0;
    },
    stop: async () => {
      worker.postMessage('stop');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'dns') {
  const dns = await startPtrDns({ synthesize: true });
  parentPort!.postMessage({ port: dns.port });
  parentPort!.on('message', (m) => {
    if (m === 'total') parentPort!.postMessage({ total: dns.total() });
    else if (m === 'stop') void dns.stop().then(() => process.exit(0));
  });
}

export async function runEnrichBench(opts: { ips?: number; concurrency?: number } = {}): Promise<EnrichBenchFigures> {
  const total = opts.ips ?? 100_000;
  const concurrency = opts.concurrency ?? 64;
  const gc = (globalThis as { gc?: () => void }).gc;

  const asn = sharedAsnDatabase();
  const country = sharedCountryDatabase();
  asn.preload();
  country.lookup('192.0.2.1');
  gc?.();
  const heapAfterDatabases = process.memoryUsage().heapUsed;

  const dns = await startDnsWorker();
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  try {
    const cache = new MemoryEnrichmentCache();
    let withAsn = 0;
    let withCountry = 0;
    let confirmed = 0;
    const t0 = performance.now();
    const s = await enrichIps(addresses(total), {
      servers: [dns.address],
      timeoutMs: 2000,
      concurrency,
      cache,
      onResult: (e) => {
        if (e.asn !== null) withAsn++;
        if (e.country !== null) withCountry++;
        if (e.forwardConfirmed) confirmed++;
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    sample();
    gc?.();
    const retained = process.memoryUsage().heapUsed - heapAfterDatabases;
    const queries = await dns.total();

    const t1 = performance.now();
    const again = await enrichIps(addresses(total), { servers: [dns.address], concurrency, cache });
    const rerun = (performance.now() - t1) / 1000;
    if (again.fromCache !== total) throw new Error(`rerun: expected ${total} cache hits, got ${again.fromCache}`);

    const st = asn.stats();
    return {
      ips: s.done,
      concurrency,
      asnLoadMs: Math.round((st.ipv4LoadMs ?? 0) + (st.ipv6LoadMs ?? 0)),
      asnTableMb: mb(st.bytes),
      countryLoadMs: Math.round(country.stats().loadMs ?? 0),
      heapAfterDatabasesMb: mb(heapAfterDatabases),
      seconds: Math.round(seconds * 100) / 100,
      ipsPerSecond: Math.round(s.done / seconds),
      dnsQueries: queries,
      peakConcurrency: s.peakConcurrency,
      errors: s.errors,
      withAsn,
      withCountry,
      forwardConfirmed: confirmed,
      peakRssMb: mb(peakRss),
      peakHeapMb: mb(peakHeap),
      heapRetainedByCacheMb: mb(retained),
      cacheEntries: cache.size,
      cachedRerunSeconds: Math.round(rerun * 100) / 100,
      cachedRerunDnsQueries: (await dns.total()) - queries,
    };
  } finally {
    clearInterval(timer);
    await dns.stop();
  }
}

/** `--ips N` / `--concurrency N` from the command line (a quick run on a small input: `--ips 5000`) */
function numberArg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name}: expected a positive whole number`);
  return n;
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  const ips = numberArg('ips');
  const concurrency = numberArg('concurrency');
  console.log(JSON.stringify(await runEnrichBench({ ...(ips ? { ips } : {}), ...(concurrency ? { concurrency } : {}) }), null, 2));
}
