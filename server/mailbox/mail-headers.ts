/**
 * Reads header fields from the top of a raw mail (pure; no MIME decoding). Only the header block is looked at,
 * and at most `maxBytes` of it, so a huge or headerless message costs nothing.
 */

export interface HeaderField {
  /** lower-case field name */
  name: string;
  /** unfolded value, surrounding whitespace trimmed */
  value: string;
}

const DEFAULT_MAX_HEADER_BYTES = 256 * 1024;

/** The header fields of a raw message, top to bottom (the topmost field was added last, by the nearest server). */
export function readHeaderFields(raw: Uint8Array, maxBytes = DEFAULT_MAX_HEADER_BYTES): HeaderField[] {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.length, maxBytes)).toString('latin1');
  const lines = head.split(/\r?\n/);
  // an mbox "From " separator line may precede the headers
  if (lines[0]?.startsWith('From ')) lines.shift();
  const fields: HeaderField[] = [];
  let current: { name: string; parts: string[] } | null = null;
  const flush = () => {
    if (current) fields.push({ name: current.name, value: current.parts.join(' ').replace(/\s+/g, ' ').trim() });
    current = null;
  };
  for (const line of lines) {
    if (line === '') break; // end of the header block
    if (/^[ \t]/.test(line)) {
      current?.parts.push(line.trim());
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a header line: ignore it rather than guess
    current = { name: line.slice(0, colon).trim().toLowerCase(), parts: [line.slice(colon + 1)] };
  }
  flush();
  return fields;
}

/** Values of one header field, top to bottom. */
export function headerValues(fields: HeaderField[], name: string): string[] {
  const wanted = name.toLowerCase();
  return fields.filter((f) => f.name === wanted).map((f) => f.value);
}
