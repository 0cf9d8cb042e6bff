/**
 * Failed login attempts, keyed by client address and by user name, so rate limiting survives restarts and holds
 * across several server processes on one database.
 */
import type { Driver } from './driver.ts';
import { int } from './row-decode.ts';

export async function recordFailedLogin(driver: Driver, keys: readonly string[], now: number): Promise<void> {
  if (keys.length === 0) return;
  await driver.transaction((tx) =>
    tx.insertMany('web_login_attempts', ['attempt_key', 'attempted_at'], keys.flatMap((k) => [k, now])),
  );
}

/** failures per key since `since` (epoch seconds); keys without failures are absent */
export async function countFailedLogins(driver: Driver, keys: readonly string[], since: number): Promise<Map<string, { count: number; oldest: number }>> {
  const result = new Map<string, { count: number; oldest: number }>();
  if (keys.length === 0) return result;
  const rows = await driver.query(
    `SELECT attempt_key, count(*) AS n, min(attempted_at) AS oldest FROM web_login_attempts
     WHERE attempt_key IN (${keys.map(() => '?').join(', ')}) AND attempted_at >= ? GROUP BY attempt_key`,
    [...keys, since],
  );
  for (const row of rows) result.set(String(row.attempt_key), { count: int(row, 'n'), oldest: int(row, 'oldest') });
  return result;
}

export async function clearFailedLogins(driver: Driver, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await driver.transaction((tx) =>
    tx.query(`DELETE FROM web_login_attempts WHERE attempt_key IN (${keys.map(() => '?').join(', ')})`, [...keys]),
  );
}

export async function purgeFailedLogins(driver: Driver, before: number): Promise<void> {
  await driver.transaction((tx) => tx.query('DELETE FROM web_login_attempts WHERE attempted_at < ?', [before]));
}
