/**
 * GET /api/session (who am I, is a login needed, the CSRF token), POST /api/login, POST /api/logout.
 * These three answer without a login; login is rate limited per address and user name.
 */
import { Router, type Request } from 'express';
import { findWebUser } from '../../store/web-users.ts';
import { purgeFailedLogins } from '../../store/web-login-attempts.ts';
import { createWebSession, deleteWebSession, purgeExpiredWebSessions } from '../../store/web-sessions.ts';
import type { AppContext } from '../app-context.ts';
import { ANON_CSRF_COOKIE, authOf, SESSION_COOKIE } from '../auth/authenticate.ts';
import { loginBlockedFor, noteFailedLogin, noteGoodLogin } from '../auth/login-throttle.ts';
import { hashPassword, verifyPassword } from '../auth/password-hash.ts';
import { newSecret, secretHash } from '../auth/secret-token.ts';
import { cookieHeader } from '../cookies.ts';
import { HttpError } from '../http-error.ts';
import { parseInput, required, text } from '../request-schema.ts';

const LOGIN_BODY = { username: text({ max: 200 }), password: text({ max: 1024 }) };

/** a hash to verify against when the user does not exist, so both cases take as long */
let decoy: Promise<string> | null = null;

export function sessionRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/session', (req, res) => {
    const auth = authOf(res);
    let csrf = auth.csrf;
    if (auth.via === 'none' && !csrf) {
      csrf = newSecret();
      res.append('Set-Cookie', cookieHeader(ANON_CSRF_COOKIE, csrf, { secure: req.secure }));
    }
    res.json({
      authenticated: auth.user !== null,
      user: auth.user?.name ?? null,
      via: auth.via,
      loginRequired: ctx.auth.required,
      csrfToken: csrf,
    });
  });

  router.post('/api/login', async (req, res) => {
    const body = required(parseInput(LOGIN_BODY, req.body, 'field'), ['username', 'password']);
    const address = clientAddress(req);
    const now = ctx.now();
    const wait = await loginBlockedFor(ctx.db.driver, ctx.throttle, address, body.username, now);
    if (wait > 0) {
      throw new HttpError(429, 'too-many-attempts', `too many failed logins; try again in ${Math.ceil(wait / 60)} min`, { 'Retry-After': String(wait) });
    }
    const user = await findWebUser(ctx.db.driver, body.username);
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await (decoy ??= hashPassword(newSecret()))));
    if (!user || !ok) {
      await noteFailedLogin(ctx.db.driver, address, body.username, now);
      throw new HttpError(401, 'bad-login', 'wrong user name or password');
    }
    await noteGoodLogin(ctx.db.driver, address, body.username);
    // housekeeping, cheap with the indexes: ended sessions and day-old failures go
    await purgeExpiredWebSessions(ctx.db.driver, now);
    await purgeFailedLogins(ctx.db.driver, now - 86_400);
    const old = authOf(res).sessionHash;
    if (old) await deleteWebSession(ctx.db.driver, old);
    const secret = newSecret();
    const csrf = newSecret();
    await createWebSession(ctx.db.driver, { tokenHash: secretHash(secret), userId: user.id, csrfToken: csrf, now, expiresAt: now + ctx.auth.sessionTtlSec });
    res.append('Set-Cookie', cookieHeader(SESSION_COOKIE, secret, { secure: req.secure }));
    res.json({ authenticated: true, user: user.name, via: 'session', loginRequired: ctx.auth.required, csrfToken: csrf });
  });

  router.post('/api/logout', async (req, res) => {
    const auth = authOf(res);
    if (auth.sessionHash) await deleteWebSession(ctx.db.driver, auth.sessionHash);
    res.append('Set-Cookie', cookieHeader(SESSION_COOKIE, '', { secure: req.secure, maxAge: 0 }));
    res.status(204).end();
  });

  return router;
}

function clientAddress(req: Request): string {
  return (req.ip ?? req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
}
