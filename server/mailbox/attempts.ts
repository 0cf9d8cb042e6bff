/**
 * Failed-attempt counts per message. Kept in memory, and on the message itself as an IMAP keyword
 * (`$DmarcLensAttempt3`) so the count survives a restart of the poller.
 */

const KEYWORD = /^\$DmarcLensAttempt(\d{1,4})$/i;

export function attemptKeyword(n: number): string {
  return `$DmarcLensAttempt${n}`;
}

/** The attempt keywords among a message's flags. */
export function attemptKeywords(flags: Iterable<string>): string[] {
  return [...flags].filter((f) => KEYWORD.test(f));
}

/** The highest attempt count recorded in a message's flags (0 when none). */
export function attemptsFromFlags(flags: Iterable<string>): number {
  let max = 0;
  for (const flag of flags) {
    const m = KEYWORD.exec(flag);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** In-memory counts, keyed by mailbox, UIDVALIDITY and UID (a UID means nothing without its UIDVALIDITY). */
export class AttemptCounter {
  private readonly counts = new Map<string, number>();

  private static key(mailbox: string, uidValidity: bigint, uid: number): string {
    return `${mailbox}\u0000${uidValidity}\u0000${uid}`;
  }

  get(mailbox: string, uidValidity: bigint, uid: number): number {
    return this.counts.get(AttemptCounter.key(mailbox, uidValidity, uid)) ?? 0;
  }

  set(mailbox: string, uidValidity: bigint, uid: number, n: number): void {
    this.counts.set(AttemptCounter.key(mailbox, uidValidity, uid), n);
  }

  clear(mailbox: string, uidValidity: bigint, uid: number): void {
    this.counts.delete(AttemptCounter.key(mailbox, uidValidity, uid));
  }
}
