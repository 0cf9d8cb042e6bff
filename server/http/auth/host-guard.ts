/**
 * Without a login, the server trusts whoever can reach it on loopback. A web page elsewhere could still reach it
 * by DNS rebinding (its own name resolving to 127.0.0.1); the browser then sends that name as Host. So without a
 * login only loopback host names (and the ones configured) are served.
 */
import type { RequestHandler } from 'express';
import { HttpError } from '../http-error.ts';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** the host name of a Host header value (drops the port; keeps IPv6 brackets out) */
export function hostnameOf(hostHeader: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (m) return m[1]!;
  return hostHeader.replace(/:\d+$/, '');
}

export function hostGuard(loginRequired: boolean, allowedHosts: readonly string[]): RequestHandler {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return (req, _res, next) => {
    if (loginRequired) return next();
    const host = hostnameOf(req.get('host') ?? '');
    if (isLoopbackHost(host) || allowed.has(host.toLowerCase())) return next();
    throw new HttpError(403, 'bad-host', `this server runs without login and answers only to loopback names, not ${JSON.stringify(host)}`);
  };
}
