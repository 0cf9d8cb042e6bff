/**
 * Country of an IP address from the offline MMDB of the installed `@ip-location-db/geo-whois-asn-country-mmdb`
 * package (CC0), read with mmdb-lib. The 7.8 MB file is read once, lazily, on the first look-up.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'mmdb-lib';
import { parseIp } from './ip-address.ts';

interface CountryRecord {
  country_code?: string;
}

const require = createRequire(import.meta.url);

export function defaultCountryFile(): string {
  return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

export class CountryDatabase {
  private reader: Reader<Response> | null = null;
  private ms: number | null = null;
  private size = 0;

  constructor(private readonly file: string = defaultCountryFile()) {}

  /** ISO 3166-1 alpha-2 code (upper-case), or null when unknown / not an address. */
  lookup(ip: string): string | null {
    const p = parseIp(ip);
    if (!p) return null;
    try {
      const rec = this.load().get(p.text) as CountryRecord | null;
      const code = rec?.country_code;
      return typeof code === 'string' && /^[A-Za-z]{2}$/.test(code) ? code.toUpperCase() : null;
    } catch {
      return null;
    }
  }

  /** Reads the file now (otherwise on the first look-up). */
  preload(): void {
    this.load();
  }

  stats(): { loadMs: number | null; bytes: number } {
    return { loadMs: this.ms, bytes: this.size };
  }

  private load(): Reader<Response> {
    if (this.reader) return this.reader;
    const t0 = performance.now();
    const buf = readFileSync(this.file);
    this.reader = new Reader<Response>(buf);
    this.size = buf.byteLength;
    this.ms = performance.now() - t0;
    return this.reader;
  }
}

let shared: CountryDatabase | null = null;

export function sharedCountryDatabase(): CountryDatabase {
  shared ??= new CountryDatabase();
  return shared;
}
