/**
 * Splits an mbox stream into mails, line by line, holding one mail at a time.
 *
 * A separator is a line starting with `From ` that is followed by a header line (so an unquoted `From ` line in a
 * body, as mboxo writers leave them, stays in the body). Quoted body lines (`>From `, `>>From ` …, mboxrd) lose
 * one `>`; for mboxo files that only quote one level this is the same rule. LF and CRLF files both work.
 */
import type { ByteReader } from './unpack-reader.ts';

export type MboxMail = { kind: 'mail'; bytes: Buffer } | { kind: 'too-large'; size: number };

/** Lines longer than this are not examined as separators; their bytes still count towards the mail. */
const MAX_LINE = 64 * 1024;
const FROM = Buffer.from('From ');
const HEADER_LINE = /^[!-9;-~]+[ \t]*:/;

/** Mails of the mbox in order; a mail bigger than `maxMailBytes` is reported by size and not kept. */
export async function* splitMbox(reader: ByteReader, maxMailBytes: number): AsyncGenerator<MboxMail> {
  let mail: Buffer[] = [];
  let size = 0;
  let started = false;
  let separator: Buffer | null = null; // a `From ` line waiting for the next line to confirm it

  const add = (bytes: Buffer) => {
    if (!started) return; // bytes before the first separator
    size += bytes.length;
    if (size <= maxMailBytes) mail.push(bytes);
    else mail = [];
  };
  const finish = (): MboxMail => {
    const done: MboxMail = size > maxMailBytes ? { kind: 'too-large', size } : { kind: 'mail', bytes: Buffer.concat(mail) };
    mail = [];
    size = 0;
    return done;
  };

  for await (const line of lines(reader)) {
    if (separator) {
      const pending = separator;
      separator = null;
      if (line.whole && HEADER_LINE.test(line.bytes.subarray(0, 256).toString('latin1'))) {
        if (started) yield finish();
        started = true;
        add(line.bytes);
        continue;
      }
      add(pending);
    }
    if (line.whole && startsWith(line.bytes, FROM, 0)) {
      separator = line.bytes;
      continue;
    }
    add(line.start ? unquote(line.bytes) : line.bytes);
  }
  if (separator) add(separator);
  if (started) yield finish();
}

interface Line {
  bytes: Buffer;
  /** the piece begins a line */
  start: boolean;
  /** the piece is a whole line (a longer line comes in pieces that are never separators) */
  whole: boolean;
}

/** Lines with their line ends; lines longer than MAX_LINE come as several pieces. */
async function* lines(reader: ByteReader): AsyncGenerator<Line> {
  let carry: Buffer[] = [];
  let carried = 0;
  let start = true;
  for await (const chunk of reader.chunks()) {
    let at = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, at);
      if (nl < 0) break;
      const piece = chunk.subarray(at, nl + 1);
      const bytes = carried > 0 ? Buffer.concat([...carry, piece]) : piece;
      yield { bytes, start, whole: start };
      carry = [];
      carried = 0;
      start = true;
      at = nl + 1;
    }
    if (at < chunk.length) {
      carry.push(chunk.subarray(at));
      carried += chunk.length - at;
      if (carried > MAX_LINE) {
        yield { bytes: Buffer.concat(carry), start, whole: false };
        carry = [];
        carried = 0;
        start = false;
      }
    }
  }
  if (carried > 0) yield { bytes: Buffer.concat(carry), start, whole: start };
}

/** `>From `, `>>From ` … → one `>` less. */
function unquote(line: Buffer): Buffer {
  let i = 0;
  while (line[i] === 0x3e /* > */) i++;
  return i > 0 && startsWith(line, FROM, i) ? line.subarray(1) : line;
}

function startsWith(buf: Buffer, prefix: Buffer, at: number): boolean {
  return buf.length >= at + prefix.length && buf.subarray(at, at + prefix.length).equals(prefix);
}
