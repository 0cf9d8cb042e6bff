/**
 * A small, tolerant, streaming XML scanner. Text goes in piece by piece (`write`), element events come out
 * (`XmlSink.open` / `XmlSink.close` with the element's own text when it has no child elements). Only the
 * unfinished last token is held between writes, so memory stays bounded whatever the document size.
 *
 * What it repairs (each repair is reported through `note`):
 *  - whitespace or garbage before the XML declaration / the root element, stray start and end tags around
 *    the root, content after the root;
 *  - raw '<' that cannot start markup, and any '<' inside free-text elements (e.g. <comment>);
 *  - raw '&' (kept literally), end tags that close several open elements, unmatched end tags, sibling-only
 *    elements left open (a new <record> closes an unclosed <record> or <report_metadata>).
 * What it refuses (InputRejected): DOCTYPEs declaring entities, a malformed tag where elements are expected,
 * nesting deeper than `maxDepth`, a token longer than `maxPending`, no root element in the first 64 KB.
 * Namespace prefixes are dropped: events carry local names.
 */
import { InputRejected } from '../errors.ts';
import { decodeReferences } from './xml-entities.ts';
import { isName, isNameChar, isNameStart, isWs, matchAt, NameTable, type ElementName } from './xml-names.ts';

export interface XmlSink {
  /** `attributes` is the raw attribute text of the start tag ('' when none) */
  open(name: string, parent: string | null, depth: number, attributes: string): void;
  /** `text` is the element's decoded text (untrimmed) when it had no child element, else null */
  close(name: string, parent: string | null, depth: number, text: string | null): void;
}

export interface XmlScannerOptions {
  /** local name of the document element */
  root: string;
  /** leaf elements whose text may contain raw '<' (everything up to the matching end tag is text) */
  freeText: ReadonlySet<string>;
  /** elements that never contain one another: opening one while another is open closes the open one first */
  siblings: ReadonlySet<string>;
  maxDepth: number;
  /** longest single token or text run held while waiting for more input */
  maxPending: number;
  note(message: string): void;
}

export interface ScanEnd {
  rootSeen: boolean;
  rootClosed: boolean;
  /** local names of the elements still open at the end of the input (outermost first) */
  openAtEnd: string[];
  /** true when the input ended inside a tag, comment, CDATA section or declaration */
  cutInToken: boolean;
  /** true when anything but whitespace was seen */
  sawContent: boolean;
}

const PROLOG = 0;
const BODY = 1;
const EPILOG = 2;
const DONE = 3;

/** before the root: at most this much text, this many stray tags, this much non-markup garbage */
const MAX_PROLOG_CHARS = 64 * 1024;
const MAX_STRAY_TAGS = 8;
const MAX_GARBAGE_CHARS = 4096;

const NEED_MORE = -1;
const MALFORMED = -2;

export class XmlScanner {
  private buf = '';
  /** the buffer being scanned (pending text pieces index into it) */
  private cur = '';
  /** absolute offset of buf[0] */
  private base = 0;
  private mode = PROLOG;
  private readonly stack: ElementName[] = [];
  private readonly table: NameTable;
  /** text of the innermost open element: `text` + (s[pieceStart, pieceEnd) when pieceStart >= 0) */
  private text = '';
  private pieceStart = -1;
  private pieceEnd = -1;
  /** the innermost open element has had no child element so far */
  private leaf = false;
  /** index of the next '&' in the current buffer at or after the last text looked at (-1: none) */
  private nextAmp = -1;
  private strayTags = 0;
  private garbage = 0;
  private garbageNoted = 0;
  private sawMarkup = false;
  private leadingWhitespace = false;
  private rootSeen = false;
  private sawContent = false;
  private cutInToken = false;
  /** absolute offset of the token being handled */
  private tokenAt = 0;

  constructor(
    private readonly sink: XmlSink,
    private readonly opts: XmlScannerOptions,
  ) {
    this.table = new NameTable(opts.freeText, opts.siblings);
  }

  /** absolute character offset of the token being handled (valid inside sink callbacks) */
  get offset(): number {
    return this.tokenAt;
  }

