/**
 * One pass over the selected mailbox: UID SEARCH for the undeleted messages, then bounded batches of UIDs
 * (a FETCH of flags and sizes per batch, then the sources of the batch's small messages in FETCHes of at most
 * PREFETCH_BYTES; larger messages are fetched one by one when their turn comes), so a mailbox of tens of
 * thousands of messages is never held in memory. After each batch, its messages are moved with one MOVE per
 * destination folder (a MOVE costs the server a sync, whatever the number of messages), and only then are their
 * results reported. The pass stops at the first store failure: the database is likely down, and the caller backs
 * off before the next pass.
 */
import type { ImapFlow } from 'imapflow';
import { moveMessages } from './folders.ts';
import type { MessageContext, MessageResult, ProcessedMessage } from './process-message.ts';
import { processMessage } from './process-message.ts';
import { uidSet } from './uid-set.ts';

/** most bytes of message sources held at once by a batch prefetch */
const PREFETCH_BYTES = 8 * 1024 * 1024;
/** messages larger than this are fetched on their own */
const PREFETCH_MAX_MESSAGE = 1024 * 1024;

export type PassEnd = 'done' | 'stopped' | 'store-failed';

export interface PassOptions {
  batch: number;
  /** checked before each message: a stop request lets the current message finish (and be moved) */
  stopRequested: () => boolean;
  onResult: (result: MessageResult) => void;
}

export async function runPass(ctx: MessageContext, opts: PassOptions): Promise<PassEnd> {
  const { client } = ctx;
  const found = await client.search({ deleted: false }, { uid: true });
  const uids = (Array.isArray(found) ? found : []).sort((a, b) => a - b);
  for (let i = 0; i < uids.length; i += opts.batch) {
    if (opts.stopRequested()) return 'stopped';
    const metas = await client.fetchAll(uidSet(uids.slice(i, i + opts.batch)), { uid: true, flags: true, size: true }, { uid: true });
    metas.sort((a, b) => a.uid - b.uid);
    const wanted = metas.filter((m) => !m.flags?.has('\\Deleted') && (m.size ?? 0) <= Math.min(PREFETCH_MAX_MESSAGE, ctx.limits.maxInputBytes));
    const prefetchable = new Set(wanted.map((m) => m.uid));
    let sources = new Map<number, Buffer>();
    const done: ProcessedMessage[] = [];
    let end: PassEnd | null = null;
    for (const meta of metas) {
      if (opts.stopRequested()) {
        end = 'stopped';
        break;
      }
      const flags = meta.flags ?? new Set<string>();
      if (flags.has('\\Deleted')) continue;
      if (!sources.has(meta.uid) && prefetchable.has(meta.uid)) sources = await prefetch(client, wanted, meta.uid);
      const source = sources.get(meta.uid);
      sources.delete(meta.uid);
      const processed = await processMessage(ctx, { uid: meta.uid, flags, size: meta.size ?? 0, source });
      if (!processed) continue;
      done.push(processed);
      if (processed.result.error !== undefined) {
        end = 'store-failed';
        break;
      }
    }
    await finishBatch(ctx, done, opts);
    if (end) return end;
  }
  return 'done';
}

async function finishBatch(ctx: MessageContext, done: ProcessedMessage[], opts: PassOptions): Promise<void> {
  const moves = new Map<string | null, number[]>();
  for (const { result, action } of done) {
    if (action.kind === 'stay') continue;
    const key = action.kind === 'delete' ? null : action.to;
    moves.set(key, [...(moves.get(key) ?? []), result.uid]);
  }
  await moveMessages(ctx.client, moves);
  for (const { result } of done) opts.onResult(result);
}

/** Fetches the sources of the small messages from `fromUid` on, up to PREFETCH_BYTES together, in one FETCH. */
async function prefetch(client: ImapFlow, wanted: { uid: number; size?: number }[], fromUid: number): Promise<Map<number, Buffer>> {
  const uids: number[] = [];
  let bytes = 0;
  for (const m of wanted) {
    if (m.uid < fromUid) continue;
    if (uids.length > 0 && bytes + (m.size ?? 0) > PREFETCH_BYTES) break;
    uids.push(m.uid);
    bytes += m.size ?? 0;
  }
  const sources = new Map<number, Buffer>();
  for (const m of await client.fetchAll(uidSet(uids), { uid: true, source: true }, { uid: true })) {
    if (m.source) sources.set(m.uid, m.source);
  }
  return sources;
}
