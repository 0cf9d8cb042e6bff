import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FatalError } from '../../server/errors.ts';
import { parseDbUrl, redactDbUrl } from '../../server/store/db-url.ts';
import { openStore } from '../../server/store/open-store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dmarc-lens-open-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function fatalOf(promise: Promise<unknown>): Promise<FatalError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FatalError);
  return err as FatalError;
}

describe('parseDbUrl', () => {
  it('reads sqlite and postgres URLs', () => {
    expect(parseDbUrl('sqlite:data/dmarc.db')).toEqual({ dialect: 'sqlite', path: 'data/dmarc.db' });
    expect(parseDbUrl('sqlite:/var/lib/dmarc.db')).toEqual({ dialect: 'sqlite', path: '/var/lib/dmarc.db' });
    expect(parseDbUrl('sqlite:///var/lib/dmarc.db')).toEqual({ dialect: 'sqlite', path: '/var/lib/dmarc.db' });
    expect(parseDbUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
    expect(parseDbUrl('postgres://u:p@db:5432/dmarc')).toEqual({ dialect: 'postgres', url: 'postgres://u:p@db:5432/dmarc' });
    expect(parseDbUrl('postgresql://db/dmarc?sslmode=require').dialect).toBe('postgres');
  });

  it.each(['', 'dmarc.db', 'sqlite:', 'mysql://u:hunter2@db/x', 'postgres://', 'postgres://u:hunter2@[bad/x'])(
    'rejects %j as bad-db-url without showing a password',
    (url) => {
      let err: unknown;
      try {
        parseDbUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FatalError);
      expect((err as FatalError).code).toBe('bad-db-url');
      expect((err as FatalError).message).not.toContain('hunter2');
    },
  );

  it('redacts passwords in URLs and query strings', () => {
    expect(redactDbUrl('postgres://dmarc:s3cret@db:5432/dmarc')).toBe('postgres://dmarc:***@db:5432/dmarc');
    expect(redactDbUrl('postgres://db/dmarc?user=x&password=s3cret')).not.toContain('s3cret');
    expect(redactDbUrl('postgres://dmarc:s3cr@t@[oops/x')).not.toContain('s3cr');
    expect(redactDbUrl('sqlite:my db.sqlite')).toBe('sqlite:my db.sqlite');
  });
});

describe('openStore failures', () => {
  it('reports an unreachable PostgreSQL server as database-unreachable, naming the URL without its password', async () => {
    // port 1 on loopback: nothing listens there, the connection is refused at once
    const err = await fatalOf(openStore('postgres://dmarc:hunter2@127.0.0.1:1/dmarc'));
    expect(err.code).toBe('database-unreachable');
    expect(err.message).toContain('postgres://dmarc:***@127.0.0.1:1/dmarc');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('reports a SQLite file in a missing directory as database-unreachable', async () => {
    const err = await fatalOf(openStore(`sqlite:${join(tmp, 'no-such-dir', 'x.db')}`));
    expect(err.code).toBe('database-unreachable');
    expect(err.message).toContain('no-such-dir');
  });

  it('reports a file that is not a SQLite database as database-unreachable', async () => {
    const path = join(tmp, 'not-a-db.db');
    writeFileSync(path, 'this is a text file, not a database '.repeat(200));
    const err = await fatalOf(openStore(`sqlite:${path}`));
    expect(err.code).toBe('database-unreachable');
  });

  it('rejects a malformed URL as bad-db-url', async () => {
    expect((await fatalOf(openStore('mongodb://x/y'))).code).toBe('bad-db-url');
  });
});
