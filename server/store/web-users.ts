/** The web app's user accounts. Names match case-insensitively; the password hash format is the caller's business. */
import type { Driver } from './driver.ts';
import { keyText } from './report-keys.ts';
import { int, text } from './row-decode.ts';

export interface WebUser {
  id: number;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface WebUserWithHash extends WebUser {
  passwordHash: string;
}

/** Creates the user, or replaces the password of the existing one. */
export async function saveWebUser(driver: Driver, name: string, passwordHash: string, now: number): Promise<{ user: WebUser; created: boolean }> {
  return driver.transaction(async (tx) => {
    const [existing] = await tx.query('SELECT id FROM web_users WHERE key_name = ?', [keyText(name)]);
    if (existing) {
      await tx.query('UPDATE web_users SET password_hash = ?, updated_at = ? WHERE id = ?', [passwordHash, now, int(existing, 'id')]);
      // a new password ends every session of the old one
      await tx.query('DELETE FROM web_sessions WHERE user_id = ?', [int(existing, 'id')]);
    } else {
      await tx.query('INSERT INTO web_users (name, key_name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
        name,
        keyText(name),
        passwordHash,
        now,
        now,
      ]);
    }
    const [row] = await tx.query('SELECT id, name, created_at, updated_at FROM web_users WHERE key_name = ?', [keyText(name)]);
    return { user: userOf(row!), created: !existing };
  });
}

export async function findWebUser(driver: Driver, name: string): Promise<WebUserWithHash | null> {
  const [row] = await driver.query('SELECT id, name, password_hash, created_at, updated_at FROM web_users WHERE key_name = ?', [keyText(name)]);
  return row ? { ...userOf(row), passwordHash: text(row, 'password_hash') } : null;
}

export async function listWebUsers(driver: Driver): Promise<WebUser[]> {
  const rows = await driver.query('SELECT id, name, created_at, updated_at FROM web_users ORDER BY key_name');
  return rows.map(userOf);
}

export async function countWebUsers(driver: Driver): Promise<number> {
  const [row] = await driver.query('SELECT count(*) AS n FROM web_users');
  return int(row!, 'n');
}

/** Removes the user with their sessions and tokens; false when there was no such user. */
export async function removeWebUser(driver: Driver, name: string): Promise<boolean> {
  return driver.transaction(async (tx) => {
    const [row] = await tx.query('SELECT id FROM web_users WHERE key_name = ?', [keyText(name)]);
    if (!row) return false;
    const id = int(row, 'id');
    // explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign_keys on
    await tx.query('DELETE FROM web_sessions WHERE user_id = ?', [id]);
    await tx.query('DELETE FROM web_api_tokens WHERE user_id = ?', [id]);
    await tx.query('DELETE FROM web_users WHERE id = ?', [id]);
    return true;
  });
}

function userOf(row: Record<string, unknown>): WebUser {
  return { id: int(row, 'id'), name: text(row, 'name'), createdAt: int(row, 'created_at'), updatedAt: int(row, 'updated_at') };
}
