import type { ReasonCode, ReportType } from '../domain/report-types.ts';
import type { Driver, Row } from './driver.ts';
import type { ExportFilter, QuarantineInput, QuarantineRow } from './report-store.ts';
import { bool, boolValue, int, intOrNull, mailAuthOf, mailAuthValue, text, textOrNull } from './row-decode.ts';
import { insertRowSql, keysetPages, PAGE_SIZE, Where } from './sql-build.ts';

/** The same bad input (sha256, member, code) is kept once; a second arrival returns the first row. */
export async function saveQuarantine(driver: Driver, q: QuarantineInput, receivedAt: number): Promise<{ id: number; isNew: boolean }> {
  return driver.transaction(async (tx) => {
    const { sql, params } = insertRowSql('quarantine', {
      origin_input: q.origin.input,
      origin_member: q.origin.member,
      mail_auth: mailAuthValue(q.origin),
      report_type: q.type,
      code: q.code,
      detail: q.detail,
      bytes: q.bytes,
      sha256: q.sha256,
      size: q.bytes.length,
      truncated: boolValue(q.truncated),
      received_at: receivedAt,
    });
    const inserted = await tx.query(`${sql} ON CONFLICT DO NOTHING RETURNING id`, params);
    if (inserted[0]) return { id: int(inserted[0], 'id'), isNew: true };
    const existing = await tx.query(
      `SELECT id FROM quarantine WHERE sha256 = ? AND coalesce(origin_member, '') = ? AND code = ?`,
      [q.sha256, q.origin.member ?? '', q.code],
    );
    if (!existing[0]) throw new Error(`quarantine ${q.sha256}: insert conflicted but no stored row matches`);
    return { id: int(existing[0], 'id'), isNew: false };
  });
}

const LIST_COLUMNS =
  'id, origin_input, origin_member, report_type, code, detail, sha256, size, truncated, received_at, resolved_at, mail_auth';

/** Ordered by the time received, then id; from/to bound that time. `domain` does not apply (the input is unusable). */
export async function* listQuarantine(
  driver: Driver,
  filter: ExportFilter & { unresolvedOnly?: boolean },
): AsyncGenerator<QuarantineRow> {
  const rows = keysetPages((after) => {
    const where = new Where();
    if (filter.from !== undefined) where.add('received_at >= ?', filter.from);
    if (filter.to !== undefined) where.add('received_at <= ?', filter.to);
    if (filter.unresolvedOnly) where.add('resolved_at IS NULL');
    if (after) where.add('(received_at, id) > (?, ?)', after[0], after[1]);
    return driver.query(`SELECT ${LIST_COLUMNS} FROM quarantine ${where} ORDER BY received_at, id LIMIT ${PAGE_SIZE}`, where.params);
  }, 'received_at');
  for await (const row of rows) yield quarantineRowOf(row);
}

/** Decodes a quarantine row (without `bytes`); also used by the web API's list (server/http/queries/search-quarantine.ts). */
export function quarantineRowOf(row: Row): QuarantineRow {
  return {
    id: int(row, 'id'),
    input: text(row, 'origin_input'),
    member: textOrNull(row, 'origin_member'),
    type: textOrNull(row, 'report_type') as ReportType | null,
    code: text(row, 'code') as ReasonCode,
    detail: text(row, 'detail'),
    sha256: text(row, 'sha256'),
    size: int(row, 'size'),
    truncated: bool(row, 'truncated'),
    receivedAt: int(row, 'received_at'),
    resolvedAt: intOrNull(row, 'resolved_at'),
    ...mailAuthOf(row),
  };
}

export async function getQuarantineBytes(driver: Driver, id: number): Promise<Buffer | null> {
  const [row] = await driver.query('SELECT bytes FROM quarantine WHERE id = ?', [id]);
  if (!row) return null;
  const bytes = row.bytes;
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new Error(`quarantine ${id}: bytes column is ${typeof bytes}`);
}

/** Marks the row resolved (first time only; resolving twice keeps the first time). */
export async function markQuarantineResolved(driver: Driver, id: number, resolvedAt: number): Promise<void> {
  await driver.transaction((tx) =>
    tx.query('UPDATE quarantine SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL', [resolvedAt, id]),
  );
}
