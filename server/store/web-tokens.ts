/** API tokens (`Authorization: Bearer …`) for scripts. Only the SHA-256 of a token is stored. */
import type { Driver } from './driver.ts';
import { int, intOrNull, text } from './row-decode.ts';

export interface WebApiToken {
  id: number;
  userId: number;
  userName: string;
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export async function createWebApiToken(driver: Driver, t: { userId: number; label: string; tokenHash: string; now: number }): Promise<number> {
  return driver.transaction(async (tx) => {
    const [row] = await tx.query(
      'INSERT INTO web_api_tokens (user_id, label, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id',
      [t.userId, t.label, t.tokenHash, t.now],
    );
    return int(row!, 'id');
  });
}

const SELECT = `SELECT t.id, t.user_id, u.name, t.label, t.created_at, t.last_used_at
  FROM web_api_tokens t JOIN web_users u ON u.id = t.user_id`;

export async function findWebApiToken(driver: Driver, tokenHash: string): Promise<WebApiToken | null> {
  const [row] = await driver.query(`${SELECT} WHERE t.token_hash = ?`, [tokenHash]);
  return row ? tokenOf(row) : null;
}

export async function listWebApiTokens(driver: Driver, userId: number): Promise<WebApiToken[]> {
  return (await driver.query(`${SELECT} WHERE t.user_id = ? ORDER BY t.id`, [userId])).map(tokenOf);
}

/** Records use at most once a minute per token (keeps a busy script from writing on every request). */
export async function touchWebApiToken(driver: Driver, id: number, now: number): Promise<void> {
  await driver.transaction((tx) =>
    tx.query('UPDATE web_api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [now, id, now - 60]),
  );
}

export async function revokeWebApiToken(driver: Driver, id: number): Promise<boolean> {
  return driver.transaction(async (tx) => {
    const rows = await tx.query('DELETE FROM web_api_tokens WHERE id = ? RETURNING id', [id]);
    return rows.length > 0;
  });
}

function tokenOf(row: Record<string, unknown>): WebApiToken {
  return {
    id: int(row, 'id'),
    userId: int(row, 'user_id'),
    userName: text(row, 'name'),
    label: text(row, 'label'),
    createdAt: int(row, 'created_at'),
    lastUsedAt: intOrNull(row, 'last_used_at'),
  };
}
