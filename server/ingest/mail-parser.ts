/**
 * mailparser's simpleParser, loaded on first use: most inputs are not mail, and loading mailparser (and the
 * modules it pulls in) took about a tenth of a second of every command's start-up.
 */
import type { simpleParser as SimpleParser } from 'mailparser';

let loaded: Promise<typeof SimpleParser> | null = null;

export const simpleParser = (async (...args: Parameters<typeof SimpleParser>) => {
  loaded ??= import('mailparser').then((m) => m.simpleParser);
  return (await loaded)(...args);
}) as typeof SimpleParser;
