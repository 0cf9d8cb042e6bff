/**
 * Character classes of XML names and a small fixed-size table that hands out one shared string per element
 * name, so scanning a tag allocates nothing once its name has been seen.
 */

const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const start = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
  NAME_CHAR[c] = start ? 1 : (c >= 48 && c <= 57) || c === 45 || c === 46 ? 2 : 0;
}

export function isNameStart(c: number): boolean {
  return c < 128 ? NAME_CHAR[c] === 1 : c >= 0xc0;
}

export function isNameChar(c: number): boolean {
  return c < 128 ? NAME_CHAR[c] !== 0 : c >= 0xb7;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

export function isName(name: string): boolean {
  if (name.length === 0 || !isNameStart(name.charCodeAt(0))) return false;
  for (let k = 1; k < name.length; k++) if (!isNameChar(name.charCodeAt(k))) return false;
  return true;
}

/** One element name as written (`raw`, e.g. "dmarc:record") and without its prefix (`local`). */
export interface ElementName {
  readonly raw: string;
  readonly local: string;
  /** the local name is one of the scanner's free-text elements */
  readonly freeText: boolean;
  /** the local name is one of the scanner's sibling-only elements */
  readonly sibling: boolean;
}

const TABLE_SIZE = 1024;

/** Direct-mapped cache of element names keyed by a hash of their characters (bounded: TABLE_SIZE entries). */
export class NameTable {
  private readonly slots: (ElementName | undefined)[] = new Array(TABLE_SIZE);

  constructor(
    private readonly freeText: ReadonlySet<string>,
    private readonly siblings: ReadonlySet<string>,
  ) {}

  /** the name s[start, end); `hash` is the caller's (h * 31 + charCode) | 0 over its characters */
  get(s: string, start: number, end: number, hash: number): ElementName {
    const slot = hash & (TABLE_SIZE - 1);
    const known = this.slots[slot];
    if (known !== undefined && known.raw.length === end - start && matchAt(s, start, known.raw)) return known;
    const raw = s.slice(start, end);
    const colon = raw.lastIndexOf(':');
    const local = colon < 0 ? raw : raw.slice(colon + 1);
    const name: ElementName = { raw, local, freeText: this.freeText.has(local), sibling: this.siblings.has(local) };
    this.slots[slot] = name;
    return name;
  }
}

/** s.startsWith(word, at), written out: a loop over char codes is cheaper than the builtin call for short words */
export function matchAt(s: string, at: number, word: string): boolean {
  const len = word.length;
  if (at + len > s.length) return false;
  for (let k = 0; k < len; k++) if (s.charCodeAt(at + k) !== word.charCodeAt(k)) return false;
  return true;
}
