/**
 * The life of one account: connect, pass over the mailbox, wait for news, again — reconnecting with capped
 * exponential backoff when the connection drops, and backing off when the store fails. With `once`, it ends
 * after the first complete pass (or the first store failure).
 */
import { FatalError } from '../errors.ts';
import type { Limits } from '../ingest/limits.ts';
import { describeAccount, type ImapAccount } from './account-config.ts';
import { AttemptCounter } from './attempts.ts';
import { backoffDelay, pause, type BackoffPolicy } from './backoff.ts';
import { ImapSession, type SessionTimings } from './imap-session.ts';
import { runPass } from './mailbox-pass.ts';
import type { MessageResult } from './process-message.ts';
import type { ReportSink } from './report-sink.ts';

export interface AccountRunOptions {
  once: boolean;
  sink: ReportSink;
  limits: Limits;
  authservId: string | null;
  backoff: BackoffPolicy;
  timings: SessionTimings;
  /** with `once`: how many failed connections in a row before giving up on the account */
  onceMaxReconnects: number;
  signal: AbortSignal;
  onResult: (result: MessageResult) => void;
  log: (line: string) => void;
}

export interface AccountRunEnd {
  account: string;
  /** true when the run ended because the store failed (with `once`) */
  storeFailed: boolean;
}

export async function runAccount(account: ImapAccount, opts: AccountRunOptions): Promise<AccountRunEnd> {
  const attempts = new AttemptCounter();
  const log = (line: string) => opts.log(`${account.name}: ${line}`);
  let failures = 0;
  const onResult = (result: MessageResult) => {
    if (result.error === undefined) failures = 0; // progress: a later drop starts the backoff afresh
    opts.onResult(result);
  };
  while (!opts.signal.aborted) {
    let session: ImapSession | null = null;
    try {
      session = await ImapSession.open(account, opts.timings, opts.signal);
      log(`connected, ${describeAccount(account)}${opts.once ? '' : `, ${session.waitMode}`}`);
      for (;;) {
        session.takeNews();
        const ctx = { client: session.client, account, uidValidity: session.uidValidity, sink: opts.sink, limits: opts.limits, attempts, authservId: opts.authservId };
        const end = await runPass(ctx, { batch: account.batch, stopRequested: () => opts.signal.aborted, onResult });
        if (end === 'stopped') return { account: account.name, storeFailed: false };
        if (end === 'store-failed') {
          if (opts.once) return { account: account.name, storeFailed: true };
          failures++;
          const wait = backoffDelay(failures, opts.backoff);
          log(`the store failed; messages stay in ${account.mailbox}, next try in ${(wait / 1000).toFixed(1)} s`);
          await pause(wait, opts.signal);
          if (opts.signal.aborted) return { account: account.name, storeFailed: false };
          continue;
        }
        failures = 0;
        if (opts.once) return { account: account.name, storeFailed: false };
        await session.waitForNews(account.pollSeconds, opts.signal);
        if (opts.signal.aborted) return { account: account.name, storeFailed: false };
      }
    } catch (err) {
      if (opts.signal.aborted) break;
      if (err instanceof FatalError) throw err;
      if ((err as { authenticationFailed?: boolean }).authenticationFailed) {
        throw new FatalError('imap-auth-failed', `${account.name}: the server refused the login of ${account.user} (check user and password)`);
      }
      failures++;
      const why = describeError(err);
      if (opts.once && untrustedCertificate(err)) {
        // not a glitch that the next try fixes: say so now rather than after minutes of reconnecting
        throw new FatalError(
          'imap-certificate',
          `${account.name}: the TLS certificate of ${account.host}:${account.port} is not trusted: ${why} ` +
            '(install a valid certificate, or set DMARC_LENS_IMAP_TLS_VERIFY=false / "tlsVerify": false to accept it unverified)',
        );
      }
      if (opts.once && failures > opts.onceMaxReconnects) {
        throw new FatalError('imap-unreachable', `${account.name}: giving up after ${failures} failed connections: ${why}`);
      }
      const wait = backoffDelay(failures, opts.backoff);
      log(`connection failed or lost (${why}); reconnecting in ${(wait / 1000).toFixed(1)} s`);
      await pause(wait, opts.signal);
    } finally {
      await session?.close();
    }
  }
  return { account: account.name, storeFailed: false };
}

/** Node's codes for a server certificate that failed verification (expired, self-signed, unknown issuer, wrong name…). */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function untrustedCertificate(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CERTIFICATE_CODES.has(code);
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const extra = err as { code?: unknown; responseText?: unknown };
  const parts = [err.message];
  if (typeof extra.responseText === 'string' && !err.message.includes(extra.responseText)) parts.push(extra.responseText);
  if (typeof extra.code === 'string' && !err.message.includes(extra.code)) parts.push(`(${extra.code})`);
  return parts.join(' ');
}
