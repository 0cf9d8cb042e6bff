/**
 * The original message inside a failure report: find its header block (message/rfc822, text/rfc822-headers, or a
 * copy of the headers pasted into a text body) and read its identity headers with mailparser (RFC 2047 decoding).
 */
import type { AddressObject } from 'mailparser';
import { simpleParser } from './mail-parser.ts';
import type { FailureReport } from '../domain/report-types.ts';
import { headerValue, parseHeaderBlock } from './failure-mime.ts';

export type OriginalIdentity = Pick<
  FailureReport,
  'originalFrom' | 'originalTo' | 'originalSubject' | 'originalMessageId' | 'originalDate' | 'originalHeaders'
>;

export const NO_ORIGINAL: OriginalIdentity = Object.freeze({
  originalFrom: null,
  originalTo: null,
  originalSubject: null,
  originalMessageId: null,
  originalDate: null,
  originalHeaders: null,
});

const MAX_BLOCK_CHARS = 1024 * 1024;
const HEADER_START = /^([!-9;-~]+)[ \t]*:/;
/** Headers that, when they follow a stray blank line, show the header block goes on (seen in RFC 5965's own example). */
const IDENTITY = new Set(['from', 'to', 'cc', 'subject', 'date', 'message-id', 'mime-version', 'content-type', 'reply-to']);
/** Headers that mark the start of a pasted copy of a message's headers. */
const ANCHORS = new Set(['received', 'return-path', 'from', 'subject', 'message-id', 'date', 'to', 'dkim-signature', 'authentication-results', 'delivered-to', 'mime-version']);

function headerName(line: string): string | null {
  const m = HEADER_START.exec(line);
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * The header lines starting at `start` (header lines and their continuations). One blank line is stepped over when
 * the next line is an identity header that the block does not have yet.
 */
function takeHeaderLines(lines: readonly string[], start: number): { block: string[]; end: number } {
  const out: string[] = [];
  const seen = new Set<string>();
  let chars = 0;
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    chars += line.length + 1;
    if (chars > MAX_BLOCK_CHARS) break;
    if (line.trim() === '') {
      const next = lines[i + 1] !== undefined ? headerName(lines[i + 1]!) : null;
      if (next && IDENTITY.has(next) && !seen.has(next) && out.length > 0) continue;
      break;
    }
    if (/^[ \t]/.test(line)) {
      if (out.length === 0) break;
      out.push(line);
      continue;
    }
    const name = headerName(line);
    if (!name) break;
    seen.add(name);
    out.push(line);
  }
  return { block: out, end: i };
}

/** The header block at the start of a message (leading blank lines skipped), or null when it has none. */
export function leadingHeaderBlock(text: string): string | null {
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const { block } = takeHeaderLines(lines, i);
  return block.length ? block.join('\n') : null;
}

/**
 * A copy of a message's headers pasted somewhere in a text (plain-text failure reports): the first run of header
 * lines that starts at an anchor header and holds at least two headers, one of them From, Subject, Message-ID or
 * Received.
 */
export function findPastedHeaderBlock(text: string): { block: string; startLine: number; endLine: number } | null {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const name = headerName(lines[i]!);
    if (!name || !ANCHORS.has(name)) continue;
    const { block, end } = takeHeaderLines(lines, i);
    const names = block.map(headerName).filter((n): n is string => n !== null);
    if (names.length >= 2 && names.some((n) => n === 'from' || n === 'subject' || n === 'message-id' || n === 'received')) {
      return { block: block.join('\n'), startLine: i, endLine: end };
    }
    i = Math.max(i, end - 1); // a later start inside this run holds fewer headers: it cannot qualify either
  }
  return null;
}

/** Bytes as text: UTF-8 when they are valid UTF-8, Latin-1 otherwise (raw 8-bit headers). */
export function bytesToText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function addressText(a: AddressObject | AddressObject[] | undefined): string | null {
  if (!a) return null;
  const text = (Array.isArray(a) ? a.map((x) => x.text).join(', ') : a.text).trim();
  return text || null;
}

/** Reads From/To/Subject/Message-ID/Date of a header block (line endings normalized to LF). */
export async function readOriginalIdentity(block: string | null): Promise<OriginalIdentity> {
  if (!block) return NO_ORIGINAL;
  const headers = parseHeaderBlock(block);
  const raw = (name: string): string | null => headerValue(headers, name) || null;
  let parsed: Awaited<ReturnType<typeof simpleParser>> | null = null;
  try {
    parsed = await simpleParser(Buffer.from(block + '\n\n', 'utf8'), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
    });
  } catch {
    parsed = null;
  }
  return {
    originalFrom: addressText(parsed?.from) ?? raw('from'),
    originalTo: addressText(parsed?.to) ?? raw('to'),
    originalSubject: (parsed?.subject ?? raw('subject'))?.trim() || null,
    originalMessageId: raw('message-id'),
    originalDate: raw('date'),
    originalHeaders: block,
  };
}
