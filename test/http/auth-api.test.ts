/**
 * Login, sessions, CSRF, API tokens, rate limiting and the security headers: a login is required off loopback
 * (here: forced with auth.required), and every state-changing request needs the CSRF token.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserToken } from '../../server/commands/user.ts';
import { hashPassword, verifyPassword } from '../../server/http/auth/password-hash.ts';
import { saveWebUser } from '../../server/store/web-users.ts';
import { buildTestClient } from '../helpers/test-client.ts';
import { startWebFixture, type WebFixture } from './web-fixture.ts';

const PASSWORD = 'correct horse battery staple';

function rawGet(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web login and security', () => {
  let web: WebFixture;
  let clock = 1_800_000_000;
  // the page is served from a client built here: a clean checkout has no client/dist
  let client: Awaited<ReturnType<typeof buildTestClient>>;
  beforeAll(async () => {
    client = await buildTestClient();
    web = await startWebFixture({
      clientDir: client.dir,
      auth: { required: true, sessionTtlSec: 3600 },
      now: () => clock,
      throttle: { addressAndUser: { max: 3, windowSec: 600 }, address: { max: 6, windowSec: 600 }, user: { max: 100, windowSec: 600 } },
    });
    await saveWebUser(web.db.driver, 'alice', await hashPassword(PASSWORD), clock);
    await saveWebUser(web.db.driver, 'bob', await hashPassword(PASSWORD), clock);
  });
  afterAll(async () => {
    await web?.close();
    client?.remove();
  });

  it('hashes passwords with scrypt and a random salt', async () => {
    const a = await hashPassword('secret password 1');
    const b = await hashPassword('secret password 1');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('secret password 1', a)).toBe(true);
    expect(await verifyPassword('secret password 2', a)).toBe(false);
    expect(await verifyPassword('secret password 1', 'md5$abc')).toBe(false);
  });

  it('refuses the API and /metrics without a login, but serves /healthz, the page and /api/session', async () => {
    const api = web.client();
    for (const path of ['/api/meta', '/api/reports', '/api/reports.csv', '/api/quarantine/1/bytes', '/metrics']) {
      const r = await api.get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 401 });
      expect(r.json().error.code).toBe('login-required');
    }
    expect((await api.get('/healthz')).status).toBe(200);
    const page = await api.get('/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/assets/app.js');
    const s = await api.get('/api/session');
    expect(s.json()).toMatchObject({ authenticated: false, loginRequired: true, user: null });
    const cookie = s.headers.getSetCookie().find((c) => c.startsWith('dl_csrf='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });

  it('logs in with the right password only, with an HttpOnly SameSite=Strict session cookie', async () => {
    const api = web.client();
    await api.session();
    expect((await api.post('/api/login', { username: 'alice', password: PASSWORD }, { csrf: false })).status).toBe(403);
    const wrong = await api.post('/api/login', { username: 'alice', password: 'wrong password!' });
    expect(wrong.status).toBe(401);
    expect(wrong.json().error).toEqual({ code: 'bad-login', message: 'wrong user name or password' });
    const nobody = await api.post('/api/login', { username: 'mallory', password: PASSWORD });
    expect(nobody.json().error).toEqual(wrong.json().error);
    expect((await api.post('/api/login', { username: 'alice' })).status).toBe(400);
    expect((await api.post('/api/login', { username: 'alice', password: 5 })).status).toBe(400);

    const ok = await api.post('/api/login', { username: 'ALICE', password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ authenticated: true, user: 'alice' });
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('dl_session='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    api.csrf = ok.json().csrfToken;
    expect((await api.get('/api/meta')).status).toBe(200);
    expect((await api.get('/metrics')).status).toBe(200);
  });

  it('needs the session CSRF token on every state-changing request, and refuses cross-origin ones', async () => {
    const api = web.client();
    await api.login('alice', PASSWORD);
    const [q] = (await api.get('/api/quarantine?limit=1')).json().rows;
    const path = `/api/quarantine/${q.id}/reprocess`;
    expect((await api.post(path, {}, { csrf: false })).json().error.code).toBe('csrf');
    expect((await api.post(path, {}, { csrf: false, headers: { 'x-csrf-token': 'forged' } })).status).toBe(403);
    const cross = await api.post(path, {}, { headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect(cross.json().error.code).toBe('cross-origin');
    expect((await api.post(path, {}, { headers: { origin: api.base } })).status).toBe(200);
    // the anonymous token is not the session's
    const other = web.client();
    const anon = (await other.session()).csrfToken;
    expect((await api.post(path, {}, { csrf: false, headers: { 'x-csrf-token': anon } })).status).toBe(403);
  });

  it('logs out: the session ends on the server, not only in the browser', async () => {
    const api = web.client();
    await api.login('alice', PASSWORD);
    const stolen = new Map(api.cookies);
    expect((await api.post('/api/logout', {}, { csrf: false })).status).toBe(403);
    expect((await api.post('/api/logout')).status).toBe(204);
    expect(api.cookies.has('dl_session')).toBe(false);
    expect((await api.get('/api/meta')).status).toBe(401);
    const replay = web.client();
    for (const [k, v] of stolen) replay.cookies.set(k, v);
    expect((await replay.get('/api/meta')).status).toBe(401);
  });

  it('ends idle sessions, and all sessions of a user whose password changes', async () => {
    const api = web.client();
    await api.login('bob', PASSWORD);
    clock += 3000;
    expect((await api.get('/api/meta')).status).toBe(200); // extends the idle time
    clock += 3000;
    expect((await api.get('/api/meta')).status).toBe(200);
    clock += 3601;
    expect((await api.get('/api/meta')).status).toBe(401);

    await api.login('bob', PASSWORD);
    expect((await api.get('/api/meta')).status).toBe(200);
    await saveWebUser(web.db.driver, 'bob', await hashPassword('another long password'), clock);
    expect((await api.get('/api/meta')).status).toBe(401);
    await saveWebUser(web.db.driver, 'bob', await hashPassword(PASSWORD), clock);
  });

  it('rate-limits failed logins per address and user, with Retry-After', async () => {
    const api = web.client();
    await api.session();
    for (let i = 0; i < 3; i++) expect((await api.post('/api/login', { username: 'alice', password: `nope ${i} nope` })).status).toBe(401);
    const blocked = await api.post('/api/login', { username: 'alice', password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(blocked.json().error.code).toBe('too-many-attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    // another user from this address is still let in, until the address limit
    const bob = await api.post('/api/login', { username: 'bob', password: PASSWORD });
    expect(bob.status).toBe(200);
    api.csrf = bob.json().csrfToken;
    for (let i = 0; i < 3; i++) await api.post('/api/login', { username: 'carol', password: 'x'.repeat(12) });
    expect((await api.post('/api/login', { username: 'bob', password: PASSWORD })).status).toBe(429);
    // the window passes
    clock += 601;
    expect((await api.post('/api/login', { username: 'alice', password: PASSWORD })).status).toBe(200);
  });

  it('accepts API tokens (Authorization: Bearer) without a session or CSRF token, and refuses bad ones', async () => {
    const token = await createUserToken(web.db.driver, 'alice', 'test');
    expect(token).toMatch(/^dl_[A-Za-z0-9_-]{40,}$/);
    const bearer = { authorization: `Bearer ${token}` };
    const raw = web.client();
    expect((await raw.get('/api/meta', bearer)).status).toBe(200);
    const csv = await raw.get('/api/reports.csv', bearer);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\r\n')[0]).toMatch(/^id,org_name/);
    const [q] = (await raw.get('/api/quarantine?limit=1', bearer)).json().rows;
    expect((await raw.post(`/api/quarantine/${q.id}/reprocess`, {}, { headers: bearer })).status).toBe(200);
    const bad = await raw.get('/api/meta', { authorization: `Bearer ${token}x` });
    expect(bad.status).toBe(401);
    expect(bad.json().error.code).toBe('bad-token');
    expect(bad.headers.get('www-authenticate')).toBe('Bearer');
    expect((await raw.get('/api/meta', { authorization: 'Basic YWxpY2U6eA==' })).status).toBe(401);
    // the database keeps only a hash of the token
    const rows = await web.db.driver.query('SELECT token_hash FROM web_api_tokens');
    expect(rows.some((r) => String(r.token_hash).includes(token))).toBe(false);
  });

  it('sends a strict Content-Security-Policy and a page without inline script or style', async () => {
    const r = await web.client().get('/');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<script');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(r.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await web.client().get('/api/session');
    expect(api.headers.get('cache-control')).toBe('no-store');
  });
});

describe('web security without a login (loopback)', () => {
  let web: WebFixture;
  beforeAll(async () => {
    web = await startWebFixture({ auth: { required: false }, trustProxy: 'loopback' });
    await saveWebUser(web.db.driver, 'alice', await hashPassword(PASSWORD), Math.floor(Date.now() / 1000));
  });
  afterAll(() => web?.close());

  it('answers only to loopback host names (DNS rebinding guard)', async () => {
    const port = new URL(web.url).port;
    expect((await rawGet(web.url, '/api/meta', `localhost:${port}`)).status).toBe(200);
    expect((await rawGet(web.url, '/api/meta', `127.0.0.1:${port}`)).status).toBe(200);
    const evil = await rawGet(web.url, '/api/meta', `rebind.evil.example:${port}`);
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.code).toBe('bad-host');
    expect((await rawGet(web.url, '/', 'rebind.evil.example')).status).toBe(403);
  });

  it('still needs the CSRF token (double submit) for writes without a session', async () => {
    const api = web.client();
    const [q] = (await api.get('/api/quarantine?limit=1')).json().rows;
    expect((await api.post(`/api/quarantine/${q.id}/reprocess`)).status).toBe(403);
    await api.session();
    expect(api.cookies.has('dl_csrf')).toBe(true);
    expect((await api.post(`/api/quarantine/${q.id}/reprocess`)).status).toBe(200);
    // the header alone, without the matching cookie, is not enough
    const other = web.client();
    other.csrf = api.csrf;
    expect((await other.post(`/api/quarantine/${q.id}/reprocess`)).status).toBe(403);
  });

  it('marks the session cookie Secure when the trusted proxy says the request came over TLS', async () => {
    const api = web.client();
    await api.session();
    const r = await api.post('/api/login', { username: 'alice', password: PASSWORD }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(r.status).toBe(200);
    expect(r.headers.getSetCookie().find((c) => c.startsWith('dl_session='))).toMatch(/; Secure/);
  });
});
