/**
 * mailparser's simpleParser (the promise form), loaded on first use: most inputs are not mail, and loading
 * mailparser (and the modules it pulls in) took about a tenth of a second of every command's start-up.
 */
import type { ParsedMail, SimpleParserOptions, Source } from 'mailparser';

let loaded: Promise<typeof import('mailparser').simpleParser> | null = null;

export async function simpleParser(source: Source, options?: SimpleParserOptions): Promise<ParsedMail> {
  loaded ??= import('mailparser').then((m) => m.simpleParser);
  return (await loaded)(source, options);
}
