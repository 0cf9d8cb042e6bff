/**
 * Streaming parser for DMARC aggregate (rua) XML reports.
 *
 * bytes → text (xml-decode: BOM / declared encoding / invalid UTF-8 repair)
 *       → element events (xml-scanner: tolerant, bounded, no entity expansion)
 *       → header + records (aggregate-builder, aggregate-normalize)
 *
 * Memory stays bounded by the largest single record: the document is never held whole. The header (everything
 * before the first <record>) is emitted once; records follow in document order in batches. When
 * report_metadata / policy_published only come after the records, the records are held (bounded by
 * `maxRecords`) until the header is complete.
 */
import type { AggregateHeader, AggregateRecord } from '../domain/report-types.ts';
import { InputRejected } from '../errors.ts';
import { AggregateBuilder } from './aggregate-builder.ts';
import type { Limits } from './limits.ts';
import { createXmlTextDecoder } from './xml-decode.ts';
import { XmlScanner } from './xml-scanner.ts';

export type AggregateEvent =
  | { type: 'header'; header: AggregateHeader }
  | { type: 'records'; records: AggregateRecord[] };

/** records per 'records' event */
export const RECORD_BATCH = 500;
/** input chunks smaller than this are joined before decoding */
const MIN_WRITE = 16 * 1024;
/** bytes decoded at a time, so one huge input chunk never becomes one huge string */
const DECODE_SLICE = 1024 * 1024;
/** distinct repair notes kept in header.errors */
const MAX_NOTES = 100;

/** the parts of a report, which never contain one another */
const SECTIONS: ReadonlySet<string> = new Set(['report_metadata', 'policy_published', 'record']);

/** leaf elements whose text is free prose and may carry a raw '<' */
const FREE_TEXT: ReadonlySet<string> = new Set(['comment', 'human_result', 'extra_contact_info', 'error', 'generator']);

/**
 * Exactly one 'header' event, always before any 'records' event; records in document order, batches of ~500.
 * Throws InputRejected(code, detail) for unusable input. `header.errors` may still grow after the header event
 * (repairs noticed in later records are appended to that same array; the store writes it after the last batch).
 */
export async function* parseAggregate(chunks: AsyncIterable<Uint8Array>, limits: Limits): AsyncGenerator<AggregateEvent> {
  const errors: string[] = [];
  const note = noteLog(errors);
  const decoder = createXmlTextDecoder(note);
  const builder: AggregateBuilder = new AggregateBuilder(limits.maxRecords, limits.maxElementBytes, (): number => scanner.offset, errors, note);
  const scanner: XmlScanner = new XmlScanner(builder, {
    root: 'feedback',
    freeText: FREE_TEXT,
    siblings: SECTIONS,
    maxDepth: limits.maxXmlDepth,
    maxPending: limits.maxElementBytes,
    note,
  });

  let header: AggregateHeader | null = null;
  for await (const bytes of coalesce(chunks)) {
    for (let at = 0; at < bytes.length && !scanner.done; at += DECODE_SLICE) {
      scanner.write(decoder.push(bytes.length <= DECODE_SLICE ? bytes : bytes.subarray(at, at + DECODE_SLICE)));
      builder.checkSize();
      if (header === null && builder.recordCount > 0 && builder.metadataSeen && builder.policySeen) {
        header = builder.header();
        yield { type: 'header', header };
      }
      if (header !== null) {
        while (builder.records.length >= RECORD_BATCH) yield { type: 'records', records: builder.records.splice(0, RECORD_BATCH) };
      }
    }
    if (scanner.done) break;
  }
  scanner.write(decoder.end());
  const end = scanner.end();

  if (decoder.bytesSeen === 0) throw new InputRejected('empty', 'the input has no bytes');
  if (!end.sawContent) throw new InputRejected('empty', 'the input holds only white space');
  if (!end.rootSeen) throw new InputRejected('not-a-report', 'no <feedback> element: not a DMARC aggregate report');
  if (!end.rootClosed) noteTruncation(builder, end.openAtEnd, note);
  if (header === null) {
    header = finalHeader(builder, !end.rootClosed);
    yield { type: 'header', header };
  }
  const rest = builder.records.splice(0);
  for (let at = 0; at < rest.length; at += RECORD_BATCH) yield { type: 'records', records: rest.slice(at, at + RECORD_BATCH) };
}

/** joins small input chunks to at least MIN_WRITE bytes, so tiny chunks never make the scanner rescan a pending token */
async function* coalesce(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    if (size === 0 && chunk.length >= MIN_WRITE) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    size += chunk.length;
    if (size >= MIN_WRITE) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

function finalHeader(builder: AggregateBuilder, truncated: boolean): AggregateHeader {
  if (truncated && !(builder.metadataSeen && builder.policySeen)) {
    throw new InputRejected('bad-xml', 'the input ends before the report header (report_metadata, policy_published) is complete');
  }
  try {
    return builder.header();
  } catch (err) {
    if (truncated && err instanceof InputRejected && err.code === 'schema') {
      throw new InputRejected('bad-xml', `the input ends before the report header is complete (${err.detail})`);
    }
    throw err;
  }
}

function noteTruncation(builder: AggregateBuilder, open: string[], note: (message: string) => void): void {
  const complete = builder.recordCount - (builder.inRecord ? 1 : 0);
  if (builder.inRecord) {
    note(`repaired: input ends inside <record> #${builder.recordCount}; kept the ${complete} complete records`);
  } else {
    note(`repaired: input ends with unclosed <${open.join('>, <')}>; kept the ${complete} complete records`);
  }
}

/** Adds each distinct note once to `errors`, at most MAX_NOTES of them. */
function noteLog(errors: string[]): (message: string) => void {
  const seen = new Set<string>();
  return (message: string) => {
    if (seen.has(message) || seen.size > MAX_NOTES) return;
    seen.add(message);
    errors.push(seen.size > MAX_NOTES ? 'repaired: more repairs not listed' : message);
  };
}
