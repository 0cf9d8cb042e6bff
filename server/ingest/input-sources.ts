import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FatalError, InputRejected } from '../errors.ts';
import type { InputSource } from './unpack-types.ts';

/** files up to this size are read with one read instead of a stream (most reports are a few KiB) */
const WHOLE_READ_BYTES = 256 * 1024;

export function fileSource(path: string): InputSource {
  return {
    name: path,
    async *open() {
      const small = readSmallFile(path);
      if (small) {
        if (small.length > 0) yield small;
        return;
      }
      yield* createReadStream(path, { highWaterMark: 256 * 1024 });
    },
  };
}

/**
 * The whole file when it is a regular file of at most WHOLE_READ_BYTES, else null (it is streamed). Synchronous
 * on purpose: for a few KiB, the promise-based calls cost more than the read itself. Opened non-blocking, so a
 * FIFO named on the command line cannot block here (it is streamed).
 */
function readSmallFile(path: string): Buffer | null {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    // regular files only: a pipe or device reports no size, and what is read from it cannot be read again
    if (!info.isFile() || info.size > WHOLE_READ_BYTES) return null;
    // one read of size + 1 bytes: a file that grew meanwhile is noticed and streamed instead
    const buf = Buffer.allocUnsafe(info.size + 1);
    let read = 0;
    for (let n; read <= info.size && (n = readSync(fd, buf, read, info.size + 1 - read, read)) > 0; ) read += n;
    return read <= info.size ? buf.subarray(0, read) : null;
  } finally {
    closeSync(fd);
  }
}

export function bufferSource(name: string, bytes: Buffer): InputSource {
  return {
    name,
    async *open() {
      yield bytes;
    },
  };
}

/** Reads all of stdin (it can be read only once, and quarantine may need the bytes again). */
export async function stdinSource(maxBytes: number, stream: NodeJS.ReadableStream = process.stdin): Promise<InputSource> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > maxBytes) {
      const kept = Buffer.concat(parts);
      return tooLargeSource('-', kept, maxBytes);
    }
    parts.push(buf);
  }
  return bufferSource('-', Buffer.concat(parts));
}

/** stdin beyond the input limit: what was read is kept for quarantine, unpacking refuses it. */
function tooLargeSource(name: string, head: Buffer, maxBytes: number): InputSource {
  return {
    name,
    async *open() {
      yield head;
      throw new InputRejected('too-large', `input larger than ${maxBytes} bytes (raise DMARC_LENS_MAX_INPUT_BYTES)`);
    },
  };
}

/**
 * Expands the command-line paths: files as given, directories recursively (sorted, hidden entries skipped),
 * '-' for stdin. An unreadable path is fatal.
 */
export async function* expandPaths(paths: string[]): AsyncGenerator<string> {
  for (const path of paths) {
    if (path === '-') {
      yield path;
      continue;
    }
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      throw new FatalError('unreadable-path', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (info.isDirectory()) yield* walk(path);
    else yield path;
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new FatalError('unreadable-path', `cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}
