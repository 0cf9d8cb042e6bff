/**
 * The dedup / matching form of a text value: Unicode-normalized, trimmed, inner whitespace collapsed, lower-cased;
 * '' for null. Computed here rather than with SQL lower()/trim(), which differ between engines (SQLite's lower()
 * folds ASCII only, its trim() spaces only).
 */
export function keyText(value: string | null | undefined): string {
  if (value == null) return '';
  return value.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Epoch seconds as stored: whole seconds on every engine (a fraction would be refused by a BIGINT column). */
export function epochSeconds(value: number): number {
  return Math.floor(value);
}
