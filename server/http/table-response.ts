/**
 * Every table of the API is served twice from one definition: `GET path` as JSON
 * (`{columns, rows, next, total}`, paged with `limit` / `cursor`) and `GET path.csv` as a streamed RFC 4180 CSV
 * of all matching rows (CRLF line ends, header line always present), so the CSV holds exactly the JSON's rows.
 */
import type { Response, Router } from 'express';
import { stringify } from 'csv-stringify/sync';
import { badRequest } from './http-error.ts';
import { integer, parseInput, text, type FieldParser } from './request-schema.ts';

export type Cell = string | number | boolean | null;
export type TableRow = Record<string, Cell>;

export interface TablePage {
  rows: TableRow[];
  /** opaque cursor of the next page; null on the last page */
  next: string | null;
  /** matching rows in all, when the source can count them cheaply (first page only) */
  total?: number | null;
}

export interface TableDef<F> {
  path: string;
  /** used in the CSV file name */
  name: string;
  filters: Record<string, FieldParser<unknown>>;
  columns: readonly string[];
  toFilter(parsed: Record<string, unknown>): F;
  page(filter: F, cursor: string | null, limit: number): Promise<TablePage>;
  /** rows per page when the client asks for none */
  defaultLimit?: number;
}

export const MAX_PAGE = 1000;
const CSV_PAGE = 500;
export const CURSOR = text({ max: 80, pattern: /^[0-9A-Za-z_.:-]+$/, hint: 'is not a cursor from a previous page' });

export function addTable<F>(router: Router, def: TableDef<F>): void {
  const jsonSchema = { ...def.filters, limit: integer({ min: 1, max: MAX_PAGE }), cursor: CURSOR };
  router.get(def.path, async (req, res) => {
    const parsed = parseInput(jsonSchema, req.query) as Record<string, unknown>;
    const { limit, cursor, ...filters } = parsed;
    const page = await def.page(def.toFilter(filters), (cursor as string | undefined) ?? null, (limit as number | undefined) ?? def.defaultLimit ?? 100);
    res.json({ columns: def.columns, rows: page.rows, next: page.next, total: page.total ?? null });
  });
  router.get(`${def.path}.csv`, async (req, res) => {
    const parsed = parseInput(def.filters, req.query) as Record<string, unknown>;
    const filter = def.toFilter(parsed);
    await streamCsv(res, csvFileName(def.name, parsed), def.columns, allPages(def, filter));
  });
}

async function* allPages<F>(def: TableDef<F>, filter: F): AsyncGenerator<TableRow[]> {
  let cursor: string | null = null;
  do {
    const page: TablePage = await def.page(filter, cursor, CSV_PAGE);
    yield page.rows;
    cursor = page.next;
  } while (cursor !== null);
}

/**
 * Streams rows as CSV, honouring back-pressure; stops early when the client goes away. The first page is read
 * before anything is sent, so a failing query still answers with the error envelope.
 */
export async function streamCsv(res: Response, fileName: string, columns: readonly string[], pages: AsyncIterable<TableRow[]>): Promise<void> {
  const it = pages[Symbol.asyncIterator]();
  let step = await it.next();
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
  res.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
  res.setHeader('Cache-Control', 'no-store');
  if (!(await write(res, csvText([], columns, true)))) return void (await it.return?.());
  while (!step.done) {
    if (step.value.length > 0 && !(await write(res, csvText(step.value, columns, false)))) return void (await it.return?.());
    step = await it.next();
  }
  res.end();
}

export function csvText(rows: readonly TableRow[], columns: readonly string[], header: boolean): string {
  if (header) return stringify([columns.slice()], { record_delimiter: 'windows' });
  return stringify(rows as TableRow[], {
    header: false,
    columns: columns.slice(),
    record_delimiter: 'windows',
    cast: { boolean: (b) => (b ? 'true' : 'false') },
  });
}

async function write(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}

/** `dmarc-lens-<table>[-<domain>][-<from>_<to>].csv`, safe as a header value */
export function csvFileName(name: string, filters: Record<string, unknown>): string {
  const day = (v: unknown) => (typeof v === 'number' ? new Date(v * 1000).toISOString().slice(0, 10) : '');
  const parts = ['dmarc-lens', name];
  if (typeof filters.domain === 'string') parts.push(filters.domain);
  if (filters.from !== undefined || filters.to !== undefined) parts.push(`${day(filters.from) || 'start'}_${day(filters.to) || 'now'}`);
  return `${parts.join('-').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 150)}.csv`;
}

/** Pages over a list already held in memory (analytics results); only the page's items are turned into rows. */
export function pageOfList<T>(items: readonly T[], cursor: string | null, limit: number, toRow: (item: T) => TableRow): TablePage {
  if (cursor !== null && !/^\d+$/.test(cursor)) throw badRequest('"cursor" is not a cursor from a previous page');
  const start = cursor === null ? 0 : Number(cursor);
  const end = start + limit;
  return { rows: items.slice(start, end).map(toRow), next: end < items.length ? String(end) : null, total: items.length };
}

/**
 * Streams `head`, the pieces, then `tail` (text, or a function giving it once the pieces are written) to the
 * response, waiting whenever the client reads slower than we write; stops reading the pieces when it goes away.
 */
export async function streamText(res: Response, head: string, pieces: AsyncIterable<string>, tail: string | (() => string)): Promise<void> {
  const it = pieces[Symbol.asyncIterator]();
  res.status(200);
  res.setHeader('Cache-Control', 'no-store');
  if (!(await write(res, head))) return void (await it.return?.());
  for (let step = await it.next(); !step.done; step = await it.next()) {
    if (step.value.length > 0 && !(await write(res, step.value))) return void (await it.return?.());
  }
  res.end(typeof tail === 'string' ? tail : tail());
}
