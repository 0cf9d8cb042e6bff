/**
 * The `tag=value; tag=value` syntax (RFC 6376 3.2) shared by DMARC, DKIM, MTA-STS, TLS-RPT and BIMI records.
 * Pure: returns the tags in order and what was wrong, never throws.
 */

export interface Tag {
  /** lower-cased tag name */
  name: string;
  /** value with surrounding whitespace removed */
  value: string;
}

export interface TagList {
  tags: Tag[];
  /** lower-cased name → first value */
  byName: Map<string, string>;
  /** human-readable syntax problems: parts without '=', bad names, repeated tags */
  problems: string[];
}

const TAG_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export function parseTagList(text: string): TagList {
  const tags: Tag[] = [];
  const byName = new Map<string, string>();
  const problems: string[] = [];
  for (const rawPart of text.split(';')) {
    const part = rawPart.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      problems.push(`"${part}" has no "="`);
      continue;
    }
    const rawName = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!TAG_NAME.test(rawName)) {
      problems.push(`"${rawName}" is not a valid tag name`);
      continue;
    }
    const name = rawName.toLowerCase();
    if (byName.has(name)) {
      problems.push(`tag "${name}" appears more than once`);
      continue;
    }
    tags.push({ name, value });
    byName.set(name, value);
  }
  return { tags, byName, problems };
}

/** Joins a TXT record's character-strings (RFC 7208 3.3 / RFC 6376 3.6.2.2: concatenated without spaces). */
export function joinTxt(strings: readonly string[]): string {
  return strings.join('');
}

/** True when the record's first tag is `v=<version>` exactly (the value compared case-sensitively). */
export function startsWithVersion(text: string, version: string): boolean {
  return new RegExp(`^\\s*v\\s*=\\s*${version}\\s*(;|$)`).test(text);
}
