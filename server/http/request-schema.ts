/**
 * Small schema validation for query strings and JSON bodies: each field has a parser that returns the value or a
 * problem. `parseInput` collects every problem and throws one 400 `bad-parameter` naming them all; unknown
 * fields are refused too (a typo in a filter must not silently show unfiltered data).
 */
import { badRequest } from './http-error.ts';

export type FieldParser<T> = (raw: unknown, name: string) => { ok: true; value: T } | { ok: false; problem: string };
type Schema = Record<string, FieldParser<unknown>>;
type Parsed<S extends Schema> = { [K in keyof S]?: S[K] extends FieldParser<infer T> ? T : never };

export function parseInput<S extends Schema>(schema: S, input: unknown, where = 'parameter'): Parsed<S> {
  const source = input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : null;
  if (!source) throw badRequest(`expected an object of ${where}s`);
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (!Object.hasOwn(schema, key)) problems.push(`unknown ${where} "${key}" (known: ${Object.keys(schema).join(', ') || 'none'})`);
  }
  for (const [key, parse] of Object.entries(schema)) {
    const raw = source[key];
    if (raw === undefined || raw === '') continue;
    const result = parse(raw, key);
    if (result.ok) out[key] = result.value;
    else problems.push(result.problem);
  }
  if (problems.length > 0) throw badRequest(problems.join('; '));
  return out as Parsed<S>;
}

/** requires the named fields after parseInput (a body's mandatory fields) */
export function required<T extends object, K extends keyof T>(value: T, keys: K[]): T & { [P in K]-?: NonNullable<T[P]> } {
  const missing = keys.filter((k) => value[k] === undefined);
  if (missing.length > 0) throw badRequest(`missing ${missing.map(String).join(', ')}`);
  return value as T & { [P in K]-?: NonNullable<T[P]> };
}

const single = (raw: unknown, name: string): string | { problem: string } =>
  typeof raw === 'string' ? raw : Array.isArray(raw) ? { problem: `"${name}" given more than once` } : { problem: `"${name}" must be a string` };

export function text(opts: { max?: number; pattern?: RegExp; hint?: string } = {}): FieldParser<string> {
  return (raw, name) => {
    const s = single(raw, name);
    if (typeof s !== 'string') return { ok: false, problem: s.problem };
    if (s.length > (opts.max ?? 200)) return { ok: false, problem: `"${name}" is longer than ${opts.max ?? 200} characters` };
    if (opts.pattern && !opts.pattern.test(s)) return { ok: false, problem: `"${name}" ${opts.hint ?? 'has an invalid format'}` };
    return { ok: true, value: s };
  };
}

export function integer(opts: { min?: number; max?: number } = {}): FieldParser<number> {
  return (raw, name) => {
    const s = typeof raw === 'number' ? String(raw) : single(raw, name);
    if (typeof s !== 'string') return { ok: false, problem: s.problem };
    const n = Number(s);
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(n)) return { ok: false, problem: `"${name}" must be a whole number` };
    if (opts.min !== undefined && n < opts.min) return { ok: false, problem: `"${name}" must be at least ${opts.min}` };
    if (opts.max !== undefined && n > opts.max) return { ok: false, problem: `"${name}" must be at most ${opts.max}` };
    return { ok: true, value: n };
  };
}

export function oneOf<const T extends string>(values: readonly T[]): FieldParser<T> {
  return (raw, name) => {
    const s = single(raw, name);
    if (typeof s !== 'string') return { ok: false, problem: s.problem };
    return (values as readonly string[]).includes(s)
      ? { ok: true, value: s as T }
      : { ok: false, problem: `"${name}" must be one of ${values.join(', ')}` };
  };
}

export function flag(): FieldParser<boolean> {
  return (raw, name) => {
    const s = typeof raw === 'boolean' ? String(raw) : single(raw, name);
    if (typeof s !== 'string') return { ok: false, problem: s.problem };
    if (/^(1|true|yes)$/i.test(s)) return { ok: true, value: true };
    if (/^(0|false|no)$/i.test(s)) return { ok: true, value: false };
    return { ok: false, problem: `"${name}" must be true or false` };
  };
}

/** A UTC day `YYYY-MM-DD` → epoch seconds of its first second (or last, with `end`). */
export function day(opts: { end?: boolean } = {}): FieldParser<number> {
  return (raw, name) => {
    const s = single(raw, name);
    if (typeof s !== 'string') return { ok: false, problem: s.problem };
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
    if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== s) {
      return { ok: false, problem: `"${name}" must be a date YYYY-MM-DD` };
    }
    return { ok: true, value: ms / 1000 + (opts.end ? 86_399 : 0) };
  };
}

/**
 * A domain as given in reports (lower-cased, trailing dot dropped). Reports may carry any text as their policy
 * domain, and the value is only ever a bound parameter, so anything printable up to 253 characters is accepted.
 */
export function domainName(): FieldParser<string> {
  return (raw, name) => {
    const s = single(raw, name);
    if (typeof s !== 'string') return { ok: false, problem: s.problem };
    const d = s.trim().toLowerCase().replace(/\.$/, '');
    // eslint-disable-next-line no-control-regex
    if (d.length === 0 || d.length > 253 || /[\u0000-\u001f\u007f\s]/.test(d)) return { ok: false, problem: `"${name}" is not a domain name` };
    return { ok: true, value: d };
  };
}

export function ipOrCidr(): FieldParser<string> {
  return text({ max: 64, pattern: /^[0-9a-fA-F:.]+(\/\d{1,3})?$/, hint: 'must be an IP address or CIDR range' });
}
