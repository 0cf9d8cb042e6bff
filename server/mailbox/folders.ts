/** Folder housekeeping on the selected mailbox: create the target folders, move or delete messages, keep attempt keywords. */
import type { ImapFlow } from 'imapflow';
import type { ImapAccount } from './account-config.ts';
import { attemptKeyword, attemptKeywords } from './attempts.ts';
import { uidSet } from './uid-set.ts';

/** Creates the archive, invalid and unsaved folders when missing (an existing folder is left as it is). */
export async function ensureFolders(client: ImapFlow, account: ImapAccount): Promise<void> {
  const wanted = account.deleteAfter ? [account.invalid, account.unsaved] : [account.archive, account.invalid, account.unsaved];
  for (const path of new Set(wanted)) await client.mailboxCreate(path);
}

/**
 * MOVEs (or COPY + delete where the server has no MOVE) messages of the selected mailbox, one command per
 * destination; `null` as destination flags them \Deleted and expunges them (UID EXPUNGE where supported).
 */
export async function moveMessages(client: ImapFlow, moves: Map<string | null, number[]>): Promise<void> {
  for (const [destination, uids] of moves) {
    if (uids.length === 0) continue;
    const range = uidSet(uids);
    const ok = destination === null ? await client.messageDelete(range, { uid: true }) : await client.messageMove(range, destination, { uid: true });
    if (!ok) throw new Error(`${destination === null ? 'deleting' : `moving to ${destination}`} messages ${range} failed`);
  }
}

/** Whether the selected mailbox keeps keywords of our own (PERMANENTFLAGS has \*). */
export function keywordsAllowed(client: ImapFlow): boolean {
  const mailbox = client.mailbox;
  if (!mailbox) return false;
  const permanent = mailbox.permanentFlags;
  return !permanent || permanent.has('\\*');
}

/** Replaces the message's attempt keyword with the one for `n` attempts (0 removes it). */
export async function setAttemptKeyword(client: ImapFlow, uid: number, flags: Iterable<string>, n: number): Promise<void> {
  if (!keywordsAllowed(client)) return;
  const stale = attemptKeywords(flags).filter((k) => n === 0 || k.toLowerCase() !== attemptKeyword(n).toLowerCase());
  if (n > 0) await client.messageFlagsAdd(String(uid), [attemptKeyword(n)], { uid: true, silent: true });
  if (stale.length > 0) await client.messageFlagsRemove(String(uid), stale, { uid: true, silent: true });
}
