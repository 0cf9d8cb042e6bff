import type { ReasonCode } from './domain/report-types.ts';

/** Expected bad input: carries a stable reason code and a human-readable detail. */
export class InputRejected extends Error {
  readonly code: ReasonCode;
  readonly detail: string;
  constructor(code: ReasonCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'InputRejected';
    this.code = code;
    this.detail = detail;
  }
}

/** A problem that is not the input's fault (database unreachable, unreadable path): ingest stops. */
export class FatalError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalError';
    this.code = code;
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; code: ReasonCode; detail: string };

export function rejectionOf(err: unknown): { code: ReasonCode; detail: string } | null {
  return err instanceof InputRejected ? { code: err.code, detail: err.detail } : null;
}
