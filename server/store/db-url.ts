import { FatalError } from '../errors.ts';

export type DbTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

/**
 * 'sqlite:PATH' (relative or absolute; 'sqlite::memory:' for a private in-memory database; 'sqlite://PATH' also
 * accepted) or 'postgres://…' / 'postgresql://…'. Throws FatalError('bad-db-url') naming the URL without its password.
 */
export function parseDbUrl(url: string): DbTarget {
  const bad = (why: string) => new FatalError('bad-db-url', `bad database URL ${redactDbUrl(url)}: ${why}`);
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    const path = trimmed.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path === '') throw bad("no file path (use 'sqlite:PATH' or 'sqlite::memory:')");
    return { dialect: 'sqlite', path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw bad('not a valid URL');
    }
    if (!parsed.hostname && !parsed.searchParams.has('host')) throw bad('no host');
    return { dialect: 'postgres', url: trimmed };
  }
  throw bad("expected 'sqlite:PATH' or 'postgres://user@host:port/database'");
}

/** The URL with any password replaced by '***', for messages and start-up banners. */
export function redactDbUrl(url: string): string {
  if (/^sqlite:/i.test(url.trim())) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.href;
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(password=)[^&]*/gi, '$1***');
  }
}
