import type { FailureReport, ReasonCode } from '../domain/report-types.ts';

/** One input as handed to the ingest pipeline: a file, stdin or a mail fetched over IMAP. */
export interface InputSource {
  /** file path, '-' for stdin, or 'imap://account/mailbox/uid' */
  name: string;
  /** a fresh stream of the raw bytes each time it is called */
  open(): AsyncIterable<Uint8Array>;
}

/**
 * What unpacking one input yields, in order. `member` names the path inside the container:
 *  - null for a bare file, 'gunzip' for a gzip layer, 'inflate' for raw zlib,
 *    the zip member path for zip members ('' members are named '#N'),
 *    '[content-type;filename]' for a mail part, 'mbox#N' for the Nth mail of an mbox,
 *  joined with '>' (e.g. '[application/zip;x.zip]>x.xml', 'gunzip>gunzip').
 */
export type Unpacked =
  /** decompressed XML (aggregate) or JSON (TLS) text as a byte stream, already capped by the limits */
  | { kind: 'xml' | 'json'; member: string | null; chunks: AsyncIterable<Buffer> }
  /** a failure (ARF or plain-text DMARC failure) report found in a mail */
  | { kind: 'failure'; member: string | null; report: FailureReport }
  /** something in the input that could not be used; the pipeline quarantines it */
  | { kind: 'rejected'; member: string | null; code: ReasonCode; detail: string };
