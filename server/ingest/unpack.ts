/**
 * Input bytes → the reports inside them, whatever the wrapping: gzip (also gzip in gzip, with trailing bytes), raw
 * zlib, zip (several members, folders), a mail (attachments, the body, nested message/rfc822), an mbox, or bare
 * XML / JSON. The type of every stream is sniffed from its first bytes; names and MIME types are never trusted.
 *
 * Contract for the consumer of `unpack(input, limits)`:
 *  - leaves come in input order; an 'xml' / 'json' leaf's `chunks` is lazy (decompression happens while it is
 *    read). Read it fully, or abandon it, before asking for the next leaf: asking for the next leaf stops an
 *    abandoned stream (its decompressor is torn down, nothing more is read from it). Reading `chunks` after that
 *    is not supported.
 *  - `chunks` throws InputRejected when the stream turns out bad while it is read: 'too-large' (a limit was hit:
 *    quarantine the leaf), 'bad-compression' (truncated or corrupt gzip/zlib) or 'bad-archive' (corrupt zip member).
 *    What came out before stays valid; bytes after the end of a gzip stream are ignored, never an error.
 *  - everything else that is wrong with the input is a 'rejected' leaf, never an exception; only read errors of
 *    the input itself (ENOENT, EACCES, …) and FatalError propagate.
 *  - limits: maxInputBytes (raw input), maxDecompressedBytes (each decompressed stream, zip member, mbox mail),
 *    maxCompressionRatio after ratioCheckAfterBytes and maxTotalDecompressedBytes (after either of these two
 *    refusals nothing more is taken from the input: it is a bomb), maxMembers (a zip with more entries or a mail
 *    with more attachments is refused whole, before any member is read; an mbox yields its first maxMembers mails
 *    and then one 'too-many-members' leaf), maxNesting (containers inside containers: deeper ones are 'too-deep').
 *  - a mail with no report in it gives one 'not-a-report' leaf listing its parts; non-report parts of a mail that
 *    does hold a report (text, HTML, logos) are dropped silently.
 */
import { rejectionOf } from '../errors.ts';
import type { Limits } from './limits.ts';
import { capInput, limitSetting, newBudget, OutputMeter, tooLarge, tooManyMembers, type UnpackBudget } from './byte-cap.ts';
import { readMail } from './read-mail.ts';
import { SNIFF_BYTES, sniff, type Sniffed } from './sniff.ts';
import { splitMbox } from './split-mbox.ts';
import { gunzip, inflateZlib } from './unpack-gunzip.ts';
import { ByteReader } from './unpack-reader.ts';
import type { InputSource, Unpacked } from './unpack-types.ts';
import { zipMembers } from './unpack-zip.ts';

/** Longest run of leading whitespace looked through before giving up on a stream. */
const MAX_SNIFF_BYTES = 1024 * 1024;

export async function* unpack(input: InputSource, limits: Limits): AsyncGenerator<Unpacked> {
  const budget = newBudget(limits);
  const reader = new ByteReader(capInput(input.open(), limits));
  try {
    yield* unpackStream(reader, null, 0, budget);
  } finally {
    await reader.close();
  }
}

/** Sniffs `reader` and unpacks what it holds. The caller owns (and closes) `reader`. */
async function* unpackStream(reader: ByteReader, member: string | null, depth: number, budget: UnpackBudget): AsyncGenerator<Unpacked> {
  let sniffed: Sniffed;
  try {
    sniffed = await sniffStream(reader);
  } catch (err) {
    yield rejected(member, err);
    return;
  }
  switch (sniffed.kind) {
    case 'xml':
    case 'json':
      yield { kind: sniffed.kind, member, chunks: reader.chunks() };
      return;
    case 'empty':
      yield { kind: 'rejected', member, code: 'empty', detail: 'there is nothing in it (0 bytes or only whitespace)' };
      return;
    case 'more':
      yield { kind: 'rejected', member, code: 'not-a-report', detail: `more than ${MAX_SNIFF_BYTES} bytes of whitespace` };
      return;
    case 'unknown':
      yield { kind: 'rejected', member, code: 'not-a-report', detail: sniffed.looksLike };
      return;
  }
  if (depth >= budget.limits.maxNesting) {
    const detail = `a ${sniffed.kind} nested ${depth} containers deep (maxNesting = ${budget.limits.maxNesting}; raise ${limitSetting('maxNesting')} to accept it)`;
    yield { kind: 'rejected', member, code: 'too-deep', detail };
    return;
  }
  switch (sniffed.kind) {
    case 'gzip':
    case 'zlib': {
      const gzip = sniffed.kind === 'gzip';
      const meter = new OutputMeter(budget, gzip ? 'gzip stream' : 'zlib stream');
      const inner = new ByteReader(gzip ? gunzip(reader, meter) : inflateZlib(reader, meter));
      try {
        yield* unpackStream(inner, join(member, gzip ? 'gunzip' : 'inflate'), depth + 1, budget);
      } finally {
        await inner.close();
      }
      return;
    }
    case 'zip': {
      const archive = await readWhole(reader, member);
      if (Buffer.isBuffer(archive)) yield* unpackZip(archive, member, depth, budget);
      else yield archive;
      return;
    }
    case 'mail': {
      const mail = await readWhole(reader, member);
      if (Buffer.isBuffer(mail)) yield* unpackMail(mail, member, depth, budget);
      else yield mail;
      return;
    }
    case 'mbox':
      yield* unpackMbox(reader, member, depth, budget);
      return;
  }
}

