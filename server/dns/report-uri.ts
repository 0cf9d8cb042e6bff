/**
 * DMARC report destinations (rua=/ruf=): `URI [ "!" size [k|m|g|t] ]`, comma-separated (RFC 7489 6.2).
 * Pure parsing; also used by TLS-RPT for its rua= list (without size limits).
 */

export interface ReportUri {
  /** as written, trimmed */
  raw: string;
  /** the URI without the size suffix */
  uri: string;
  /** lower-cased scheme, e.g. "mailto" */
  scheme: string;
  /** for mailto: the address and its lower-cased domain */
  address?: string;
  domain?: string;
  /** the !size suffix: as written and in bytes (k, m, g, t are powers of 1024) */
  sizeLimit?: { raw: string; bytes: number };
  /** why the URI cannot be used; absent when it is usable */
  problem?: string;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

export function parseReportUris(list: string): ReportUri[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseReportUri);
}

export function parseReportUri(raw: string): ReportUri {
  const bang = raw.lastIndexOf('!');
  let uri = raw;
  let sizeLimit: ReportUri['sizeLimit'];
  if (bang >= 0) {
    const suffix = raw.slice(bang + 1);
    const m = /^(\d+)([kmgt]?)$/i.exec(suffix);
    uri = raw.slice(0, bang);
    if (!m) return { raw, uri, scheme: schemeOf(uri), problem: `size limit "!${suffix}" is not a number with an optional k, m, g or t` };
    sizeLimit = { raw: suffix, bytes: Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1) };
  }
  const scheme = schemeOf(uri);
  const base: ReportUri = sizeLimit ? { raw, uri, scheme, sizeLimit } : { raw, uri, scheme };
  if (scheme === '') return { ...base, problem: 'not a URI (no scheme such as mailto:)' };
  if (scheme === 'mailto') {
    const target = uri.slice(uri.indexOf(':') + 1).split('?')[0] ?? '';
    let address: string;
    try {
      address = decodeURIComponent(target).trim();
    } catch {
      return { ...base, problem: 'bad percent-encoding in the address' };
    }
    const at = address.lastIndexOf('@');
    const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
    if (at <= 0 || !DOMAIN.test(domain)) return { ...base, address, problem: `"${address}" is not a mail address` };
    return { ...base, address, domain };
  }
  if (scheme === 'https' || scheme === 'http') {
    try {
      const url = new URL(uri);
      return { ...base, domain: url.hostname.toLowerCase() };
    } catch {
      return { ...base, problem: 'not a valid URL' };
    }
  }
  return base;
}

function schemeOf(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):./.exec(uri);
  return m ? (m[1] ?? '').toLowerCase() : '';
}

/** "10m" → "10 MiB (10485760 bytes)" style text for messages */
export function describeSize(bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
