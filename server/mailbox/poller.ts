/**
 * `dmarc-lens poll` as a function: every configured account runs side by side on its own connection, all
 * feeding one store through the ingest pipeline. Ends when every account is done (`once`), or when `signal`
 * aborts (each account finishes its current message first).
 */
import { FatalError } from '../errors.ts';
import type { Limits } from '../ingest/limits.ts';
import { openStore as openSqlStore } from '../store/open-store.ts';
import type { ReportStore } from '../store/report-store.ts';
import type { PollSettings } from './account-config.ts';
import { runAccount } from './account-runner.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { DEFAULT_TIMINGS, type SessionTimings } from './imap-session.ts';
import type { MessageOutcome, MessageResult } from './process-message.ts';
import { createReportSink } from './report-sink.ts';

export interface PollOptions {
  settings: PollSettings;
  /** database URL (sqlite:PATH or postgres://…) */
  db: string;
  limits: Limits;
  redactFailures?: boolean;
  once: boolean;
  signal?: AbortSignal;
  onResult?: (result: MessageResult) => void;
  log?: (line: string) => void;
  backoff?: BackoffPolicy;
  timings?: Partial<SessionTimings>;
  /** with `once`: failed connections in a row before an account is given up (default 6) */
  onceMaxReconnects?: number;
  openStore?: (url: string) => Promise<ReportStore>;
}

export interface PollSummary {
  messages: number;
  outcomes: Record<MessageOutcome, number>;
  /** accounts whose run ended on a store failure (`once`): run again later */
  storeFailed: string[];
  /** accounts that could not be served (login refused, server unreachable with `once`), with the reason */
  failed: { account: string; error: string }[];
}

export async function poll(opts: PollOptions): Promise<PollSummary> {
  const signal = opts.signal ?? new AbortController().signal;
  const log = opts.log ?? (() => {});
  const sink = createReportSink({
    db: opts.db,
    limits: opts.limits,
    redactFailures: opts.redactFailures ?? false,
    domains: opts.settings.domains,
    // the mail is moved (or deleted) once its reports are committed: commits must survive a power cut too
    openStore: opts.openStore ?? ((url) => openSqlStore(url, { durable: true })),
  });
  const summary: PollSummary = { messages: 0, outcomes: { archived: 0, invalid: 0, left: 0, unsaved: 0 }, storeFailed: [], failed: [] };
  const onResult = (result: MessageResult) => {
    summary.messages++;
    summary.outcomes[result.outcome]++;
    if (result.error !== undefined) log(`${result.account}: uid ${result.uid}: the store failed (attempt ${result.attempts}): ${result.error}`);
    opts.onResult?.(result);
  };
  try {
    const runs = opts.settings.accounts.map((account) =>
      runAccount(account, {
        once: opts.once,
        sink,
        limits: opts.limits,
        authservId: opts.settings.authservId,
        backoff: opts.backoff ?? DEFAULT_BACKOFF,
        timings: { ...DEFAULT_TIMINGS, ...opts.timings },
        onceMaxReconnects: opts.onceMaxReconnects ?? 6,
        signal,
        onResult,
        log,
      }),
    );
    const ends = await Promise.allSettled(runs);
    ends.forEach((end, i) => {
      const account = opts.settings.accounts[i]?.name ?? String(i);
      if (end.status === 'fulfilled') {
        if (end.value.storeFailed) summary.storeFailed.push(account);
      } else {
        const err = end.reason;
        if (!(err instanceof FatalError)) throw err;
        summary.failed.push({ account, error: err.message });
        log(err.message);
      }
    });
  } finally {
    await sink.close();
  }
  return summary;
}
