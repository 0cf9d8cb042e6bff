/** The API client: JSON in and out, the CSRF header on writes, errors in the server's envelope as ApiError. */

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let onLoginRequired: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function whenLoginRequired(fn: () => void): void {
  onLoginRequired = fn;
}

export type Params = Record<string, string | number | boolean | undefined | null>;

export function apiUrl(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function handle<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401 && err?.code === 'login-required') onLoginRequired();
    throw new ApiError(res.status, err?.code ?? 'http-' + res.status, err?.message ?? `request failed (${res.status})`);
  }
  return body as T;
}

export async function getJson<T>(path: string, params: Params = {}): Promise<T> {
  return handle<T>(await fetch(apiUrl(path, params), { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  return handle<T>(await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) }));
}

/** the shape of every table endpoint */
export interface Table<R = Record<string, string | number | boolean | null>> {
  columns: string[];
  rows: R[];
  next: string | null;
  total: number | null;
}
