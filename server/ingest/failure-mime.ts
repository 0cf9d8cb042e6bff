/**
 * A small, bounded MIME tree walker for failure reports. mailparser flattens a mail into text + attachments and
 * inlines `message/rfc822` parts into the text, which loses the part boundaries and the original header block an
 * ARF report is made of; this keeps each part's headers and raw body. Works on Buffers (bodies are sliced, never
 * copied or decoded unless asked), so walking a mail with a large attachment is cheap.
 */

export interface HeaderField {
  /** lower-cased */
  name: string;
  /** unfolded and trimmed; raw bytes as latin1 (callers decode RFC 2047 / UTF-8 when they need to) */
  value: string;
}

export interface MimePart {
  /** the raw header block (latin1, as in the input) */
  headerText: string;
  headers: HeaderField[];
  /** lower-cased type/subtype; 'text/plain' when absent */
  contentType: string;
  /** lower-cased parameter names */
  params: Record<string, string>;
  /** raw (still transfer-encoded) body */
  body: Buffer;
  /** parts of a multipart body; empty for leaves (message/rfc822 bodies are not descended into here) */
  children: MimePart[];
}

const MAX_PARTS = 256;
const MAX_DEPTH = 12;
const MAX_HEADER_BYTES = 1024 * 1024;

/** Removes a leading mbox `From ` separator line and leading blank lines. */
export function stripEnvelope(mail: Buffer): Buffer {
  let start = 0;
  while (start < mail.length && (mail[start] === 0x0d || mail[start] === 0x0a)) start++;
  if (mail.subarray(start, start + 5).toString('latin1') === 'From ') {
    const nl = mail.indexOf(0x0a, start);
    start = nl < 0 ? mail.length : nl + 1;
  }
  return start === 0 ? mail : mail.subarray(start);
}

/** Index of the blank line that ends a header block: [end of headers, start of body], or null when there is none. */
function findHeaderEnd(buf: Buffer): [number, number] | null {
  if (buf[0] === 0x0a) return [0, 1];
  if (buf[0] === 0x0d && buf[1] === 0x0a) return [0, 2];
  const limit = Math.min(buf.length, MAX_HEADER_BYTES);
  let i = buf.indexOf(0x0a);
  while (i >= 0 && i < limit) {
    if (buf[i + 1] === 0x0a) return [i + 1, i + 2];
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return [i + 1, i + 3];
    i = buf.indexOf(0x0a, i + 1);
  }
  return null;
}

const HEADER_LINE = /^([!-9;-~]+)[ \t]*:(.*)$/;

/** Parses a header block (any line ending, folded lines). Lines that are not `name: value` are skipped. */
export function parseHeaderBlock(text: string): HeaderField[] {
  const out: HeaderField[] = [];
  let current: { name: string; value: string } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && current) {
      current.value += ' ' + line.trim();
      continue;
    }
    const m = HEADER_LINE.exec(line);
    if (current) out.push({ name: current.name, value: current.value.trim() });
    current = m ? { name: m[1]!.toLowerCase(), value: m[2]!.trim() } : null;
  }
  if (current) out.push({ name: current.name, value: current.value.trim() });
  return out;
}

export function headerValue(headers: readonly HeaderField[], name: string): string | null {
  const h = headers.find((f) => f.name === name);
  return h ? h.value : null;
}

/** `type/subtype; a=b; c="d"` → lower-cased type and parameters (quoted strings, RFC 2231 sections and charsets). */
export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const pieces = splitParams(value);
  const type = (pieces.shift() ?? '').trim().toLowerCase();
  const params: Record<string, string> = {};
  const sections = new Map<string, { index: number; value: string; extended: boolean }[]>();
  for (const p of pieces) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const rawName = p.slice(0, eq).trim().toLowerCase();
    const v = p.slice(eq + 1).trim();
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(rawName);
    if (!m || (m[2] === undefined && m[3] === undefined)) {
      params[rawName] = v;
      continue;
    }
    const list = sections.get(m[1]!) ?? [];
    list.push({ index: Number(m[2] ?? 0), value: v, extended: m[3] !== undefined });
    sections.set(m[1]!, list);
  }
  for (const [name, list] of sections) {
    list.sort((a, b) => a.index - b.index);
    params[name] = list
      .map((s, i) => (s.extended ? safeDecodeURIComponent(i === 0 ? s.value.replace(/^[^']*'[^']*'/, '') : s.value) : s.value))
      .join('');
  }
  return { type: /^[^/\s]+\/[^/\s]+$/.test(type) ? type : 'text/plain', params };
}

/** Splits at `;` outside quoted strings and removes the quoting. */
function splitParams(value: string): string[] {
  const pieces: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted && i + 1 < value.length) cur += value[++i];
    else if (c === ';' && !quoted) {
      pieces.push(cur);
      cur = '';
    } else cur += c;
  }
  pieces.push(cur);
  return pieces;
}

function safeDecodeURIComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Parses one entity (a whole mail, a part, or the body of a message/rfc822 part) into a tree. */
export function parseMime(entity: Buffer): MimePart {
  const budget = { parts: 0 };
  return parseEntity(entity, 0, budget);
}

function parseEntity(entity: Buffer, depth: number, budget: { parts: number }): MimePart {
  budget.parts++;
  const split = findHeaderEnd(entity);
  let headerText: string;
  let body: Buffer;
  if (split && (split[0] === 0 || HEADER_LINE.test(firstLine(entity)))) {
    headerText = entity.subarray(0, split[0]).toString('latin1');
    body = entity.subarray(split[1]);
  } else if (HEADER_LINE.test(firstLine(entity))) {
    headerText = entity.subarray(0, MAX_HEADER_BYTES).toString('latin1');
    body = Buffer.alloc(0);
  } else {
    headerText = '';
    body = entity;
  }
  const headers = parseHeaderBlock(headerText);
  const { type, params } = parseContentType(headerValue(headers, 'content-type'));
  const part: MimePart = { headerText, headers, contentType: type, params, body, children: [] };
  const boundary = params['boundary'];
  if (type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    for (const child of splitMultipart(body, boundary)) {
      if (budget.parts >= MAX_PARTS) break;
      part.children.push(parseEntity(child, depth + 1, budget));
    }
  }
  return part;
}

function firstLine(buf: Buffer): string {
  const nl = buf.indexOf(0x0a);
  return buf.subarray(0, nl < 0 ? Math.min(buf.length, 1000) : Math.min(nl, 1000)).toString('latin1').replace(/\r$/, '');
}

/** The bodies between `--boundary` delimiter lines (preamble and epilogue dropped; a missing close is tolerated). */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from('--' + boundary, 'latin1');
  const parts: Buffer[] = [];
  let contentStart = -1;
  let from = 0;
  while (from <= body.length && parts.length < MAX_PARTS) {
    const at = body.indexOf(delimiter, from);
    if (at < 0) break;
    from = at + delimiter.length;
    if (at > 0 && body[at - 1] !== 0x0a) continue; // not at a line start
    const isClose = body[from] === 0x2d && body[from + 1] === 0x2d && endsLine(body, from + 2);
    if (!isClose && !endsLine(body, from)) continue; // a longer boundary that starts with this one
    if (contentStart >= 0) {
      let end = at;
      if (body[end - 1] === 0x0a) end--;
      if (body[end - 1] === 0x0d) end--;
      parts.push(body.subarray(contentStart, Math.max(contentStart, end)));
    }
    if (isClose) return parts;
    const nl = body.indexOf(0x0a, from);
    contentStart = nl < 0 ? body.length : nl + 1;
  }
  if (contentStart >= 0 && contentStart < body.length && parts.length < MAX_PARTS) parts.push(body.subarray(contentStart));
  return parts;
}

/** Only spaces/tabs up to the end of the line (or of the body) from `at`. */
function endsLine(buf: Buffer, at: number): boolean {
  for (let i = at; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x0a || c === 0x0d) return true;
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/** Every part of the tree, depth first, parents before children. */
export function flattenParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const stack: MimePart[] = [root];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    for (let i = p.children.length - 1; i >= 0; i--) stack.push(p.children[i]!);
  }
  return out;
}

/** The body with its Content-Transfer-Encoding undone (base64, quoted-printable; anything else as is). */
export function decodeBody(part: MimePart): Buffer {
  const cte = (headerValue(part.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  if (cte === 'base64') return Buffer.from(part.body.toString('latin1').replace(/[^A-Za-z0-9+/=_-]/g, ''), 'base64');
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.body);
  return part.body;
}

export function decodeQuotedPrintable(body: Buffer): Buffer {
  const lines = body.toString('latin1').split('\n');
  const out = Buffer.alloc(body.length);
  let n = 0;
  lines.forEach((raw, li) => {
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === '\r' || raw[end - 1] === ' ' || raw[end - 1] === '\t')) end--; // transport padding
    const soft = end > 0 && raw[end - 1] === '=';
    const line = soft ? raw.slice(0, end - 1) : raw.slice(0, end);
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      const hex = c === 0x3d ? line.slice(i + 1, i + 3) : '';
      if (hex.length === 2 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        out[n++] = parseInt(hex, 16);
        i += 2;
      } else out[n++] = c & 0xff;
    }
    if (!soft && li < lines.length - 1) out[n++] = 0x0a;
  });
  return out.subarray(0, n);
}

/** Decodes bytes in the given charset (unknown charsets and invalid bytes degrade, never throw). */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? 'utf-8').trim().toLowerCase();
  if (cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8') return bytes.toString('utf8');
  try {
    return new TextDecoder(cs).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** A text part's decoded text (transfer encoding and charset). */
export function partText(part: MimePart): string {
  return decodeText(decodeBody(part), part.params['charset']);
}
