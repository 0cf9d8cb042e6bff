/**
 * Reading the loosely-typed JSON of SMTP TLS reports: bytes → text (BOMs, UTF-16), tolerant key lookup,
 * counts given as numbers or strings, RFC 3339 date-times. Every failure is an InputRejected with a stable code.
 */
import { InputRejected } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

/** Bytes or text → text without BOM or surrounding whitespace (UTF-8, or UTF-16 when it has a UTF-16 BOM). */
export function jsonText(input: Buffer | string): string {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input[0] === 0xff && input[1] === 0xfe) text = input.subarray(2).toString('utf16le');
  else if (input[0] === 0xfe && input[1] === 0xff) text = Buffer.from(input.subarray(2)).swap16().toString('utf16le');
  else text = input.toString('utf8');
  return text.replace(/^\uFEFF/, '').trim();
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normKey(k: string): string {
  return k.trim().toLowerCase().replace(/_/g, '-');
}

/** obj[key], also when the reporter wrote it in another case or with underscores. */
export function member(obj: JsonObject, key: string): unknown {
  if (Object.hasOwn(obj, key)) return obj[key];
  for (const k of Object.keys(obj)) if (normKey(k) === key) return obj[k];
  return undefined;
}

/** A string member, trimmed; numbers are turned into text; empty → null. */
export function stringMember(obj: JsonObject, key: string): string | null {
  const v = member(obj, key);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  return v.trim() || null;
}

/** A string or array-of-strings member → array of non-empty trimmed strings. */
export function stringList(obj: JsonObject, key: string): string[] {
  const v = member(obj, key);
  const items = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return items
    .filter((x): x is string | number => typeof x === 'string' || typeof x === 'number')
    .map((x) => String(x).trim())
    .filter((x) => x !== '');
}

/** A session count: a non-negative integer given as number or digits; absent → 0. */
export function countMember(obj: JsonObject, key: string, where: string): number {
  const v = member(obj, key);
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(?:\.0*)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new InputRejected('schema', `${where}: ${key} is not a session count: ${JSON.stringify(v).slice(0, 60)}`);
  return n;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*([Zz]|[+-]\d{2}:?\d{2}|UTC|GMT)?$/;

/** RFC 3339 date-time (lenient: space for T, missing seconds or zone → UTC, date only) → epoch seconds, or null. */
export function parseDateTime(value: string | null): number | null {
  if (!value) return null;
  const m = RFC3339.exec(value.trim());
  if (!m) return null;
  const [y, mon, d, hh, mm, ss] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (mon < 1 || mon > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const ms = Date.UTC(y, mon - 1, d, hh, mm, Math.min(ss, 59));
  if (new Date(ms).getUTCDate() !== d) return null;
  let offset = 0;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(m[7] ?? '');
  if (z) offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  return Math.floor(ms / 1000) - offset * 60;
}
