/** Quarantined inputs per reason code (the Quarantine view's chart). */
import type { Driver } from '../../store/driver.ts';
import { int, text } from '../../store/row-decode.ts';
import { quarantineWhere, type QuarantineFilter } from './quarantine-where.ts';

export async function quarantineByReason(driver: Driver, f: QuarantineFilter): Promise<{ reason: string; inputs: number }[]> {
  const where = quarantineWhere(f);
  const rows = await driver.query(`SELECT code, count(*) AS n FROM quarantine ${where} GROUP BY code ORDER BY n DESC, code`, where.params);
  return rows.map((r) => ({ reason: text(r, 'code'), inputs: int(r, 'n') }));
}
