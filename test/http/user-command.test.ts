/** `dmarc-lens user add|list|token|remove`: accounts of the web app, passwords never on the command line. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readPassword, registerUserCommand } from '../../server/commands/user.ts';
import { verifyPassword } from '../../server/http/auth/password-hash.ts';
import { secretHash } from '../../server/http/auth/secret-token.ts';
import { openDatabase } from '../../server/store/database.ts';
import { findWebApiToken } from '../../server/store/web-tokens.ts';
import { findWebUser } from '../../server/store/web-users.ts';

describe('dmarc-lens user', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-user-'));
    db = `sqlite:${join(dir, 'u.db')}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[], env: Record<string, string> = {}): Promise<string> {
    const program = new Command('dmarc-lens').exitOverride();
    registerUserCommand(program);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      await program.parseAsync(['node', 'dmarc-lens', 'user', ...args, '--db', db]);
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
    return out.join('');
  }

  it('adds a user with the password from the environment, changes it, lists and removes users', async () => {
    expect(await run(['add', 'alice'], { DMARC_LENS_USER_PASSWORD: 'first long password' })).toBe('user alice created\n');
    expect(await run(['add', 'Alice'], { DMARC_LENS_USER_PASSWORD: 'second long password' })).toMatch(/^password of Alice changed/);
    const d = await openDatabase(db);
    try {
      const u = await findWebUser(d.driver, 'alice');
      expect(await verifyPassword('second long password', u!.passwordHash)).toBe(true);
      expect(u!.passwordHash).not.toContain('second');
    } finally {
      await d.close();
    }
    expect(await run(['list'])).toMatch(/^alice\tcreated \d{4}-/);
    await expect(run(['add', 'bob'], { DMARC_LENS_USER_PASSWORD: 'short' })).rejects.toThrow(/at least 10 characters/);
    await expect(run(['add', 'bad name!'], { DMARC_LENS_USER_PASSWORD: 'long enough password' })).rejects.toThrow(/user names are/);
  });

  it('prints an API token once and stores only its hash', async () => {
    const token = (await run(['token', 'alice', '--label', 'grafana'])).trim();
    expect(token).toMatch(/^dl_[A-Za-z0-9_-]{43}$/);
    const d = await openDatabase(db);
    try {
      const found = await findWebApiToken(d.driver, secretHash(token));
      expect(found).toMatchObject({ userName: 'alice', label: 'grafana' });
    } finally {
      await d.close();
    }
    await expect(run(['token', 'nobody'])).rejects.toThrow(/no user "nobody"/);
    expect(await run(['remove', 'alice'])).toBe('user alice removed\n');
    expect(await run(['list'])).toMatch(/no users/);
  });

  it('reads the password from the first line of stdin', async () => {
    expect(await readPassword({}, Readable.from(['pass word one\nignored\n']), process.stderr)).toBe('pass word one');
    expect(await readPassword({ DMARC_LENS_USER_PASSWORD: 'from env' }, Readable.from(['x\n']), process.stderr)).toBe('from env');
    await expect(readPassword({}, Readable.from(['']), process.stderr)).rejects.toThrow(/no password given/);
  });
});
