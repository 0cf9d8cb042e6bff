/**
 * One IMAP connection for one account: connect (implicit TLS, STARTTLS or plain), create the target folders,
 * select the polled mailbox, then wait for news — IDLE where the server has it (restarted with a NOOP every
 * few minutes as keepalive), else a NOOP every `pollSeconds`. A dropped connection surfaces as an error from
 * whatever call is running; the caller reconnects with backoff.
 */
import { ImapFlow } from 'imapflow';
import { FatalError } from '../errors.ts';
import type { ImapAccount } from './account-config.ts';
import { pause } from './backoff.ts';
import { ensureFolders } from './folders.ts';

export interface SessionTimings {
  /** how long one IDLE runs before it is ended with a NOOP and started again, ms */
  idleRestartMs: number;
  /** how long connecting (TCP, TLS, greeting) may take, ms */
  connectTimeoutMs: number;
}

export const DEFAULT_TIMINGS: Readonly<SessionTimings> = Object.freeze({ idleRestartMs: 4 * 60_000, connectTimeoutMs: 30_000 });

export class ImapSession {
  /** set by an EXISTS that grew the mailbox; cleared when a pass starts */
  private news = true;
  private wake: (() => void) | null = null;
  private readonly closed: Promise<void>;

  private constructor(
    readonly client: ImapFlow,
    private readonly account: ImapAccount,
    private readonly timings: SessionTimings,
  ) {
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('exists', (event: { count: number; prevCount: number }) => {
      if (event.count > event.prevCount) this.notify();
    });
    // a connection error is reported to the pending command (or by 'close'); without a listener it would crash the process
    client.on('error', () => {});
  }

  /** Connects, logs in, creates missing folders and selects the polled mailbox. */
  static async open(account: ImapAccount, timings: SessionTimings, signal?: AbortSignal): Promise<ImapSession> {
    const client = new ImapFlow({
      host: account.host,
      port: account.port,
      secure: account.tls === 'implicit',
      doSTARTTLS: account.tls === 'starttls' ? true : account.tls === 'none' ? false : undefined,
      tls: account.tlsVerify ? undefined : { rejectUnauthorized: false },
      auth: { user: account.user, pass: account.password },
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: timings.connectTimeoutMs,
      greetingTimeout: timings.connectTimeoutMs,
      clientInfo: { name: 'dmarc-lens' },
    });
    const session = new ImapSession(client, account, timings);
    const abort = () => client.close();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await client.connect();
      await ensureFolders(client, account);
      await selectMailbox(client, account);
    } catch (err) {
      client.close();
      throw err;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    return session;
  }

  get uidValidity(): bigint {
    const mailbox = this.client.mailbox;
    if (!mailbox) throw new Error(`mailbox ${this.account.mailbox} is not selected`);
    return mailbox.uidValidity;
  }

  /** how new mail is noticed on this connection, for the log */
  get waitMode(): string {
    return this.client.capabilities.has('IDLE') ? 'IDLE' : `no IDLE, polling every ${this.account.pollSeconds} s`;
  }

  get usable(): boolean {
    return this.client.usable;
  }

  /** Called when a pass starts: what arrives from now on wakes the next wait. */
  takeNews(): void {
    this.news = false;
  }

  /**
   * Returns when new mail may have arrived (IDLE notice, or the poll interval passed without IDLE), when the
   * IDLE restart time is up, or when `signal` aborts. Throws when the connection is gone.
   */
  async waitForNews(pollSeconds: number, signal?: AbortSignal): Promise<void> {
    if (this.news || signal?.aborted) return;
    const client = this.client;
    const stop = new AbortController();
    const cancel = () => stop.abort();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      if (client.capabilities.has('IDLE')) {
        const idling = client.idle().catch(() => false);
        await Promise.race([this.nextNews(), pause(this.timings.idleRestartMs, stop.signal), this.closed]);
        // any command ends IDLE; NOOP also serves as the keepalive
        if (client.usable) await client.noop();
        await idling;
      } else {
        await Promise.race([pause(pollSeconds * 1000, stop.signal), this.closed]);
        if (client.usable) await client.noop();
        this.news = true;
      }
    } finally {
      stop.abort();
      this.wake = null;
      signal?.removeEventListener('abort', cancel);
    }
    if (!client.usable) throw new Error(`connection to ${this.account.host}:${this.account.port} closed`);
  }

  /** Logs out politely when possible; never throws, never waits long. */
  async close(): Promise<void> {
    const client = this.client;
    if (client.usable) await Promise.race([client.logout().catch(() => {}), pause(2000)]);
    client.close();
  }

  private notify(): void {
    this.news = true;
    this.wake?.();
  }

  private nextNews(): Promise<void> {
    return new Promise((resolve) => {
      if (this.news) return resolve();
      this.wake = resolve;
    });
  }
}

/** SELECTs the polled mailbox; the server refusing it (missing, not allowed) is a configuration problem, not a glitch. */
async function selectMailbox(client: ImapFlow, account: ImapAccount): Promise<void> {
  try {
    await client.mailboxOpen(account.mailbox);
  } catch (err) {
    const e = err as { responseStatus?: string; responseText?: string };
    if (e.responseStatus === 'NO') {
      throw new FatalError('imap-no-mailbox', `${account.name}: cannot open mailbox "${account.mailbox}": ${e.responseText ?? 'refused by the server'}`);
    }
    throw err;
  }
}
