/**
 * ASN and AS organization of an IP address, from the offline CSV files of the installed
 * `@ip-location-db/asn` package (RouteViews + NRO + DB-IP, CC BY 4.0). No network access.
 *
 * Each file is loaded lazily on the first look-up of its address family into sorted typed arrays
 * (start, end, asn, org index, enclosing row) with organization names de-duplicated, then binary-searched.
 * IPv4: ~412k ranges × 20 bytes; IPv6: ~103k ranges × 44 bytes. Ranges may overlap or nest (a few do in the
 * data): each row records the nearest earlier row that encloses its start, and a look-up that lands past the
 * end of a row walks up that chain, so the most specific range containing the address wins and nothing is lost.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseIp } from './ip-address.ts';

export interface AsnInfo {
  asn: number;
  org: string;
}

export interface AsnDatabaseStats {
  ipv4Ranges: number;
  ipv6Ranges: number;
  orgs: number;
  /** time spent reading and indexing each file, milliseconds (null until loaded) */
  ipv4LoadMs: number | null;
  ipv6LoadMs: number | null;
  /** approximate bytes held by the loaded tables (typed arrays + org strings) */
  bytes: number;
}

export interface AsnDatabaseFiles {
  ipv4: string;
  ipv6: string;
}

const require = createRequire(import.meta.url);

export function defaultAsnFiles(): AsnDatabaseFiles {
  return {
    ipv4: require.resolve('@ip-location-db/asn/asn-ipv4-num.csv'),
    ipv6: require.resolve('@ip-location-db/asn/asn-ipv6-num.csv'),
  };
}

/**
 * The range bounds of one address family, compared with a probe address of type P:
 * IPv4 as unsigned 32-bit numbers (Uint32Array), IPv6 as two 64-bit words (BigUint64Array pairs).
 */
interface Bounds<P> {
  readonly n: number;
  readonly bytes: number;
  cmpStart(i: number, p: P): number;
  cmpEnd(i: number, p: P): number;
  start(i: number): P;
  permute(order: readonly number[]): Bounds<P>;
}

class V4Bounds implements Bounds<number> {
  constructor(readonly s: Uint32Array, readonly e: Uint32Array) {}
  get n(): number {
    return this.s.length;
  }
  get bytes(): number {
    return this.s.byteLength * 2;
  }
  cmpStart(i: number, p: number): number {
    return this.s[i]! - p;
  }
  cmpEnd(i: number, p: number): number {
    return this.e[i]! - p;
  }
  start(i: number): number {
    return this.s[i]!;
  }
  permute(order: readonly number[]): V4Bounds {
    return new V4Bounds(permute(this.s, order), permute(this.e, order));
  }
}

type V6 = { hi: bigint; lo: bigint };

const MASK64 = (1n << 64n) - 1n;

class V6Bounds implements Bounds<V6> {
  constructor(readonly sHi: BigUint64Array, readonly sLo: BigUint64Array, readonly eHi: BigUint64Array, readonly eLo: BigUint64Array) {}
  get n(): number {
    return this.sLo.length;
  }
  get bytes(): number {
    return this.sLo.byteLength * 4;
  }
  cmpStart(i: number, p: V6): number {
    return cmp128(this.sHi[i]!, this.sLo[i]!, p);
  }
  cmpEnd(i: number, p: V6): number {
    return cmp128(this.eHi[i]!, this.eLo[i]!, p);
  }
  start(i: number): V6 {
    return { hi: this.sHi[i]!, lo: this.sLo[i]! };
  }
  permute(order: readonly number[]): V6Bounds {
    return new V6Bounds(permute(this.sHi, order), permute(this.sLo, order), permute(this.eHi, order), permute(this.eLo, order));
  }
}

function cmp128(hi: bigint, lo: bigint, p: V6): number {
  if (hi !== p.hi) return hi < p.hi ? -1 : 1;
  return lo < p.lo ? -1 : lo > p.lo ? 1 : 0;
}

function permute<A extends Uint32Array | BigUint64Array>(a: A, order: readonly number[]): A {
  const out = a.slice() as A;
  order.forEach((src, i) => (out[i] = a[src]!));
  return out;
}

interface Table<P> {
  bounds: Bounds<P>;
  asn: Uint32Array;
  org: Uint32Array;
  /** nearest earlier row whose range contains this row's start, or -1 */
  parent: Int32Array;
}

