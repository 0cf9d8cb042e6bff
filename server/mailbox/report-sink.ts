/**
 * Where the poller puts a mail: the ingest pipeline over a store that is opened lazily and re-opened after a
 * failure, so a database that is down when the poller starts (or goes down later) is a transient failure of the
 * message being processed, never a reason to stop polling.
 */
import { createHash } from 'node:crypto';
import type { MailAuthVerdict } from '../domain/report-types.ts';
import { ingestInput, type IngestEvent } from '../ingest/pipeline.ts';
import type { Limits } from '../ingest/limits.ts';
import type { InputSource } from '../ingest/unpack-types.ts';
import type { ReportStore } from '../store/report-store.ts';

export interface ReportSink {
  /** Runs one mail through the pipeline; throws when the database is unavailable (transient). */
  ingest(source: InputSource, mailAuth: MailAuthVerdict): Promise<IngestEvent[]>;
  /** Quarantines a mail larger than maxInputBytes from its first bytes, without reading the rest. */
  quarantineTooLarge(name: string, head: Buffer, size: number, mailAuth: MailAuthVerdict): Promise<IngestEvent[]>;
  /**
   * Whether the database can be opened now (after a failed ingest: an outage, or a failure of this mail only).
   * Opening runs the migration check, a round trip.
   */
  reachable(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SinkOptions {
  db: string;
  limits: Limits;
  redactFailures: boolean;
  domains?: string[];
  openStore: (url: string) => Promise<ReportStore>;
}

export function createReportSink(opts: SinkOptions): ReportSink {
  let opening: Promise<ReportStore> | null = null;

  const store = (): Promise<ReportStore> => {
    opening ??= opts.openStore(opts.db);
    return opening;
  };
  /** forgets the store after a failure, so the next message opens it again */
  const discard = async (): Promise<void> => {
    const current = opening;
    opening = null;
    await current?.then((s) => s.close()).catch(() => {});
  };
  const guarded = async <T>(fn: (s: ReportStore) => Promise<T>): Promise<T> => {
    try {
      return await fn(await store());
    } catch (err) {
      await discard();
      throw err;
    }
  };

  return {
    ingest: (source, mailAuth) =>
      guarded((s) =>
        ingestInput(source, { store: s, limits: opts.limits, redactFailures: opts.redactFailures, domains: opts.domains, mailAuth }),
      ),
    quarantineTooLarge: (name, head, size, mailAuth) =>
      guarded(async (s) => {
        const kept = head.subarray(0, opts.limits.maxQuarantineBytes);
        const detail = `mail of ${size} bytes is larger than the input limit of ${opts.limits.maxInputBytes} bytes (raise DMARC_LENS_MAX_INPUT_BYTES)`;
        const row = await s.saveQuarantine({
          origin: { input: name, member: null, mailAuth },
          type: null,
          code: 'too-large',
          detail,
          bytes: kept,
          truncated: true,
          // the whole mail was not read: the key is its first bytes and its size
          sha256: createHash('sha256').update(kept).update(`:${size}`).digest('hex'),
        });
        return [{ input: name, member: null, type: null, outcome: 'quarantined', id: row.id, reason: 'too-large', detail }];
      }),
    reachable: async () => {
      try {
        await store();
        return true;
      } catch {
        await discard();
        return false;
      }
    },
    close: discard,
  };
}
