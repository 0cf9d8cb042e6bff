/** The web app's account tables (users, sessions, API tokens, login attempts) behave alike on every engine. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { clearFailedLogins, countFailedLogins, purgeFailedLogins, recordFailedLogin } from '../../server/store/web-login-attempts.ts';
import { createWebSession, deleteWebSession, extendWebSession, findWebSession, purgeExpiredWebSessions } from '../../server/store/web-sessions.ts';
import { createWebApiToken, findWebApiToken, listWebApiTokens, revokeWebApiToken, touchWebApiToken } from '../../server/store/web-tokens.ts';
import { countWebUsers, findWebUser, listWebUsers, removeWebUser, saveWebUser } from '../../server/store/web-users.ts';
import { webDialects } from './dialects.ts';

const { dialects, cleanup } = await webDialects('web account tables');
afterAll(cleanup);

for (const dialect of dialects)
  describe(`web account tables (${dialect.name})`, () => {
    let db: Database;
    let dir: string | null = null;
    beforeAll(async () => {
      const url = await dialect.newUrl();
      if (!url) dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-webstore-'));
      db = await openDatabase(url ?? `sqlite:${join(dir!, 'w.db')}`);
    });
    afterAll(async () => {
      await db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('keeps users unique by case-insensitive name and replaces a password in place', async () => {
      const a = await saveWebUser(db.driver, 'Alice', 'hash-1', 100);
      expect(a.created).toBe(true);
      const b = await saveWebUser(db.driver, 'alice', 'hash-2', 200);
      expect(b).toMatchObject({ created: false, user: { id: a.user.id, name: 'Alice', createdAt: 100, updatedAt: 200 } });
      expect((await findWebUser(db.driver, 'ALICE'))?.passwordHash).toBe('hash-2');
      await saveWebUser(db.driver, 'bob', 'hash-3', 300);
      expect((await listWebUsers(db.driver)).map((u) => u.name)).toEqual(['Alice', 'bob']);
      expect(await countWebUsers(db.driver)).toBe(2);
      expect(await findWebUser(db.driver, 'carol')).toBeNull();
    });

    it('finds live sessions only, extends them, and deletes them', async () => {
      const alice = (await findWebUser(db.driver, 'alice'))!;
      await createWebSession(db.driver, { tokenHash: 'h1', userId: alice.id, csrfToken: 'c1', now: 1000, expiresAt: 2000 });
      expect(await findWebSession(db.driver, 'h1', 1500)).toEqual({ userId: alice.id, userName: 'Alice', csrfToken: 'c1', createdAt: 1000, expiresAt: 2000 });
      expect(await findWebSession(db.driver, 'h1', 2000)).toBeNull();
      await extendWebSession(db.driver, 'h1', 5000);
      expect((await findWebSession(db.driver, 'h1', 2000))?.expiresAt).toBe(5000);
      await createWebSession(db.driver, { tokenHash: 'h2', userId: alice.id, csrfToken: 'c2', now: 1000, expiresAt: 1100 });
      await purgeExpiredWebSessions(db.driver, 3000);
      expect(await findWebSession(db.driver, 'h2', 1050)).toBeNull();
      await deleteWebSession(db.driver, 'h1');
      expect(await findWebSession(db.driver, 'h1', 2000)).toBeNull();
      // a new password ends the user's sessions
      await createWebSession(db.driver, { tokenHash: 'h3', userId: alice.id, csrfToken: 'c3', now: 1000, expiresAt: 9000 });
      await saveWebUser(db.driver, 'alice', 'hash-4', 400);
      expect(await findWebSession(db.driver, 'h3', 2000)).toBeNull();
    });

    it('stores API tokens by hash, records use at most once a minute, and revokes them', async () => {
      const bob = (await findWebUser(db.driver, 'bob'))!;
      const id = await createWebApiToken(db.driver, { userId: bob.id, label: 'ci', tokenHash: 'th1', now: 100 });
      expect(await findWebApiToken(db.driver, 'th1')).toEqual({ id, userId: bob.id, userName: 'bob', label: 'ci', createdAt: 100, lastUsedAt: null });
      await touchWebApiToken(db.driver, id, 1000);
      await touchWebApiToken(db.driver, id, 1030);
      expect((await findWebApiToken(db.driver, 'th1'))?.lastUsedAt).toBe(1000);
      await touchWebApiToken(db.driver, id, 1061);
      expect((await listWebApiTokens(db.driver, bob.id))[0]?.lastUsedAt).toBe(1061);
      expect(await revokeWebApiToken(db.driver, id)).toBe(true);
      expect(await revokeWebApiToken(db.driver, id)).toBe(false);
      expect(await findWebApiToken(db.driver, 'th1')).toBeNull();
    });

    it('removes a user with their sessions and tokens', async () => {
      const bob = (await findWebUser(db.driver, 'bob'))!;
      await createWebSession(db.driver, { tokenHash: 'hb', userId: bob.id, csrfToken: 'c', now: 1, expiresAt: 99_999 });
      await createWebApiToken(db.driver, { userId: bob.id, label: 'x', tokenHash: 'tb', now: 1 });
      expect(await removeWebUser(db.driver, 'BOB')).toBe(true);
      expect(await removeWebUser(db.driver, 'bob')).toBe(false);
      expect(await findWebSession(db.driver, 'hb', 2)).toBeNull();
      expect(await findWebApiToken(db.driver, 'tb')).toBeNull();
    });

    it('counts failed logins per key within a window', async () => {
      await recordFailedLogin(db.driver, ['a:1', 'u:x'], 100);
      await recordFailedLogin(db.driver, ['a:1'], 200);
      await recordFailedLogin(db.driver, ['a:2'], 300);
      const counts = await countFailedLogins(db.driver, ['a:1', 'u:x', 'a:3'], 150);
      expect(Object.fromEntries(counts)).toEqual({ 'a:1': { count: 1, oldest: 200 }, });
      const all = await countFailedLogins(db.driver, ['a:1', 'u:x'], 0);
      expect(Object.fromEntries(all)).toEqual({ 'a:1': { count: 2, oldest: 100 }, 'u:x': { count: 1, oldest: 100 } });
      await clearFailedLogins(db.driver, ['a:1']);
      expect((await countFailedLogins(db.driver, ['a:1'], 0)).size).toBe(0);
      await purgeFailedLogins(db.driver, 301);
      expect((await countFailedLogins(db.driver, ['a:2', 'u:x'], 0)).size).toBe(0);
    });
  });
