/**
 * One message: fetch its source, ingest it, and decide where it goes once the store has committed (Archive when
 * at least one report was stored or was already there, Invalid when everything in it was quarantined). When the
 * store fails, the message stays where it is; when the database itself is still reachable (the failure is this
 * mail's), one more attempt is counted, and after `maxAttempts` it goes to the Unsaved folder instead of being
 * retried forever (moving it back into the mailbox gives it one more try). While the database cannot be opened at
 * all, nothing is counted: mail waits in the mailbox for it.
 *
 * Crash safety follows from the order: a crash before the move leaves the message in place, and the next run
 * finds its reports already stored (duplicates) or its bytes already quarantined, and moves it then.
 */
import type { ImapFlow } from 'imapflow';
import type { MailAuthVerdict } from '../domain/report-types.ts';
import { bufferSource } from '../ingest/input-sources.ts';
import type { Limits } from '../ingest/limits.ts';
import type { IngestEvent } from '../ingest/pipeline.ts';
import type { ImapAccount } from './account-config.ts';
import { attemptsFromFlags, type AttemptCounter } from './attempts.ts';
import { setAttemptKeyword } from './folders.ts';
import { mailAuthVerdict } from './mail-auth.ts';
import { readHeaderFields } from './mail-headers.ts';
import type { ReportSink } from './report-sink.ts';

export type MessageOutcome = 'archived' | 'invalid' | 'left' | 'unsaved';

export interface MessageResult {
  account: string;
  uid: number;
  outcome: MessageOutcome;
  /** reports stored or found already stored */
  reports: number;
  events: IngestEvent[];
  /** failed attempts so far (only when the store failed) */
  attempts?: number;
  /** why the store failed (only when it did) */
  error?: string;
}

export interface MessageContext {
  client: ImapFlow;
  account: ImapAccount;
  uidValidity: bigint;
  sink: ReportSink;
  limits: Limits;
  attempts: AttemptCounter;
  authservId: string | null;
}

export interface MessageMeta {
  uid: number;
  flags: Set<string>;
  size: number;
  /** the raw message when the pass already fetched it with its batch */
  source?: Buffer;
}

/** The input name of a message: imap://<account>/<mailbox>/<uidvalidity>/<uid>. */
export function messageInputName(account: ImapAccount, uidValidity: bigint, uid: number): string {
  return `imap://${account.name}/${account.mailbox}/${uidValidity}/${uid}`;
}

/** Where a processed message goes; the pass carries the moves out for a whole batch at once (one MOVE per folder). */
export type MessageAction = { kind: 'move'; to: string } | { kind: 'delete' } | { kind: 'stay' };

export interface ProcessedMessage {
  result: MessageResult;
  action: MessageAction;
}

/**
 * Processes one message of the selected mailbox up to the point where it can be moved; null when it
 * disappeared before it could be fetched. The caller moves it (`action`) and only then reports `result`.
 */
export async function processMessage(ctx: MessageContext, meta: MessageMeta): Promise<ProcessedMessage | null> {
  const { client, account, uidValidity } = ctx;
  const { uid } = meta;
  const result = (outcome: MessageOutcome, events: IngestEvent[] = [], extra: Partial<MessageResult> = {}): MessageResult => ({
    account: account.name,
    uid,
    outcome,
    reports: events.filter((e) => e.outcome !== 'quarantined').length,
    events,
    ...extra,
  });
  const toUnsaved: MessageAction = { kind: 'move', to: account.unsaved };
  // a mail flagged \Deleted keeps its flags when moved: in Unsaved it must wait for someone, not for an EXPUNGE
  const unsaved = async (r: MessageResult): Promise<ProcessedMessage> => {
    if (meta.flags.has('\\Deleted')) await client.messageFlagsRemove(String(uid), ['\\Deleted'], { uid: true, silent: true });
    return { result: r, action: toUnsaved };
  };

  const before = Math.max(ctx.attempts.get(account.mailbox, uidValidity, uid), attemptsFromFlags(meta.flags));
  if (before >= account.maxAttempts) return unsaved(result('unsaved', [], { attempts: before }));

  const tooLarge = meta.size > ctx.limits.maxInputBytes;
  const source = meta.source ?? (await fetchSource(client, uid, tooLarge ? ctx.limits.maxQuarantineBytes : null));
  if (!source) return null;
  const name = messageInputName(account, uidValidity, uid);
  const mailAuth: MailAuthVerdict = mailAuthVerdict(readHeaderFields(source), { authservId: ctx.authservId });

  let events: IngestEvent[];
  try {
    events = tooLarge ? await ctx.sink.quarantineTooLarge(name, source, meta.size, mailAuth) : await ctx.sink.ingest(bufferSource(name, source), mailAuth);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // the database cannot even be opened: an outage, not this mail's fault, so no attempt is counted against it
    // (a long outage must not move mail to Unsaved one message at a time); it stays for the next pass
    if (!(await ctx.sink.reachable())) return { result: result('left', [], { attempts: before, error }), action: { kind: 'stay' } };
    const attempts = before + 1;
    ctx.attempts.set(account.mailbox, uidValidity, uid, attempts);
    if (attempts >= account.maxAttempts) return unsaved(result('unsaved', [], { attempts, error }));
    await setAttemptKeyword(client, uid, meta.flags, attempts);
    return { result: result('left', [], { attempts, error }), action: { kind: 'stay' } };
  }

  ctx.attempts.clear(account.mailbox, uidValidity, uid);
  const done = result('archived', events);
  // already flagged \Deleted (see mailbox-pass.ts): expunged as it was marked to be, not moved
  if (meta.flags.has('\\Deleted')) return { result: done.reports > 0 ? done : { ...done, outcome: 'invalid' }, action: { kind: 'delete' } };
  if (done.reports > 0 && account.deleteAfter) return { result: done, action: { kind: 'delete' } };
  if (before > 0) await setAttemptKeyword(client, uid, meta.flags, 0);
  if (done.reports === 0) return { result: { ...done, outcome: 'invalid' }, action: { kind: 'move', to: account.invalid } };
  return { result: done, action: { kind: 'move', to: account.archive } };
}

/** The raw message (its first `maxLength` bytes when given); null when it is gone. */
async function fetchSource(client: ImapFlow, uid: number, maxLength: number | null): Promise<Buffer | null> {
  const fetched = await client.fetchOne(String(uid), { source: maxLength === null ? true : { maxLength } }, { uid: true });
  return fetched && fetched.source ? fetched.source : null;
}
