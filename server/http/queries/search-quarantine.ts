/** The quarantine list: newest first, in the CLI export's shape (the bytes are downloaded separately). */
import { quarantineJson } from '../../export/shapes.ts';
import type { Driver } from '../../store/driver.ts';
import { quarantineRowOf } from '../../store/quarantine-store.ts';
import { int } from '../../store/row-decode.ts';
import { decodeCursor, encodeCursor } from '../filters.ts';
import type { TablePage } from '../table-response.ts';
import { quarantineWhere, type QuarantineFilter } from './quarantine-where.ts';

export const QUARANTINE_COLUMNS = [
  'id', 'input', 'member', 'type', 'reason', 'detail', 'sha256', 'size', 'truncated', 'received_at', 'resolved_at',
] as const;

export async function searchQuarantine(driver: Driver, f: QuarantineFilter, cursor: string | null, limit: number): Promise<TablePage> {
  const where = quarantineWhere(f);
  const after = decodeCursor(cursor);
  if (after) where.add('(received_at, id) < (?, ?)', after[0], after[1]);
  const rows = await driver.query(
    `SELECT id, origin_input, origin_member, report_type, code, detail, sha256, size, truncated, received_at, resolved_at
     FROM quarantine ${where} ORDER BY received_at DESC, id DESC LIMIT ${limit + 1}`,
    where.params,
  );
  const page = rows.slice(0, limit);
  let total: number | null = null;
  if (cursor === null) {
    const count = quarantineWhere(f);
    const [c] = await driver.query(`SELECT count(*) AS n FROM quarantine ${count}`, count.params);
    total = int(c!, 'n');
  }
  const last = page.at(-1);
  return {
    rows: page.map((r) => quarantineJson(quarantineRowOf(r))),
    next: rows.length > limit && last ? encodeCursor(int(last, 'received_at'), int(last, 'id')) : null,
    total,
  };
}