export class AsnDatabase {
  private v4: Table<number> | null = null;
  private v6: Table<V6> | null = null;
  private readonly orgs: string[] = [];
  /** kept while a family is still unloaded, so both share one name table */
  private interner: OrgInterner | null = null;
  private orgBytes = 0;
  private v4Ms: number | null = null;
  private v6Ms: number | null = null;

  constructor(private readonly files: AsnDatabaseFiles = defaultAsnFiles()) {}

  lookup(ip: string): AsnInfo | null {
    const p = parseIp(ip);
    if (!p) return null;
    const [t, i] = p.kind === 'ipv4' ? this.find(this.loadV4(), p.v4) : this.find(this.loadV6(), { hi: p.hi, lo: p.lo });
    return i < 0 ? null : { asn: t.asn[i]!, org: this.orgs[t.org[i]!]! };
  }

  /** Loads both files now (otherwise each loads on its first look-up). */
  preload(): void {
    this.loadV4();
    this.loadV6();
  }

  stats(): AsnDatabaseStats {
    const size = (t: Table<unknown> | null) => (t ? t.bounds.bytes + t.asn.byteLength * 3 : 0);
    return {
      ipv4Ranges: this.v4?.bounds.n ?? 0,
      ipv6Ranges: this.v6?.bounds.n ?? 0,
      orgs: this.orgs.length,
      ipv4LoadMs: this.v4Ms,
      ipv6LoadMs: this.v6Ms,
      bytes: size(this.v4) + size(this.v6) + this.orgBytes,
    };
  }

  private find<P>(t: Table<P>, p: P): [Table<P>, number] {
    return [t, search(t, p)];
  }

  private loadV4(): Table<number> {
    if (this.v4) return this.v4;
    const t0 = performance.now();
    this.v4 = this.load('ipv4', (text, cap, each) => {
      const s = new Uint32Array(cap);
      const e = new Uint32Array(cap);
      const n = each((f, i) => {
        const a = decimal(text, f[0]!, f[1]!);
        const b = decimal(text, f[2]!, f[3]!);
        if (b < a || b > 0xffffffff) return false;
        s[i] = a;
        e[i] = b;
        return true;
      });
      return new V4Bounds(s.slice(0, n), e.slice(0, n));
    });
    this.v4Ms = performance.now() - t0;
    return this.v4;
  }

  private loadV6(): Table<V6> {
    if (this.v6) return this.v6;
    const t0 = performance.now();
    const max = (1n << 128n) - 1n;
    this.v6 = this.load('ipv6', (text, cap, each) => {
      const w = [new BigUint64Array(cap), new BigUint64Array(cap), new BigUint64Array(cap), new BigUint64Array(cap)] as const;
      const n = each((f, i) => {
        const a = BigInt(text.slice(f[0], f[1]));
        const b = BigInt(text.slice(f[2], f[3]));
        if (b < a || b > max) return false;
        [w[0][i], w[1][i], w[2][i], w[3][i]] = [a >> 64n, a & MASK64, b >> 64n, b & MASK64];
        return true;
      });
      return new V6Bounds(w[0].slice(0, n), w[1].slice(0, n), w[2].slice(0, n), w[3].slice(0, n));
    });
    this.v6Ms = performance.now() - t0;
    return this.v6;
  }

  /**
   * Reads one CSV: `readBounds` fills the bounds of each accepted row (through `each`, which also records
   * asn and org for it); then the rows are sorted by start if needed and the enclosing-row chain is built.
   */
  private load<P>(
    kind: 'ipv4' | 'ipv6',
    readBounds: (text: string, cap: number, each: (row: (f: number[], i: number) => boolean) => number) => Bounds<P>,
  ): Table<P> {
    const text = readFileSync(this.files[kind], 'latin1');
    const cap = countLines(text);
    let asn: Uint32Array = new Uint32Array(cap);
    let org: Uint32Array = new Uint32Array(cap);
    this.interner ??= new OrgInterner(this.orgs);
    const interner = this.interner;
    const before = interner.bytes;
    let bounds = readBounds(text, cap, (row) => {
      let n = 0;
      forEachRow(text, (f) => {
        if (!row(f, n)) return;
        const a = decimal(text, f[4]!, f[5]!);
        asn[n] = a;
        org[n] = interner.intern(a, text.slice(f[6], f[7]));
        n++;
      });
      return n;
    });
    asn = asn.slice(0, bounds.n);
    org = org.slice(0, bounds.n);
    this.orgBytes += interner.bytes - before;
    if (this.v4 || this.v6) this.interner = null; // this was the second family
    const order = unsortedOrder(bounds);
    if (order) {
      bounds = bounds.permute(order);
      asn = permute(asn, order);
      org = permute(org, order);
    }
    return { bounds, asn, org, parent: enclosingRows(bounds) };
  }
}

