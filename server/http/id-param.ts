/** A numeric id from the path (`/api/reports/:id`), or a 400. */
import type { Request } from 'express';
import { badRequest } from './http-error.ts';

export function idParam(req: Request, name = 'id'): number {
  const raw = String(req.params[name] ?? '');
  const n = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw badRequest(`"${name}" must be a positive whole number`);
  return n;
}

/** a file name safe inside Content-Disposition (ASCII letters, digits, . _ -) */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 120) || 'file';
}
