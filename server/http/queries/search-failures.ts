/** The failure report list: newest first, in the CLI export's row shape plus the id. */
import { failureRow } from '../../export/shapes.ts';
import type { Driver } from '../../store/driver.ts';
import { int } from '../../store/row-decode.ts';
import { decodeCursor, encodeCursor } from '../filters.ts';
import type { TablePage } from '../table-response.ts';
import { failureWhere, type FailureFilter } from './failure-where.ts';
import { storedFailureOf } from './stored-rows.ts';

export const FAILURE_COLUMNS = [
  'id', 'feedback_type', 'auth_failure', 'arrival_date_utc', 'source_ip_address', 'reported_domain', 'original_mail_from',
  'original_rcpt_to', 'delivery_result', 'dkim_domain', 'dkim_selector', 'sample_from', 'sample_to', 'sample_subject',
  'sample_message_id', 'reporter_email', 'reporter_org', 'user_agent', 'plain_text',
] as const;

export async function searchFailures(driver: Driver, f: FailureFilter, cursor: string | null, limit: number): Promise<TablePage> {
  const where = failureWhere(f);
  const after = decodeCursor(cursor);
  if (after) where.add('(event_at, id) < (?, ?)', after[0], after[1]);
  const rows = await driver.query(`SELECT * FROM failure_reports ${where} ORDER BY event_at DESC, id DESC LIMIT ${limit + 1}`, where.params);
  const page = rows.slice(0, limit);
  let total: number | null = null;
  if (cursor === null) {
    const count = failureWhere(f);
    const [c] = await driver.query(`SELECT count(*) AS n FROM failure_reports ${count}`, count.params);
    total = int(c!, 'n');
  }
  const last = page.at(-1);
  return {
    rows: page.map((r) => {
      const stored = storedFailureOf(r);
      return { id: stored.id, ...failureRow(stored) };
    }),
    next: rows.length > limit && last ? encodeCursor(int(last, 'event_at'), int(last, 'id')) : null,
    total,
  };
}
