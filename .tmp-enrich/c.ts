import { parseIp } from '../server/enrich/ip-address.ts';
import { readFileSync } from 'node:fs';
const ips: string[] = []; for (let i = 0; i < 100000; i++) { const v = Math.imul(i + 1, 2654435761) >>> 0; ips.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`); }
let t = performance.now(); for (const ip of ips) parseIp(ip); console.log('parseIp 100k', performance.now() - t);
t = performance.now(); const text = readFileSync('node_modules/@ip-location-db/asn/asn-ipv4-num.csv', 'latin1'); console.log('read', performance.now() - t);
t = performance.now(); let n = 0; for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++; console.log('count', performance.now() - t);
t = performance.now(); let x = 0; for (let i = 0; i < text.length; i++) x += text.charCodeAt(i); console.log('scan', performance.now() - t);
t = performance.now(); const m = new Map<number, string>(); let p = 0; while (p < text.length) { let e = text.indexOf('\n', p); if (e < 0) e = text.length; const l = text.slice(p, e); const c3 = l.indexOf(',', l.indexOf(',', l.indexOf(',') + 1) + 1); const o = l.slice(c3 + 1); const a = +l.slice(l.indexOf(',', l.indexOf(',') + 1) + 1, c3); const last = m.get(a); if (last !== o) m.set(a, o); p = e + 1; } console.log('lines+map', performance.now() - t, m.size);
