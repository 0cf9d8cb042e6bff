/** Failure reports per UTC day (the Failure reports view's chart). */
import type { Driver } from '../../store/driver.ts';
import { int } from '../../store/row-decode.ts';
import { failureWhere, type FailureFilter } from './failure-where.ts';

export async function failuresByDay(driver: Driver, f: FailureFilter): Promise<{ day: string; reports: number }[]> {
  const where = failureWhere(f);
  const rows = await driver.query(
    `SELECT event_at / 86400 AS d, count(*) AS n FROM failure_reports ${where} GROUP BY event_at / 86400 ORDER BY d LIMIT 1000`,
    where.params,
  );
  return rows.map((r) => ({ day: new Date(int(r, 'd') * 86_400_000).toISOString().slice(0, 10), reports: int(r, 'n') }));
}
