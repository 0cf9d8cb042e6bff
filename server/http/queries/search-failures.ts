/** The failure report list: newest first, in the CLI export's row shape plus the id; optional free-text search. */
import { failureRow } from '../../export/shapes.ts';
import { keyText } from '../../store/report-keys.ts';
import type { Where } from '../../store/sql-build.ts';
import type { Driver } from '../../store/driver.ts';
import { int } from '../../store/row-decode.ts';
import { DATE_RANGE, decodeCursor, encodeCursor, rangeOf } from '../filters.ts';
import { text } from '../request-schema.ts';
import type { TablePage } from '../table-response.ts';
import { failureWhere, type FailureFilter } from './failure-where.ts';
import { containsPattern, storedFailureOf } from './stored-rows.ts';

/** the list's parameters: the date range and domain, and `q` (text in the sender, recipient, subject, …) */
export const FAILURE_LIST_FILTERS = { ...DATE_RANGE, q: text({ max: 200 }) };

export interface FailureListFilter extends FailureFilter {
  q?: string;
}

export function failureListFilter(p: Record<string, unknown>): FailureListFilter {
  return { ...rangeOf(p), ...(typeof p.q === 'string' ? { q: p.q } : {}) };
}

/** the columns `q` looks in (case-insensitive, anywhere in the value) */
const SEARCHED = [
  'source_ip', 'reported_domain', 'original_mail_from', 'original_rcpt_to', 'original_from', 'original_to', 'original_subject',
  'original_message_id', 'dkim_domain', 'reporter_org', 'reporter_email',
] as const;

/** failureWhere plus the text search: an escaped LIKE over lower-cased columns (the same on SQLite and PostgreSQL) */
export function failureListWhere(f: FailureListFilter): Where {
  const where = failureWhere(f);
  const needle = f.q === undefined ? '' : keyText(f.q).slice(0, 200);
  if (needle !== '') {
    const like = containsPattern(needle);
    where.add(`(${SEARCHED.map((c) => `lower(${c}) LIKE ? ESCAPE '\\'`).join(' OR ')})`, ...SEARCHED.map(() => like));
  }
  return where;
}

export const FAILURE_COLUMNS = [
  'id', 'feedback_type', 'auth_failure', 'arrival_date_utc', 'source_ip_address', 'reported_domain', 'original_mail_from',
  'original_rcpt_to', 'delivery_result', 'dkim_domain', 'dkim_selector', 'sample_from', 'sample_to', 'sample_subject',
  'sample_message_id', 'reporter_email', 'reporter_org', 'user_agent', 'plain_text',
] as const;

export async function searchFailures(driver: Driver, f: FailureListFilter, cursor: string | null, limit: number): Promise<TablePage> {
  const where = failureListWhere(f);
  const after = decodeCursor(cursor);
  if (after) where.add('(event_at, id) < (?, ?)', after[0], after[1]);
  const rows = await driver.query(`SELECT * FROM failure_reports ${where} ORDER BY event_at DESC, id DESC LIMIT ${limit + 1}`, where.params);
  const page = rows.slice(0, limit);
  let total: number | null = null;
  if (cursor === null) {
    const count = failureListWhere(f);
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
