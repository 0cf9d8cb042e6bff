/**
 * The one error envelope of the API: `{ "error": { "code": "kebab-case", "message": "…" } }` with the HTTP status.
 * Handlers throw HttpError (or let anything else escape, which becomes a 500 without internals in the message).
 */
import type { NextFunction, Request, Response } from 'express';
import { InvalidDomainError } from '../dns/check-types.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message: string, code = 'bad-parameter') => new HttpError(400, code, message);
export const notFound = (message: string) => new HttpError(404, 'not-found', message);

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ error: { code, message } }));
}

/** Express error middleware (four arguments): maps every error to the envelope. */
export function errorHandler(log: (line: string) => void) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      // a streamed response failed half-way: all we can do is cut it off
      log(`response failed after its start: ${(err as Error)?.message ?? String(err)}`);
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      sendError(res, err.status, err.code, err.message);
      return;
    }
    if (err instanceof InvalidDomainError) {
      sendError(res, 400, 'invalid-domain', err.message);
      return;
    }
    // body-parser errors carry a status and a type
    const status = (err as { status?: unknown })?.status;
    const type = (err as { type?: unknown })?.type;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code = type === 'entity.too.large' ? 'too-large' : type === 'entity.parse.failed' ? 'bad-json' : 'bad-request';
      sendError(res, status, code, type === 'entity.parse.failed' ? 'the request body is not valid JSON' : (err as Error).message);
      return;
    }
    log(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    sendError(res, 500, 'internal', 'internal server error (see the server log)');
  };
}
