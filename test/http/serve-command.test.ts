/** startWebServer (what `dmarc-lens serve` and `demo` run): login off loopback, env admin, no poller without IMAP. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer } from '../../server/commands/serve.ts';
import { loadConfig } from '../../server/config.ts';
import { FatalError } from '../../server/errors.ts';
import { webAnalytics } from '../../server/http/load-analytics.ts';
import { openDatabase, type Database } from '../../server/store/database.ts';
import { TestClient } from './web-fixture.ts';

describe('startWebServer', () => {
  let dir: string;
  let db: Database;
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-serve-'));
    db = await openDatabase(`sqlite:${join(dir, 's.db')}`);
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = () => loadConfig({ db: `sqlite:${join(dir, 's.db')}` }, {});

  it('serves the app without login on loopback, and does not poll without an IMAP account', async () => {
    const server = await startWebServer({ db, config: config(), host: '127.0.0.1', port: 0, poll: true, enrich: false, env: {}, analytics: null, log });
    try {
      expect(server.loginRequired).toBe(false);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const api = new TestClient(server.url.replace(/\/$/, ''));
      expect((await api.get('/')).text).toContain('/assets/app.js');
      expect((await api.get('/assets/app.js')).status).toBe(200);
      expect((await api.get('/api/meta')).status).toBe(200);
      expect(logs.some((l) => /no IMAP account configured/.test(l))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses to listen beyond loopback while no user exists', async () => {
    const err = await startWebServer({ db, config: config(), host: '0.0.0.0', port: 0, poll: false, enrich: false, env: {}, analytics: null, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).code).toBe('no-users');
    expect((err as FatalError).message).toMatch(/dmarc-lens user add/);
  });

  it('creates the admin from DMARC_LENS_ADMIN_PASSWORD and then requires a login', async () => {
    const env = { DMARC_LENS_ADMIN_USER: 'root', DMARC_LENS_ADMIN_PASSWORD: 'a very long secret' };
    const server = await startWebServer({ db, config: config(), host: '0.0.0.0', port: 0, poll: false, enrich: false, env, analytics: null, log });
    try {
      expect(server.loginRequired).toBe(true);
      const api = new TestClient(`http://127.0.0.1:${server.port}`);
      expect((await api.get('/api/meta')).status).toBe(401);
      expect((await api.login('root', 'a very long secret')).status).toBe(200);
      expect((await api.get('/api/meta')).status).toBe(200);
    } finally {
      await server.close();
    }
    await expect(startWebServer({ db, config: config(), host: '0.0.0.0', port: 0, poll: false, env: { DMARC_LENS_ADMIN_PASSWORD: 'short' }, analytics: null, log })).rejects.toThrow(/at least 10/);
  });

  it('loads the analytics index as it starts, so the first Sources request does not wait for it', async () => {
    const seen: string[] = [];
    const server = await startWebServer({ db, config: config(), host: '127.0.0.1', port: 0, poll: false, enrich: false, env: {}, log: (l) => seen.push(l) });
    try {
      const api = new TestClient(server.url.replace(/\/$/, ''));
      expect((await api.get('/api/sources')).status).toBe(200);
    } finally {
      await server.close(); // waits for the warm-up too
    }
    expect(seen.filter((l) => /analytics index loaded in \d+\.\d s/.test(l))).toHaveLength(1);
  });

  it('reads the config file\'s senders section as the CLI does: malformed entries stop the server with the problems', () => {
    const bad = (() => {
      try {
        webAnalytics(db, { senders: { services: 'Billing' } });
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(bad).toBeInstanceOf(FatalError);
    expect((bad as FatalError).code).toBe('bad-config');
    expect((bad as Error).message).toContain('senders.services: expected an array');
    expect(() => webAnalytics(db, { senders: { approved: [] } })).not.toThrow();
    expect(() => webAnalytics(db, {})).not.toThrow();
  });
});
