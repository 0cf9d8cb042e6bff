/**
 * One pass over the selected mailbox: UID SEARCH for its messages, then bounded batches of UIDs
 * (a FETCH of flags and sizes per batch, then the sources of the batch's small messages in FETCHes of at most
 * PREFETCH_BYTES; larger messages are fetched one by one when their turn comes), so a mailbox of tens of
 * thousands of messages is never held in memory. After each batch, its messages are moved with one MOVE per
 * destination folder (a MOVE costs the server a sync, whatever the number of messages), and only then are their
 * results reported. The pass stops at the first store failure: the database is likely down, and the caller backs
 * off before the next pass.
 *
 * Messages already flagged \Deleted come first and are not skipped: such a message is one whose delete (or
 * COPY-based move) a kill interrupted between flagging and expunging, or one someone marked for deletion. Either
 * way it is ingested like any other (a report already stored is a duplicate) and then expunged as it was marked
 * to be. Taking them first means no batch before them can expunge them unread on a server without UIDPLUS, whose
 * EXPUNGE removes every flagged message.
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
  const uids = [...(await searchUids(client, true)), ...(await searchUids(client, false))];
  for (let i = 0; i < uids.length; i += opts.batch) {
    if (opts.stopRequested()) return 'stopped';
    const batch = uids.slice(i, i + opts.batch);
    const metas = batchMetas(batch, await client.fetchAll(uidSet(batch), { uid: true, flags: true, size: true }, { uid: true }));
    const wanted = metas.filter((m) => (m.size ?? 0) <= Math.min(PREFETCH_MAX_MESSAGE, ctx.limits.maxInputBytes));
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

type FetchRow = { uid?: number; flags?: Set<string>; size?: number };

/**
 * One entry per UID of the batch, ascending. The rows of a FETCH also hold the unsolicited FETCH responses that
 * arrive meanwhile — another client changing flags in the mailbox — which have no UID, or the UID of a message
 * outside the batch, and no size; a server may also split one message's answer over several rows.
 */
export function batchMetas(batch: readonly number[], rows: readonly FetchRow[]): { uid: number; flags?: Set<string>; size?: number }[] {
  const asked = new Set(batch);
  const byUid = new Map<number, { uid: number; flags?: Set<string>; size?: number }>();
  for (const row of rows) {
    if (typeof row.uid !== 'number' || !asked.has(row.uid)) continue;
    const seen = byUid.get(row.uid);
    byUid.set(row.uid, { uid: row.uid, flags: row.flags ?? seen?.flags, size: row.size ?? seen?.size });
  }
  return [...byUid.values()].sort((a, b) => a.uid - b.uid);
}

/** UIDs of the messages flagged \Deleted (or of the others), ascending. */
async function searchUids(client: ImapFlow, deleted: boolean): Promise<number[]> {
  const found = await client.search({ deleted }, { uid: true });
  return (Array.isArray(found) ? found : []).sort((a, b) => a - b);
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
  const asked = new Set(uids);
  for (const m of await client.fetchAll(uidSet(uids), { uid: true, source: true }, { uid: true })) {
    // unsolicited rows (see batchMetas) carry no source
    if (m.source && typeof m.uid === 'number' && asked.has(m.uid)) sources.set(m.uid, m.source);
  }
  return sources;
}
