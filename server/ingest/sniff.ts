/**
 * What a byte stream is, from its first bytes only (magic numbers and text shape; file names and MIME types are
 * never trusted). Pure: give it the head of the stream and whether that head is the whole stream.
 */

export type Sniffed =
  | { kind: 'gzip' | 'zip' | 'zlib' | 'xml' | 'json' | 'mbox' | 'mail' | 'empty' }
  /** only whitespace so far: look at a longer head */
  | { kind: 'more' }
  /** not something we can read; `looksLike` says what it seems to be ('PNG image', 'binary data', …) */
  | { kind: 'unknown'; looksLike: string };

/** How many bytes `sniff` wants to see (mail headers can be long; a shorter head is fine at the end of a stream). */
export const SNIFF_BYTES = 16 * 1024;

const MAGIC: { bytes: number[]; at?: number; looksLike: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], looksLike: 'PNG image' },
  { bytes: [0xff, 0xd8, 0xff], looksLike: 'JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], looksLike: 'GIF image' },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], looksLike: 'PDF document' },
  { bytes: [0x42, 0x5a, 0x68], looksLike: 'bzip2-compressed data (not supported: send gzip or zip)' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], looksLike: 'xz-compressed data (not supported: send gzip or zip)' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], looksLike: 'zstd-compressed data (not supported: send gzip or zip)' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], looksLike: '7-Zip archive (not supported: send gzip or zip)' },
  { bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], looksLike: 'RAR archive (not supported: send gzip or zip)' },
  { bytes: [0x50, 0x4b, 0x07, 0x08], looksLike: 'split zip archive (not supported)' },
  { bytes: [0x75, 0x73, 0x74, 0x61, 0x72], at: 257, looksLike: 'tar archive (not supported: send gzip or zip)' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], looksLike: 'Microsoft Office document' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], looksLike: 'ELF executable' },
  { bytes: [0x4d, 0x5a], looksLike: 'Windows executable' },
  { bytes: [0x52, 0x49, 0x46, 0x46], looksLike: 'RIFF media file' },
];

/** Header names that make a header-shaped first block a mail (any X- header counts too). */
const MAIL_HEADERS = new Set([
  'return-path', 'received', 'from', 'to', 'cc', 'subject', 'date', 'message-id', 'mime-version', 'content-type',
  'content-transfer-encoding', 'content-disposition', 'delivered-to', 'reply-to', 'sender', 'dkim-signature',
  'authentication-results', 'received-spf', 'references', 'in-reply-to', 'feedback-id', 'list-id', 'precedence',
  'auto-submitted', 'envelope-to', 'importance', 'thread-index', 'thread-topic', 'user-agent',
]);

const HEADER_LINE = /^([!-9;-~]+)[ \t]*:/;

export function sniff(head: Buffer, complete: boolean): Sniffed {
  if (head.length === 0) return { kind: 'empty' };
  const b0 = head[0]!;
  const b1 = head[1];
  if (b0 === 0x1f && b1 === 0x8b) return { kind: 'gzip' };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return { kind: 'zip' };
  if (b0 === 0x78 && b1 !== undefined && (b0 * 256 + b1) % 31 === 0 && (b1 & 0x20) === 0) return { kind: 'zlib' };

  const text = sniffText(head, complete);
  if (text) return text;

  for (const magic of MAGIC) if (startsWith(head, magic.bytes, magic.at ?? 0)) return { kind: 'unknown', looksLike: magic.looksLike };
  return { kind: 'unknown', looksLike: looksBinary(head) ? 'binary data' : 'text that is not XML, JSON or mail' };
}

/** XML / JSON / empty after an optional BOM and whitespace; mbox and mail by their header block. */
function sniffText(head: Buffer, complete: boolean): Sniffed | null {
  let i = 0;
  let utf16: 'le' | 'be' | null = null;
  if (startsWith(head, [0xef, 0xbb, 0xbf])) i = 3;
  else if (startsWith(head, [0xff, 0xfe])) utf16 = 'le';
  else if (startsWith(head, [0xfe, 0xff])) utf16 = 'be';
  else if (head[0] === 0x3c && head[1] === 0x00) utf16 = 'le';
  else if (head[0] === 0x00 && head[1] === 0x3c) utf16 = 'be';

  if (utf16) {
    const chars = Buffer.from(head.subarray(0, Math.min(head.length, 512) & ~1));
    if (utf16 === 'be') chars.swap16();
    const s = chars.toString('utf16le').replace(/^\ufeff/, '').trimStart();
    if (s.startsWith('<')) return { kind: 'xml' };
    if (s.startsWith('{') || s.startsWith('[')) return { kind: 'json' };
    return null;
  }

  while (i < head.length && isSpace(head[i]!)) i++;
  if (i === head.length) return complete ? { kind: 'empty' } : { kind: 'more' };
  const first = head[i]!;
  if (first === 0x3c /* < */) {
    const start = head.subarray(i, i + 64).toString('latin1').toLowerCase();
    if (start.startsWith('<!doctype html') || start.startsWith('<html')) return { kind: 'unknown', looksLike: 'HTML document' };
    return { kind: 'xml' };
  }
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) return { kind: 'json' };
  return sniffMail(head, complete);
}

/** `From ` + a header line → mbox; a block of header lines with at least one mail header → mail. */
function sniffMail(head: Buffer, complete: boolean): Sniffed | null {
  const lines = head.toString('latin1').replace(/^[\r\n]+/, '').split('\n');
  if (!complete || lines[lines.length - 1] === '') lines.pop(); // a cut-off last line, or the empty rest after the final newline
  if (lines.length === 0) return null;
  if (lines[0]!.startsWith('From ')) {
    return lines.length > 1 && HEADER_LINE.test(lines[1]!) ? { kind: 'mbox' } : null;
  }
  let headers = 0;
  let known = false;
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (headers === 0) return null;
      continue;
    }
    const m = HEADER_LINE.exec(line);
    if (!m) return null;
    headers++;
    const name = m[1]!.toLowerCase();
    if (MAIL_HEADERS.has(name) || name.startsWith('x-') || name.startsWith('arc-') || name.startsWith('list-')) known = true;
  }
  return headers > 0 && known ? { kind: 'mail' } : null;
}

function looksBinary(head: Buffer): boolean {
  const sample = head.subarray(0, 4096);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return true;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) control++;
  }
  if (control > sample.length / 20) return true;
  // text must be mostly valid UTF-8 (or plain 8-bit text): many invalid sequences mean binary
  const decoded = sample.toString('utf8');
  let replaced = 0;
  for (const ch of decoded) if (ch === '\ufffd') replaced++;
  return replaced > sample.length / 10;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c || b === 0x0b;
}

function startsWith(buf: Buffer, bytes: number[], at = 0): boolean {
  if (buf.length < at + bytes.length) return false;
  return bytes.every((b, k) => buf[at + k] === b);
}
