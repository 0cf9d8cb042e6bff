/**
 * Who is asking: a login session (cookie `dl_session`), an API token (`Authorization: Bearer …`) or nobody.
 * `requireLogin` then refuses anonymous requests when the server needs a login (any non-loopback listener).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Driver } from '../../store/driver.ts';
import { extendWebSession, findWebSession } from '../../store/web-sessions.ts';
import { findWebApiToken, touchWebApiToken } from '../../store/web-tokens.ts';
import { readCookies } from '../cookies.ts';
import { HttpError } from '../http-error.ts';
import { secretHash } from './secret-token.ts';

export const SESSION_COOKIE = 'dl_session';
export const ANON_CSRF_COOKIE = 'dl_csrf';

export interface AuthSettings {
  /** true: every API call but /api/session and /api/login needs a session or a token */
  required: boolean;
  /** idle time after which a session ends (sliding), seconds */
  sessionTtlSec: number;
}

export interface RequestAuth {
  user: { id: number; name: string } | null;
  via: 'session' | 'token' | 'none';
  /** what a state-changing request must echo in X-CSRF-Token (session or anonymous cookie); null for tokens */
  csrf: string | null;
  /** hash of the session secret, for logout */
  sessionHash: string | null;
}

export function authOf(res: Response): RequestAuth {
  return (res.locals.auth as RequestAuth | undefined) ?? { user: null, via: 'none', csrf: null, sessionHash: null };
}

export function authenticate(driver: Driver, settings: AuthSettings, now: () => number): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const token = m ? await findWebApiToken(driver, secretHash(m[1]!)) : null;
      if (!token) throw new HttpError(401, 'bad-token', 'the API token is not valid (create one with `dmarc-lens user token NAME`)', { 'WWW-Authenticate': 'Bearer' });
      await touchWebApiToken(driver, token.id, now());
      res.locals.auth = { user: { id: token.userId, name: token.userName }, via: 'token', csrf: null, sessionHash: null } satisfies RequestAuth;
      return next();
    }
    const cookies = readCookies(req.get('cookie'));
    const secret = cookies.get(SESSION_COOKIE);
    if (secret) {
      const hash = secretHash(secret);
      const t = now();
      const session = await findWebSession(driver, hash, t);
      if (session) {
        // sliding expiry, written at most once per half lifetime
        if (session.expiresAt - t < settings.sessionTtlSec / 2) await extendWebSession(driver, hash, t + settings.sessionTtlSec);
        res.locals.auth = { user: { id: session.userId, name: session.userName }, via: 'session', csrf: session.csrfToken, sessionHash: hash } satisfies RequestAuth;
        return next();
      }
    }
    res.locals.auth = { user: null, via: 'none', csrf: cookies.get(ANON_CSRF_COOKIE) ?? null, sessionHash: null } satisfies RequestAuth;
    next();
  };
}

export function requireLogin(settings: AuthSettings): RequestHandler {
  return (_req, res, next) => {
    if (settings.required && !authOf(res).user) throw new HttpError(401, 'login-required', 'log in first (or send an API token as Authorization: Bearer …)');
    next();
  };
}