async function sniffStream(reader: ByteReader): Promise<Sniffed> {
  for (let want = SNIFF_BYTES; ; want *= 4) {
    const head = await reader.peek(want);
    const sniffed = sniff(head, head.length < want);
    if (sniffed.kind !== 'more' || want >= MAX_SNIFF_BYTES) return sniffed;
  }
}

async function* unpackZip(archive: Buffer, member: string | null, depth: number, budget: UnpackBudget): AsyncGenerator<Unpacked> {
  for await (const item of zipMembers(archive, budget)) {
    if (item.kind === 'rejected') {
      yield { kind: 'rejected', member: item.name === null ? member : join(member, item.name), code: item.error.code, detail: item.error.detail };
      if (budget.exhausted) return;
      continue;
    }
    try {
      yield* unpackStream(item.content, join(member, item.name), depth + 1, budget);
    } finally {
      await item.content.close();
    }
    if (budget.exhausted) return;
  }
}

/**
 * A mail: a failure report, or its report parts unpacked. 'not-a-report' / 'empty' results of single parts are
 * held back: if nothing in the mail is a report, one leaf for the mail lists every part and what it looked like.
 */
async function* unpackMail(bytes: Buffer, member: string | null, depth: number, budget: UnpackBudget): AsyncGenerator<Unpacked> {
  let content;
  try {
    content = await readMail(bytes, budget.limits);
  } catch (err) {
    yield rejected(member, err);
    return;
  }
  if (content.kind === 'failure') {
    yield { kind: 'failure', member, report: content.report };
    return;
  }
  let found = 0;
  const listing: string[] = [];
  for (const part of content.parts) {
    if (!part.bytes) {
      listing.push(part.description);
      continue;
    }
    const notes: string[] = [];
    const partReader = ByteReader.of(part.bytes);
    try {
      for await (const leaf of unpackStream(partReader, join(member, part.label), depth + 1, budget)) {
        if (leaf.kind === 'rejected' && (leaf.code === 'not-a-report' || leaf.code === 'empty')) {
          notes.push(leaf.detail);
          continue;
        }
        found++;
        yield leaf;
      }
    } finally {
      await partReader.close();
    }
    listing.push(notes.length > 0 ? `${part.description}: ${notes.join(', ')}` : part.description);
    if (budget.exhausted) return;
  }
  if (found === 0) {
    const parts = listing.length > 0 ? listing.join('; ') : 'none';
    yield { kind: 'rejected', member, code: 'not-a-report', detail: `mail has no report attachment (parts: ${parts})` };
  }
}

async function* unpackMbox(reader: ByteReader, member: string | null, depth: number, budget: UnpackBudget): AsyncGenerator<Unpacked> {
  const { limits } = budget;
  let n = 0;
  try {
    for await (const mail of splitMbox(reader, limits.maxDecompressedBytes)) {
      n++;
      const name = join(member, `mbox#${n}`);
      if (n > limits.maxMembers) {
        const error = tooManyMembers(`the mbox has more than ${limits.maxMembers} mails; the first ${limits.maxMembers} were read`, limits.maxMembers);
        yield { kind: 'rejected', member, code: error.code, detail: error.detail };
        return;
      }
      if (mail.kind === 'too-large') {
        const error = tooLarge(`the mail (${mail.size} bytes)`, 'maxDecompressedBytes', limits.maxDecompressedBytes);
        yield { kind: 'rejected', member: name, code: error.code, detail: error.detail };
        continue;
      }
      yield* unpackMail(mail.bytes, name, depth + 1, budget);
      if (budget.exhausted) return;
    }
  } catch (err) {
    // a limit hit while reading the mbox itself (its decompressor, the input cap)
    yield rejected(n > 0 ? join(member, `mbox#${n + 1}`) : member, err);
  }
}

/** The rest of `reader` in memory (zip, mail), or the rejection that stopped reading it. */
async function readWhole(reader: ByteReader, member: string | null): Promise<Buffer | Unpacked> {
  try {
    return await reader.readAll();
  } catch (err) {
    return rejected(member, err);
  }
}

/** An InputRejected as a 'rejected' leaf; anything else (read errors of the input, FatalError) is rethrown. */
function rejected(member: string | null, err: unknown): Unpacked {
  const rejection = rejectionOf(err);
  if (!rejection) throw err;
  return { kind: 'rejected', member, code: rejection.code, detail: rejection.detail };
}

function join(member: string | null, name: string): string {
  return member === null ? name : `${member}>${name}`;
}
