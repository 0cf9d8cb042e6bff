import { sharedAsnDatabase } from '../server/enrich/asn-db.ts';
import { sharedCountryDatabase } from '../server/enrich/country-db.ts';
import { startPtrDns } from '../test/helpers/ptr-dns.ts';
import { promises as d } from 'node:dns';
const asn = sharedAsnDatabase(); asn.preload(); const c = sharedCountryDatabase(); c.lookup('1.1.1.1');
const ips: string[] = []; for (let i = 0; i < 100000; i++) { const v = Math.imul(i + 1, 2654435761) >>> 0; ips.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`); }
let t = performance.now(); let k = 0; for (const ip of ips) if (asn.lookup(ip)) k++; console.log('asn 100k lookups ms', performance.now() - t, k);
t = performance.now(); k = 0; for (const ip of ips) if (c.lookup(ip)) k++; console.log('country 100k lookups ms', performance.now() - t, k);
const s = await startPtrDns({ synthesize: true });
for (const conc of [16, 64, 256]) {
  const r = new d.Resolver({ timeout: 2000, tries: 1 }); r.setServers([s.address]);
  const n = 10000; let i = 0; t = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (i < n) { const ip = ips[i++]!; await r.resolvePtr(ip.split('.').reverse().join('.') + '.in-addr.arpa'); } }));
  console.log('conc', conc, 'ptr qps', Math.round(n / ((performance.now() - t) / 1000)));
}
await s.stop();
