/** Login sessions of the web app. Only the SHA-256 of the session secret is stored. */
import type { Driver } from './driver.ts';
import { int, text } from './row-decode.ts';

export interface WebSession {
  userId: number;
  userName: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export async function createWebSession(
  driver: Driver,
  s: { tokenHash: string; userId: number; csrfToken: string; now: number; expiresAt: number },
): Promise<void> {
  await driver.transaction((tx) =>
    tx.query('INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [
      s.tokenHash,
      s.userId,
      s.csrfToken,
      s.now,
      s.expiresAt,
    ]),
  );
}

/** The live session for this hash (null when unknown or expired). */
export async function findWebSession(driver: Driver, tokenHash: string, now: number): Promise<WebSession | null> {
  const [row] = await driver.query(
    `SELECT s.user_id, u.name, s.csrf_token, s.created_at, s.expires_at
     FROM web_sessions s JOIN web_users u ON u.id = s.user_id
     WHERE s.token_hash = ? AND s.expires_at > ?`,
    [tokenHash, now],
  );
  if (!row) return null;
  return {
    userId: int(row, 'user_id'),
    userName: text(row, 'name'),
    csrfToken: text(row, 'csrf_token'),
    createdAt: int(row, 'created_at'),
    expiresAt: int(row, 'expires_at'),
  };
}

/** Moves the expiry of a session forward (sliding expiry). */
export async function extendWebSession(driver: Driver, tokenHash: string, expiresAt: number): Promise<void> {
  await driver.transaction((tx) => tx.query('UPDATE web_sessions SET expires_at = ? WHERE token_hash = ?', [expiresAt, tokenHash]));
}

export async function deleteWebSession(driver: Driver, tokenHash: string): Promise<void> {
  await driver.transaction((tx) => tx.query('DELETE FROM web_sessions WHERE token_hash = ?', [tokenHash]));
}

export async function purgeExpiredWebSessions(driver: Driver, now: number): Promise<void> {
  await driver.transaction((tx) => tx.query('DELETE FROM web_sessions WHERE expires_at <= ?', [now]));
}