  /** true once the root is closed and the rest of the input can be ignored */
  get done(): boolean {
    return this.mode === DONE;
  }

  write(text: string): void {
    if (this.mode === DONE || text.length === 0) return;
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    this.run(false);
  }

  end(): ScanEnd {
    if (this.mode !== DONE) this.run(true);
    return {
      rootSeen: this.rootSeen,
      rootClosed: this.rootSeen && (this.mode === EPILOG || this.mode === DONE),
      openAtEnd: this.stack.map((e) => e.local),
      cutInToken: this.cutInToken,
      sawContent: this.sawContent,
    };
  }

  private run(final: boolean): void {
    const s = this.buf;
    const n = s.length;
    let i = 0;
    this.cur = s;
    this.nextAmp = s.indexOf('&');
    while (i < n && this.mode !== DONE) {
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        if (this.mode === BODY && !final) break; // text in elements waits for its end
        this.onText(s, i, n);
        i = n;
        break;
      }
      if (lt > i) {
        this.onText(s, i, lt);
        if (this.mode === DONE) break;
      }
      this.tokenAt = this.base + lt;
      const next = this.markup(s, lt, final);
      if (next === NEED_MORE) {
        i = lt;
        break;
      }
      i = next;
    }
    if (this.pieceStart >= 0) {
      this.text += s.slice(this.pieceStart, this.pieceEnd);
      this.pieceStart = -1;
    }
    if (this.mode === PROLOG && this.base + n > MAX_PROLOG_CHARS) {
      throw new InputRejected('not-a-report', `no <${this.opts.root}> element in the first ${MAX_PROLOG_CHARS} characters`);
    }
    if (n - i > this.opts.maxPending) {
      throw new InputRejected('too-large', `a single XML token or text longer than ${this.opts.maxPending} characters`);
    }
    this.buf = i === 0 ? s : i >= n ? '' : s.slice(i);
    this.base += i;
  }

  /** handles the markup starting at s[i] === '<'; returns the index after it or NEED_MORE */
  private markup(s: string, i: number, final: boolean): number {
    if (i + 1 >= s.length) return final ? this.literalLt(i) : NEED_MORE;
    const c1 = s.charCodeAt(i + 1);
    if (c1 === 47) return this.endTag(s, i, final);
    this.sawContent = true;
    if (c1 === 33) return this.declaration(s, i, final);
    const freeText = this.mode === BODY && this.inFreeText();
    if (c1 === 63 && !freeText) return this.instruction(s, i, final);
    if (isNameStart(c1) && !freeText) return this.startTag(s, i, final);
    return this.literalLt(i);
  }

  private inFreeText(): boolean {
    return this.leaf && this.stack.length > 0 && this.stack[this.stack.length - 1]!.freeText;
  }

  /** where a terminator was not found: wait for more input, or at the end note a cut token */
  private unterminated(s: string, final: boolean): number {
    if (!final) return NEED_MORE;
    this.cutInToken = true;
    return s.length;
  }

  private startTag(s: string, i: number, final: boolean): number {
    const n = s.length;
    let j = i + 1;
    let hash = 0;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (!isNameChar(c)) break;
      hash = (Math.imul(hash, 31) + c) | 0;
    }
    if (j >= n) return this.unterminated(s, final);
    const c = s.charCodeAt(j);
    let end: number;
    let selfClosing = false;
    let attributes = '';
    if (c === 62) end = j + 1;
    else {
      const k = c === 47 ? j : isWs(c) ? scanAttributes(s, j) : MALFORMED;
      if (k === MALFORMED) return this.malformed(s, i);
      if (k === NEED_MORE) return this.unterminated(s, final);
      if (s.charCodeAt(k) === 47) {
        if (k + 1 >= n) return this.unterminated(s, final);
        if (s.charCodeAt(k + 1) !== 62) return this.malformed(s, i);
        selfClosing = true;
        end = k + 2;
      } else end = k + 1;
      if (k > j) attributes = s.slice(j, k);
    }
    const el = this.table.get(s, i + 1, j, hash);
    this.openElement(el, attributes, selfClosing);
    if (selfClosing || this.mode !== BODY || this.stack[this.stack.length - 1] !== el) return end;
    // fast path for the common leaf <name>text</name>: handle the text and the end tag right here
    const lt = s.indexOf('<', end);
    const len = el.raw.length;
    if (lt < 0 || s.charCodeAt(lt + 1) !== 47 || s.charCodeAt(lt + 2 + len) !== 62 || !matchAt(s, lt + 2, el.raw)) return end;
    if (lt > end) this.onText(s, end, lt);
    this.tokenAt = this.base + lt;
    this.closeTop();
    return lt + 3 + len;
  }

  private openElement(el: ElementName, attributes: string, selfClosing: boolean): void {
    if (this.mode !== BODY) {
      if (this.mode === PROLOG && el.local === this.opts.root) {
        this.mode = BODY;
        this.rootSeen = true;
        if (this.garbage > this.garbageNoted) {
          this.opts.note(`repaired: skipped ${this.garbage - this.garbageNoted} characters of non-XML text before <${el.raw}>`);
        }
      } else if (this.mode === PROLOG) {
        this.stray(`repaired: removed stray <${el.raw}> ${selfClosing ? 'element' : 'start tag'} before <${this.opts.root}>`);
        this.sawMarkup = true;
        return;
      } else {
        this.opts.note(`repaired: ignored content after </${this.opts.root}> (<${el.raw}>)`);
        this.mode = DONE;
        return;
      }
    }
    this.sawMarkup = true;
    const stack = this.stack;
    if (el.sibling) {
      const open = this.indexOfOpenSibling();
      if (open >= 0) {
        this.opts.note(`repaired: closed unclosed <${stack[open]!.raw}> before <${el.raw}>`);
        this.closeThrough(open);
      }
    }
    if (stack.length >= this.opts.maxDepth) {
      throw new InputRejected('too-deep', `XML elements nested deeper than ${this.opts.maxDepth}`);
    }
    const parent = stack.length > 0 ? stack[stack.length - 1]!.local : null;
    stack.push(el);
    this.text = '';
    this.pieceStart = -1;
    this.leaf = true;
    this.sink.open(el.local, parent, stack.length, attributes);
    if (selfClosing) this.closeTop();
  }

  private indexOfOpenSibling(): number {
    for (let k = this.stack.length - 1; k >= 0; k--) if (this.stack[k]!.sibling) return k;
    return -1;
  }

  private indexOfOpen(local: string): number {
    for (let k = this.stack.length - 1; k >= 0; k--) if (this.stack[k]!.local === local) return k;
    return -1;
  }

  /** closes the innermost open element */
  private closeTop(): void {
    const stack = this.stack;
    const depth = stack.length;
    const el = stack.pop()!;
    let text: string | null = null;
    if (this.leaf) {
      text = this.text;
      if (this.pieceStart >= 0) {
        const piece = this.cur.slice(this.pieceStart, this.pieceEnd);
        text = text.length === 0 ? piece : text + piece;
      }
    }
    this.text = '';
    this.pieceStart = -1;
    this.leaf = false;
    this.sink.close(el.local, depth > 1 ? stack[depth - 2]!.local : null, depth, text);
    if (depth === 1) this.mode = EPILOG;
  }

  /** closes the open elements down to and including index `k` of the stack */
  private closeThrough(k: number): void {
    while (this.stack.length > k) this.closeTop();
  }

  private endTag(s: string, i: number, final: boolean): number {
    const stack = this.stack;
    if (this.mode === BODY) {
      const top = stack[stack.length - 1]!.raw;
      if (s.charCodeAt(i + 2 + top.length) === 62 && matchAt(s, i + 2, top)) {
        this.closeTop();
        return i + 3 + top.length;
      }
    }
    this.sawContent = true;
    const gt = s.indexOf('>', i + 2);
    if (gt < 0) return this.unterminated(s, final);
    const rawName = s.slice(i + 2, gt).trimEnd();
    if (!isName(rawName)) return this.mode === BODY && this.inFreeText() ? this.literalLt(i) : this.malformed(s, i);
    if (this.mode === PROLOG) {
      this.stray(`repaired: removed stray end tag </${rawName}> before <${this.opts.root}>`);
      return gt + 1;
    }
    if (this.mode === EPILOG) {
      this.opts.note(`repaired: removed stray end tag </${rawName}> after </${this.opts.root}>`);
      return gt + 1;
    }
    const colon = rawName.lastIndexOf(':');
    const k = this.indexOfOpen(colon < 0 ? rawName : rawName.slice(colon + 1));
    const topName = stack[stack.length - 1]!.local;
    if (k === stack.length - 1) this.closeTop();
    else if (k >= 0) {
      for (let m = stack.length - 1; m > k; m--) this.opts.note(`repaired: closed unclosed <${stack[m]!.raw}> at </${rawName}>`);
      this.closeThrough(k);
    } else if (this.inFreeText()) {
      this.opts.note(`repaired: escaped raw '<' in text of <${topName}>`);
      this.addText(s.slice(i, gt + 1));
    } else {
      this.opts.note(`repaired: removed unmatched end tag </${rawName}>`);
    }
    return gt + 1;
  }

  /** <!-- -->, <![CDATA[ ]]>, <!DOCTYPE …> */
  private declaration(s: string, i: number, final: boolean): number {
    const n = s.length;
    if (n - i < 9 && !final) return NEED_MORE;
    if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      return end < 0 ? this.unterminated(s, final) : end + 3;
    }
    if (s.startsWith('<![CDATA[', i)) {
      const end = s.indexOf(']]>', i + 9);
      if (end < 0) return this.unterminated(s, final);
      if (this.mode === BODY) {
        if (this.leaf) this.addText(s.slice(i + 9, end));
      } else this.onText(s, i, end + 3);
      return end + 3;
    }
    const word = s.slice(i + 2, i + 9).toUpperCase();
    if (word === 'DOCTYPE') return this.doctype(s, i, final);
    if (word.startsWith('ENTITY')) throw new InputRejected('bad-xml', 'entity declaration outside a DOCTYPE');
    return this.literalLt(i);
  }

  /** skips a DOCTYPE; refuses any internal subset that declares entities (no expansion, ever) */
  private doctype(s: string, i: number, final: boolean): number {
    const open = s.indexOf('[', i);
    const gt = s.indexOf('>', i);
    if (gt >= 0 && (open < 0 || gt < open)) return gt + 1;
    if (open < 0) return this.unterminated(s, final);
    const close = s.indexOf(']', open);
    const subset = close < 0 ? s.slice(open) : s.slice(open, close);
    if (/<!ENTITY/i.test(subset)) throw new InputRejected('bad-xml', 'DOCTYPE declares entities (refused: no entity expansion)');
    if (close < 0) return this.unterminated(s, final);
    const end = s.indexOf('>', close);
    return end < 0 ? this.unterminated(s, final) : end + 1;
  }

  /** <? … ?> */
  private instruction(s: string, i: number, final: boolean): number {
    const end = s.indexOf('?>', i + 2);
    if (end < 0) return this.unterminated(s, final);
    if (this.mode === PROLOG && !this.sawMarkup && s.startsWith('<?xml', i) && isWs(s.charCodeAt(i + 5))) {
      if (this.garbage > 0) {
        this.opts.note(`repaired: skipped ${this.garbage} characters of garbage before the XML declaration`);
        this.garbageNoted = this.garbage;
      } else if (this.leadingWhitespace) this.opts.note('repaired: leading whitespace before XML declaration');
    }
    if (this.mode === PROLOG) this.sawMarkup = true;
    return end + 2;
  }

  /** a '<' that starts no markup */
  private literalLt(i: number): number {
    if (this.mode === BODY) {
      const where = this.stack[this.stack.length - 1]!.local;
      if (this.leaf) {
        this.opts.note(`repaired: escaped raw '<' in text of <${where}>`);
        this.addText('<');
      } else this.opts.note(`repaired: removed stray '<' in <${where}>`);
    } else if (this.mode === PROLOG) this.addGarbage(1);
    else {
      this.opts.note(`repaired: ignored content after </${this.opts.root}>`);
      this.mode = DONE;
    }
    return i + 1;
  }

  private malformed(s: string, i: number): number {
    if (this.mode === BODY) {
      const where = this.stack[this.stack.length - 1]!.local;
      const gt = s.indexOf('>', i);
      const sample = s.slice(i, gt > i && gt - i < 60 ? gt + 1 : i + 40);
      throw new InputRejected('bad-xml', `malformed tag ${JSON.stringify(sample)} in <${where}> at character ${this.base + i}`);
    }
    return this.literalLt(i);
  }

  private stray(message: string): void {
    this.opts.note(message);
    this.sawContent = true;
    if (++this.strayTags > MAX_STRAY_TAGS) {
      throw new InputRejected('not-a-report', `more than ${MAX_STRAY_TAGS} elements before <${this.opts.root}>: not a DMARC aggregate report`);
    }
  }

  /** appends to the innermost element's text, after any pending piece */
  private addText(piece: string): void {
    if (this.pieceStart >= 0) this.text += this.cur.slice(this.pieceStart, this.pieceEnd);
    this.pieceStart = -1;
    this.text += piece;
  }

  private onText(s: string, a: number, b: number): void {
    if (this.mode === BODY) {
      if (!this.leaf) return;
      if (this.nextAmp >= 0 && this.nextAmp < a) this.nextAmp = s.indexOf('&', a);
      if (this.nextAmp < 0 || this.nextAmp >= b) {
        if (this.pieceStart < 0 && this.text.length === 0) {
          this.pieceStart = a;
          this.pieceEnd = b;
        } else this.addText(s.slice(a, b));
        return;
      }
      const where = this.stack[this.stack.length - 1]!.local;
      this.addText(decodeReferences(s.slice(a, b), () => this.opts.note(`repaired: kept raw '&' in text of <${where}>`)));
      return;
    }
    let k = a;
    while (k < b && (isWs(s.charCodeAt(k)) || s.charCodeAt(k) === 0xfeff)) k++;
    if (k === b) {
      if (this.mode === PROLOG && !this.sawMarkup && b > a) this.leadingWhitespace = true;
      return;
    }
    this.sawContent = true;
    if (this.mode === EPILOG) {
      this.opts.note(`repaired: ignored text after </${this.opts.root}>`);
      this.mode = DONE;
      return;
    }
    this.addGarbage(b - a);
  }

  private addGarbage(count: number): void {
    this.garbage += count;
    if (this.garbage > MAX_GARBAGE_CHARS) {
      throw new InputRejected('not-a-report', `not XML: more than ${MAX_GARBAGE_CHARS} characters of non-markup text before any <${this.opts.root}>`);
    }
  }
}

/** from just after the element name: returns the index of the closing '>' or '/', NEED_MORE or MALFORMED */
function scanAttributes(s: string, j: number): number {
  const n = s.length;
  let k = j;
  for (;;) {
    while (k < n && isWs(s.charCodeAt(k))) k++;
    if (k >= n) return NEED_MORE;
    const c = s.charCodeAt(k);
    if (c === 62 || c === 47) return k;
    if (!isNameStart(c)) return MALFORMED;
    while (k < n && isNameChar(s.charCodeAt(k))) k++;
    while (k < n && isWs(s.charCodeAt(k))) k++;
    if (k >= n) return NEED_MORE;
    if (s.charCodeAt(k) !== 61) return MALFORMED;
    k++;
    while (k < n && isWs(s.charCodeAt(k))) k++;
    if (k >= n) return NEED_MORE;
    const q = s.charCodeAt(k);
    if (q !== 34 && q !== 39) return MALFORMED;
    const close = s.indexOf(q === 34 ? '"' : "'", k + 1);
    if (close < 0) return NEED_MORE;
    k = close + 1;
  }
}
