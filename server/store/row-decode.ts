import type { MailAuthVerdict, Origin } from '../domain/report-types.ts';
import type { Row } from './driver.ts';

/** Typed reads of a result row; both engines return numbers for integers (int8 parsed on PostgreSQL). */
export function text(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new Error(`column ${column}: expected text, got ${typeof v}`);
  return v;
}

export function textOrNull(row: Row, column: string): string | null {
  const v = row[column];
  return v == null ? null : String(v);
}

export function int(row: Row, column: string): number {
  const v = row[column];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  throw new Error(`column ${column}: expected a number, got ${v === null ? 'null' : typeof v}`);
}

export function intOrNull(row: Row, column: string): number | null {
  return row[column] == null ? null : int(row, column);
}

export function bool(row: Row, column: string): boolean {
  return Boolean(row[column]);
}

export function json<T>(row: Row, column: string): T {
  return JSON.parse(text(row, column)) as T;
}

/** A boolean as both engines accept it in a parameter. */
export function boolValue(v: boolean): number {
  return v ? 1 : 0;
}

/** Origin.mailAuth as stored (JSON text; NULL when the report did not come by mail). */
export function mailAuthValue(origin: Origin): string | null {
  return origin.mailAuth ? JSON.stringify(origin.mailAuth) : null;
}

/** `{ mailAuth }` when the row has one, `{}` otherwise (so an origin read back equals the one saved). */
export function mailAuthOf(row: Row): { mailAuth?: MailAuthVerdict } {
  const v = row.mail_auth;
  return v == null ? {} : { mailAuth: JSON.parse(String(v)) as MailAuthVerdict };
}
