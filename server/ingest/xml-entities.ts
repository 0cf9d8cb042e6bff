/**
 * Character references in XML text: only the five predefined entities and numeric references are decoded
 * (there is never any entity expansion). A '&' that starts neither is kept as a literal '&'.
 */

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Longest reference we look at: '&#x10FFFF;' / '&#1114111;' */
const MAX_REFERENCE = 12;

/**
 * Decodes references in `text`. `onRawAmpersand` is called once per call when a '&' had to be kept
 * as a literal (unknown entity or a bare '&').
 */
export function decodeReferences(text: string, onRawAmpersand: () => void): string {
  let amp = text.indexOf('&');
  if (amp < 0) return text;
  let out = '';
  let from = 0;
  let raw = false;
  while (amp >= 0) {
    out += text.slice(from, amp);
    const semi = text.indexOf(';', amp + 1);
    const decoded = semi > amp && semi - amp <= MAX_REFERENCE ? referenceValue(text.slice(amp + 1, semi)) : null;
    if (decoded === null) {
      out += '&';
      from = amp + 1;
      raw = true;
    } else {
      out += decoded;
      from = semi + 1;
    }
    amp = text.indexOf('&', from);
  }
  if (raw) onRawAmpersand();
  return out + text.slice(from);
}

function referenceValue(name: string): string | null {
  if (name.charCodeAt(0) !== 35 /* # */) return NAMED[name] ?? null;
  const hex = name.charCodeAt(1) === 120 || name.charCodeAt(1) === 88; // x / X
  const digits = name.slice(hex ? 2 : 1);
  if (digits.length === 0 || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return null;
  const cp = parseInt(digits, hex ? 16 : 10);
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(cp);
}