/** null when rows are sorted by start (as the package ships them); else the stable sorting permutation */
function unsortedOrder<P>(b: Bounds<P>): number[] | null {
  let sorted = true;
  for (let i = 1; i < b.n && sorted; i++) if (b.cmpStart(i - 1, b.start(i)) > 0) sorted = false;
  if (sorted) return null;
  return Array.from({ length: b.n }, (_, i) => i).sort((x, y) => b.cmpStart(x, b.start(y)) || x - y);
}

/** For each row, the nearest earlier row containing its start: a stack of ranges still open at each start. */
function enclosingRows<P>(b: Bounds<P>): Int32Array {
  const parent = new Int32Array(b.n);
  const open: number[] = [];
  for (let i = 0; i < b.n; i++) {
    const start = b.start(i);
    while (open.length > 0 && b.cmpEnd(open[open.length - 1]!, start) < 0) open.pop();
    parent[i] = open.length > 0 ? open[open.length - 1]! : -1;
    open.push(i);
  }
  return parent;
}

/** the last row starting at or before p, then up the enclosing chain until a row contains p */
function search<P>(t: Table<P>, p: P): number {
  const b = t.bounds;
  let lo = 0;
  let hi = b.n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (b.cmpStart(mid, p) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  while (found >= 0 && b.cmpEnd(found, p) < 0) found = t.parent[found]!;
  return found;
}

/**
 * De-duplicates organization names while one file loads (and is then dropped). `raw` is the field as sliced
 * from the latin1 text of the whole file: only a new name is decoded (UTF-8, quotes removed) into a string of
 * its own, so nothing keeps the file text alive after loading.
 */
class OrgInterner {
  private readonly index = new Map<string, number>();
  private readonly lastOfAsn = new Map<number, { i: number; raw: string }>();
  bytes = 0;

  constructor(private readonly orgs: string[]) {}

  intern(asn: number, raw: string): number {
    // fast path: an AS nearly always keeps one name, so compare with the name last seen for this AS
    const last = this.lastOfAsn.get(asn);
    if (last !== undefined && last.raw === raw) return last.i;
    const key = Buffer.from(raw, 'latin1').toString('latin1');
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.orgs.length;
      this.orgs.push(unquote(Buffer.from(key, 'latin1').toString('utf8')));
      this.index.set(key, i);
      this.bytes += 2 * raw.length + 48;
    }
    this.lastOfAsn.set(asn, { i, raw: key });
    return i;
  }
}

function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

const CR = 13;
const COMMA = 44;
const ZERO = 48;

/**
 * Calls `row` with the offsets [start0, end0, start1, end1, …] of the four fields of each
 * `start,end,asn,org` line whose first three fields are non-empty digits. Malformed lines are skipped.
 */
function forEachRow(text: string, row: (f: number[]) => void): void {
  const f = [0, 0, 0, 0, 0, 0, 0, 0];
  let pos = 0;
  while (pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    const lineEnd = eol > pos && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
    let field = 0;
    let ok = true;
    f[0] = pos;
    for (let i = pos; i < lineEnd && field < 3; i++) {
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        if (i === f[field * 2]) ok = false;
        f[field * 2 + 1] = i;
        field++;
        f[field * 2] = i + 1;
      } else if (c < ZERO || c > ZERO + 9) ok = false;
    }
    f[7] = lineEnd;
    pos = eol + 1;
    if (ok && field === 3 && f[5]! - f[4]! <= 10 && f[1]! - f[0]! <= 40 && f[3]! - f[2]! <= 40) row(f);
  }
}

/** unsigned decimal of text[a, b) (digits only, checked by forEachRow) */
function decimal(text: string, a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + (text.charCodeAt(i) - ZERO);
  return n;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replaceAll('""', '"') : s;
}

let shared: AsnDatabase | null = null;

/** The process-wide database over the installed package (loaded lazily on first use). */
export function sharedAsnDatabase(): AsnDatabase {
  shared ??= new AsnDatabase();
  return shared;
}
