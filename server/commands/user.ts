/**
 * `dmarc-lens user add|list|remove|token`: the web app's accounts. A password comes from
 * DMARC_LENS_USER_PASSWORD or stdin (its first line; typed without echo on a terminal), never from the command
 * line, where other users of the machine could read it.
 */
import type { Command } from 'commander';
import { hashPassword, passwordProblem } from '../http/auth/password-hash.ts';
import { newSecret, secretHash } from '../http/auth/secret-token.ts';
import type { Driver } from '../store/driver.ts';
import { openDatabase } from '../store/database.ts';
import { createWebApiToken } from '../store/web-tokens.ts';
import { findWebUser, listWebUsers, removeWebUser, saveWebUser } from '../store/web-users.ts';
import { loadConfig } from '../config.ts';
import { FatalError } from '../errors.ts';
import { addStoreOptions } from './common.ts';

const NAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

export function registerUserCommand(program: Command): void {
  const user = program.command('user').description('manage the accounts of the web app (dmarc-lens serve)');

  addStoreOptions(user.command('add').description('create a user, or set a new password for an existing one (password from DMARC_LENS_USER_PASSWORD or stdin)').argument('<name>'))
    .action(async (name: string, flags: { db?: string; config?: string }) => {
      checkName(name);
      const password = await readPassword(process.env, process.stdin, process.stderr);
      const problem = passwordProblem(password);
      if (problem) throw new FatalError('bad-password', problem);
      await withDriver(flags, async (driver) => {
        const { created } = await saveWebUser(driver, name, await hashPassword(password), now());
        process.stdout.write(created ? `user ${name} created\n` : `password of ${name} changed (their sessions ended)\n`);
      });
    });

  addStoreOptions(user.command('list').description('list the users'))
    .action(async (flags: { db?: string; config?: string }) => {
      await withDriver(flags, async (driver) => {
        const users = await listWebUsers(driver);
        if (users.length === 0) process.stdout.write('no users (add one with: dmarc-lens user add NAME)\n');
        for (const u of users) process.stdout.write(`${u.name}\tcreated ${new Date(u.createdAt * 1000).toISOString()}\n`);
      });
    });

  addStoreOptions(user.command('remove').description('remove a user with their sessions and API tokens').argument('<name>'))
    .action(async (name: string, flags: { db?: string; config?: string }) => {
      await withDriver(flags, async (driver) => {
        if (!(await removeWebUser(driver, name))) throw new FatalError('no-such-user', `no user ${JSON.stringify(name)}`);
        process.stdout.write(`user ${name} removed\n`);
      });
    });

  addStoreOptions(user.command('token').description('create an API token for scripts (send it as "Authorization: Bearer TOKEN"); printed once').argument('<name>'))
    .option('--label <text>', 'what the token is for', 'api')
    .action(async (name: string, flags: { db?: string; config?: string; label: string }) => {
      await withDriver(flags, async (driver) => {
        const token = await createUserToken(driver, name, flags.label);
        process.stdout.write(`${token}\n`);
      });
    });
}

/** Creates an API token for the user and returns it (only its hash is stored). */
export async function createUserToken(driver: Driver, name: string, label = 'api'): Promise<string> {
  const found = await findWebUser(driver, name);
  if (!found) throw new FatalError('no-such-user', `no user ${JSON.stringify(name)} (create one with: dmarc-lens user add ${name})`);
  const token = newSecret('dl_');
  await createWebApiToken(driver, { userId: found.id, label: label.slice(0, 100), tokenHash: secretHash(token), now: now() });
  return token;
}

/**
 * DMARC_LENS_ADMIN_USER (default "admin") with DMARC_LENS_ADMIN_PASSWORD: the account is created, or its
 * password set, when the server starts — for containers, where running `user add` first is awkward.
 */
export async function ensureEnvAdmin(driver: Driver, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const password = env.DMARC_LENS_ADMIN_PASSWORD;
  if (!password) return;
  const name = env.DMARC_LENS_ADMIN_USER || 'admin';
  checkName(name);
  const problem = passwordProblem(password);
  if (problem) throw new FatalError('bad-password', `DMARC_LENS_ADMIN_PASSWORD: ${problem}`);
  const { created } = await saveWebUser(driver, name, await hashPassword(password), now());
  log(created ? `user ${name} created from DMARC_LENS_ADMIN_PASSWORD` : `password of ${name} set from DMARC_LENS_ADMIN_PASSWORD`);
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new FatalError('bad-user-name', `user names are 1–64 letters, digits or . _ @ + -, not ${JSON.stringify(name)}`);
}

async function withDriver(flags: { db?: string; config?: string }, fn: (driver: Driver) => Promise<void>): Promise<void> {
  const db = await openDatabase(loadConfig(flags).db);
  try {
    await fn(db.driver);
  } finally {
    await db.close();
  }
}

/** the password from the environment, or the first line of stdin (prompted for, without echo, on a terminal) */
export async function readPassword(env: NodeJS.ProcessEnv, stdin: NodeJS.ReadStream | NodeJS.ReadableStream, prompt: NodeJS.WritableStream): Promise<string> {
  if (env.DMARC_LENS_USER_PASSWORD) return env.DMARC_LENS_USER_PASSWORD;
  const tty = stdin as NodeJS.ReadStream;
  if (tty.isTTY && typeof tty.setRawMode === 'function') return readHidden(tty, prompt);
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length > 4096) break;
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new FatalError('bad-password', 'no password given: pipe it on stdin or set DMARC_LENS_USER_PASSWORD');
  return line;
}

function readHidden(tty: NodeJS.ReadStream, prompt: NodeJS.WritableStream): Promise<string> {
  prompt.write('Password: ');
  tty.setRawMode(true);
  tty.resume();
  tty.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err: Error | null) => {
      tty.setRawMode(false);
      tty.pause();
      tty.off('data', onData);
      prompt.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (s: string) => {
      for (const c of s) {
        if (c === '\r' || c === '\n') return done(null);
        if (c === '\u0003') return done(new FatalError('cancelled', 'cancelled'));
        if (c === '\u007f' || c === '\b') value = value.slice(0, -1);
        else value += c;
      }
    };
    tty.on('data', onData);
  });
}

const now = () => Math.floor(Date.now() / 1000);
