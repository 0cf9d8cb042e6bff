/**
 * A PostgreSQL server for tests, found or started on demand:
 *  1. DMARC_LENS_TEST_PG (a postgres:// URL) when set — failing to reach it is an error, not a skip;
 *  2. 127.0.0.1:5432 as user postgres (trust auth, database `test`);
 *  3. a throwaway cluster (initdb + pg_ctl; via runuser as root) in a temp dir on a random port.
 * Each run gets its own fresh database `dmarc_lens_t_<random>`, dropped by cleanup(); `newDatabase()` makes more.
 * Use `describePostgresUnavailable` to skip loudly (or fail when CI=true) when none is available.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, it } from 'vitest';

const run = promisify(execFile);

export interface TestPostgres {
  /** a fresh, empty database of this run */
  url: string;
  /** where the server came from, for messages */
  source: 'env' | 'local' | 'throwaway';
  /** another fresh, empty database on the same server (dropped by cleanup) */
  newDatabase(): Promise<string>;
  /** drops the databases made here and stops a throwaway cluster */
  cleanup(): Promise<void>;
}

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** what the last getTestPostgres() tried, for the skip message */
let lastAttempts: string[] = [];

export async function getTestPostgres(): Promise<TestPostgres | null> {
  lastAttempts = [];
  const fromEnv = process.env.DMARC_LENS_TEST_PG;
  if (fromEnv) {
    const err = await reachable(fromEnv);
    if (err) throw new Error(`DMARC_LENS_TEST_PG is set but cannot be reached: ${err}`);
    return onServer(fromEnv, 'env', async () => {});
  }
  const localErr = await reachable(LOCAL_URL);
  if (!localErr) return onServer(LOCAL_URL, 'local', async () => {});
  lastAttempts.push(`${LOCAL_URL}: ${localErr}`);
  try {
    const cluster = await startThrowawayPostgres();
    try {
      return await onServer(cluster.url, 'throwaway', cluster.stop);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  } catch (err) {
    lastAttempts.push(`throwaway cluster: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

/**
 * Registers, in place of a PostgreSQL suite that cannot run, a skipped test and a loud console warning —
 * or, when CI=true, a failing test, so CI never passes without having run it.
 */
export function describePostgresUnavailable(suite: string): void {
  const lines = [
    `SKIPPED: the PostgreSQL part of "${suite}" — no PostgreSQL server was available.`,
    ...lastAttempts.map((a) => `  tried ${a}`),
    'To run it: set DMARC_LENS_TEST_PG=postgres://user@host:port/db (a role that may CREATE DATABASE),',
    'or run PostgreSQL on 127.0.0.1:5432 with user postgres (trust auth), or install the postgresql server',
    'package (initdb) so a throwaway cluster can be started. With CI=true this is a test failure.',
  ];
  const banner = '!'.repeat(100);
  console.warn(`\n${banner}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${banner}\n`);
  describe(`postgres (${suite})`, () => {
    if (process.env.CI === 'true') {
      it('has a PostgreSQL server to run against (required when CI=true)', () => {
        throw new Error(lines.join('\n'));
      });
    } else {
      it.skip('needs a PostgreSQL server (see the warning above)', () => {});
    }
  });
}

async function reachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String((err as { code?: unknown }).code ?? err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function onServer(serverUrl: string, source: TestPostgres['source'], stop: () => Promise<void>): Promise<TestPostgres> {
  const made: string[] = [];
  const newDatabase = async () => {
    const name = `dmarc_lens_t_${randomBytes(6).toString('hex')}`;
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
    made.push(name);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.href;
  };
  const url = await newDatabase();
  return {
    url,
    source,
    newDatabase,
    async cleanup() {
      try {
        for (const name of made.splice(0)) await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await stop();
      }
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Starts a private PostgreSQL cluster (initdb in a temp dir, random port, trust auth, no fsync) and returns the
 * URL of its `postgres` database. `stop()` shuts it down and removes the directory. Also useful on its own for
 * tests that need a server they may stop.
 */
export async function startThrowawayPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin');
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-pg-'));
  const asRoot = process.getuid?.() === 0;
  // initdb and postgres refuse to run as root: run them as the postgres system user
  const exec = async (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const data = join(dir, 'data');
    await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await exec('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '30', '-o', options, 'start']);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: async () => {
        await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
