/**
 * Incremental bytes → text for XML documents: picks the encoding from the BOM, the byte pattern or the
 * XML declaration, then decodes chunk by chunk without ever holding the whole document.
 * Invalid UTF-8 never fails: the offending bytes are read as windows-1252 and a repair note is written.
 */

/** How many leading bytes are looked at before the encoding is chosen. */
const SNIFF_BYTES = 1024;

export interface XmlTextDecoder {
  /** decodes the next bytes; returns the text that is complete so far (may be '') */
  push(bytes: Uint8Array): string;
  /** flushes what is left at the end of the input */
  end(): string;
  /** the encoding chosen (known after the first SNIFF_BYTES bytes or at the end) */
  readonly encoding: string | null;
  /** total bytes pushed */
  readonly bytesSeen: number;
}

type Chunker = { decode(bytes: Uint8Array, final: boolean): string };

export function createXmlTextDecoder(note: (message: string) => void): XmlTextDecoder {
  let head: Uint8Array[] | null = [];
  let headLength = 0;
  let chunker: Chunker | null = null;
  let encoding: string | null = null;
  let bytesSeen = 0;

  const start = (bytes: Uint8Array, final: boolean): string => {
    const chosen = chooseEncoding(bytes, note);
    encoding = chosen.encoding;
    chunker = chosen.encoding === 'utf-8' ? createUtf8Chunker(note) : createLabelledChunker(chosen.encoding);
    return chunker.decode(bytes.subarray(chosen.skip), final);
  };

  return {
    get encoding() {
      return encoding;
    },
    get bytesSeen() {
      return bytesSeen;
    },
    push(bytes: Uint8Array): string {
      bytesSeen += bytes.length;
      if (chunker) return chunker.decode(bytes, false);
      head!.push(bytes);
      headLength += bytes.length;
      if (headLength < SNIFF_BYTES) return '';
      const all = concat(head!, headLength);
      head = null;
      return start(all, false);
    },
    end(): string {
      if (chunker) return chunker.decode(new Uint8Array(0), true);
      const all = concat(head ?? [], headLength);
      head = null;
      if (all.length === 0) return '';
      return start(all, true);
    },
  };
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** BOM first, then a UTF-16 byte pattern, then the encoding declared in the XML declaration, else UTF-8. */
function chooseEncoding(b: Uint8Array, note: (message: string) => void): { encoding: string; skip: number } {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf-8', skip: 3 };
  if (b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', skip: 2 };
  if (b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', skip: 2 };
  const utf16 = sniffUtf16(b);
  if (utf16) return { encoding: utf16, skip: 0 };
  const declared = declaredEncoding(b);
  if (declared === null) return { encoding: 'utf-8', skip: 0 };
  const label = declared.toLowerCase();
  if (label === 'utf-8' || label === 'utf8') return { encoding: 'utf-8', skip: 0 };
  if (label.startsWith('utf-16') || label.startsWith('ucs-2') || label.startsWith('utf-32')) {
    note(`repaired: declared encoding "${declared}" does not match the bytes; decoded as UTF-8`);
    return { encoding: 'utf-8', skip: 0 };
  }
  try {
    return { encoding: new TextDecoder(label).encoding, skip: 0 };
  } catch {
    note(`repaired: unknown declared encoding "${declared}"; decoded as UTF-8`);
    return { encoding: 'utf-8', skip: 0 };
  }
}

/** UTF-16 without a BOM: '<' or whitespace with a zero byte beside it at the start. */
function sniffUtf16(b: Uint8Array): string | null {
  if (b.length < 4) return null;
  const ascii = (c: number | undefined) => c === 0x3c || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  if (ascii(b[0]) && b[1] === 0 && b[3] === 0 && b[2] !== 0) return 'utf-16le';
  if (b[0] === 0 && ascii(b[1]) && b[2] === 0 && b[3] !== 0) return 'utf-16be';
  return null;
}

const DECLARATION = /<\?xml\b[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)\s*["']/;

function declaredEncoding(b: Uint8Array): string | null {
  const prefix = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, SNIFF_BYTES)).toString('latin1');
  const start = prefix.indexOf('<?xml');
  if (start < 0) return null;
  const end = prefix.indexOf('?>', start);
  const decl = end < 0 ? prefix.slice(start) : prefix.slice(start, end + 2);
  return DECLARATION.exec(decl)?.[1] ?? null;
}

function createLabelledChunker(label: string): Chunker {
  if (label === 'windows-1252') return { decode: (bytes) => decodeWindows1252(bytes) };
  const decoder = new TextDecoder(label);
  // always streaming: Node 20's non-streaming path of some single-byte decoders differs from the streaming one
  return { decode: (bytes, final) => decoder.decode(bytes, { stream: true }) + (final ? decoder.decode() : '') };
}

/** windows-1252 (also what iso-8859-1 and us-ascii labels mean on the web): latin1 except 0x80–0x9f */
function decodeWindows1252(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (!/[\x80-\x9f]/.test(text)) return text;
  return text.replace(/[\x80-\x9f]/g, (c) => String.fromCharCode(windows1252CodePoint(c.charCodeAt(0))));
}

/**
 * UTF-8 with our own carry of an incomplete trailing sequence, so each complete part can be checked strictly
 * (fast native path) and, if invalid, decoded byte by byte with the windows-1252 fallback.
 */
function createUtf8Chunker(note: (message: string) => void): Chunker {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let carry: Uint8Array | null = null;
  let noted = false;
  return {
    decode(bytes: Uint8Array, final: boolean): string {
      let input = bytes;
      if (carry) {
        const joined = new Uint8Array(carry.length + bytes.length);
        joined.set(carry, 0);
        joined.set(bytes, carry.length);
        input = joined;
        carry = null;
      }
      const complete = final ? input.length : completePrefixLength(input);
      if (complete < input.length) carry = input.slice(complete);
      const part = input.subarray(0, complete);
      if (part.length === 0) return '';
      try {
        return strict.decode(part);
      } catch {
        if (!noted) {
          noted = true;
          note('repaired: invalid UTF-8 bytes decoded as windows-1252');
        }
        return decodeUtf8Lenient(part);
      }
    },
  };
}

/** Length of the prefix that does not end inside a multi-byte sequence. */
function completePrefixLength(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k]!;
    if ((c & 0xc0) === 0x80) continue;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return k < need ? n - k : n;
    }
    return n;
  }
  return n;
}

/** windows-1252 code points for 0x80–0x9f (undefined positions map to the C1 control of the same value). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

export function windows1252CodePoint(byte: number): number {
  return byte >= 0x80 && byte <= 0x9f ? CP1252_HIGH[byte - 0x80]! : byte;
}

/** Decodes valid UTF-8 sequences as UTF-8 and every byte of an invalid one as windows-1252. */
export function decodeUtf8Lenient(b: Uint8Array): string {
  const out: string[] = [];
  const units: number[] = [];
  const flush = () => {
    out.push(String.fromCharCode(...units));
    units.length = 0;
  };
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let cp = -1;
    let len = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      if (cont(b[i + 1])) cp = ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (cont(b[i + 1]) && cont(b[i + 2])) {
        cp = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
        if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) cp = -1;
      }
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (cont(b[i + 1]) && cont(b[i + 2]) && cont(b[i + 3])) {
        cp = ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
        if (cp < 0x10000 || cp > 0x10ffff) cp = -1;
      }
    }
    if (cp < 0) {
      cp = windows1252CodePoint(c);
      len = 1;
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
    i += len;
    if (units.length >= 8192) flush();
  }
  flush();
  return out.join('');
}

function cont(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
