/**
 * CSRF protection of state-changing requests (POST, PUT, PATCH, DELETE): the X-CSRF-Token header must equal the
 * session's token (or, without a session, the `dl_csrf` cookie: double submit). Both are handed to the page by
 * GET /api/session, which another site cannot read. Requests with an API token carry no ambient credentials and
 * pass. A cross-site Origin header is refused outright.
 */
import type { RequestHandler } from 'express';
import { HttpError } from '../http-error.ts';
import { authOf } from './authenticate.ts';
import { sameSecret } from './secret-token.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfGuard(): RequestHandler {
  return (req, res, next) => {
    if (SAFE.has(req.method)) return next();
    const auth = authOf(res);
    if (auth.via === 'token') return next();
    const origin = req.get('origin');
    if (origin !== undefined && origin !== 'null') {
      let host: string | null = null;
      try {
        host = new URL(origin).host;
      } catch {
        host = null;
      }
      if (host !== req.get('host')) throw new HttpError(403, 'cross-origin', 'cross-origin requests are refused');
    } else if (origin === 'null') {
      throw new HttpError(403, 'cross-origin', 'cross-origin requests are refused');
    }
    const sent = req.get('x-csrf-token');
    if (!sent || !auth.csrf || !sameSecret(sent, auth.csrf)) {
      throw new HttpError(403, 'csrf', 'missing or wrong X-CSRF-Token header (reload the page)');
    }
    next();
  };
}
