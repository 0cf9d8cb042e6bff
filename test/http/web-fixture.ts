/**
 * A running web app for API tests: a database (a temp SQLite file unless a URL is given) loaded with the bundled
 * samples through the ingest pipeline, createApp() listening on 127.0.0.1:0, and a small cookie-keeping client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Analytics } from '../../server/analytics/analytics-types.ts';
import { loadSamples } from '../../server/commands/demo.ts';
import type { CachedChecker } from '../../server/dns/check-cache.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import type { AppDeps } from '../../server/http/create-app.ts';
import { createApp } from '../../server/http/create-app.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { expect } from 'vitest';

export interface WebFixture {
  url: string;
  db: Database;
  client(): TestClient;
  close(): Promise<void>;
}

export interface FixtureOptions {
  dbUrl?: string;
  samples?: boolean;
  /** the analytics behind overview / sources / selectors (e.g. webAnalytics); none by default */
  analytics?: (db: Database) => Analytics | null | Promise<Analytics | null>;
  checker?: CachedChecker | null;
  auth?: AppDeps['auth'];
  trustProxy?: AppDeps['trustProxy'];
  throttle?: AppDeps['throttle'];
  now?: () => number;
  /** the built client to serve (browser tests build one) */
  clientDir?: string;
}

export async function startWebFixture(opts: FixtureOptions = {}): Promise<WebFixture> {
  const dir = opts.dbUrl ? null : mkdtempSync(join(tmpdir(), 'dmarc-lens-web-'));
  const db = await openDatabase(opts.dbUrl ?? `sqlite:${join(dir!, 'web.db')}`);
  if (opts.samples !== false) await loadSamples(db, DEFAULT_LIMITS);
  const app = createApp({
    db,
    analytics: opts.analytics ? await opts.analytics(db) : null,
    checker: opts.checker ?? null,
    limits: DEFAULT_LIMITS,
    auth: opts.auth ?? { required: false },
    ...(opts.trustProxy !== undefined ? { trustProxy: opts.trustProxy } : {}),
    ...(opts.throttle ? { throttle: opts.throttle } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.clientDir ? { clientDir: opts.clientDir } : {}),
    log: () => {},
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    db,
    client: () => new TestClient(url),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

/** fetch with a cookie jar and the CSRF header handling of the real client */
export class TestClient {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;
  constructor(readonly base: string) {}

  async request(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; csrf?: boolean } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.csrf !== false && this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    const res = await fetch(this.base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  post(path: string, body: unknown = {}, opts: { headers?: Record<string, string>; csrf?: boolean } = {}) {
    return this.request('POST', path, { body, ...opts });
  }

  /** GET /api/session and keep its CSRF token */
  async session(): Promise<any> {
    const s = (await this.get('/api/session')).json();
    this.csrf = s.csrfToken;
    return s;
  }

  async login(username: string, password: string): Promise<Reply> {
    await this.session();
    const r = await this.post('/api/login', { username, password });
    if (r.status === 200) this.csrf = r.json().csrfToken;
    return r;
  }
}

/** all rows of a paged table endpoint, following `next` */
export async function allRows(client: TestClient, path: string, params: Record<string, string> = {}, limit = 7): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const q = new URLSearchParams({ ...params, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const r = await client.get(`${path}?${q}`);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
    const page = r.json();
    rows.push(...page.rows);
    cursor = page.next;
    if (!cursor) return rows;
  }
  throw new Error('paging did not end');
}

/** the CSV as rows of cells, header first (csv-parse, strict RFC 4180) */
export async function csvRows(text: string): Promise<string[][]> {
  const { parse } = await import('csv-parse/sync');
  return parse(text, { relax_column_count: false, bom: true }) as string[][];
}

/** a JSON table row as its CSV cells (booleans true/false, null empty) */
export function asCsvCells(columns: string[], row: Record<string, unknown>): string[] {
  return columns.map((c) => {
    const v = row[c];
    return v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
  });
}

/**
 * Asserts that a table endpoint's CSV (`PATH.csv`) is its JSON rows, all pages, with the same columns and filters;
 * returns the rows.
 */
export async function expectCsvEqualsJson(client: TestClient, path: string, params: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const json = await allRows(client, path, params, 1000);
  const columns = (await client.get(`${path}?limit=1`)).json().columns as string[];
  const r = await client.get(`${path}.csv?${new URLSearchParams(params)}`);
  expect(r.status).toBe(200);
  const [header, ...lines] = await csvRows(r.text);
  expect(header).toEqual(columns);
  expect(lines).toEqual(json.map((row) => asCsvCells(columns, row)));
  return json;
}
