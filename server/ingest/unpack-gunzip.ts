/**
 * Streaming gunzip and zlib inflate over a ByteReader, bounded by an OutputMeter.
 *
 * gzip is read member by member (header parsed here, deflate body by zlib's raw inflater, CRC and size checked), so
 * bytes after the last member — zero padding, stray text, a broken second header — end the stream instead of
 * failing it: Node's own Gunzip errors there and drops the last decompressed chunk, which loses the report.
 */
import zlib from 'node:zlib';
import { InputRejected } from '../errors.ts';
import type { OutputMeter } from './byte-cap.ts';
import type { ByteReader } from './unpack-reader.ts';

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const MAX_HEADER_BYTES = 1024 * 1024;
/** 64 KiB output chunks: a quarter of the per-chunk overhead of zlib's default 16 KiB, still small in memory */
const ENGINE_OPTIONS = { chunkSize: 64 * 1024 };
/** zlib.crc32 exists from Node 20.15 on; without it the gzip CRC is not checked (the size still is) */
const crc32: ((data: Buffer, value: number) => number) | null = typeof zlib.crc32 === 'function' ? zlib.crc32 : null;

/** Decompressed bytes of every gzip member in `reader`. Throws InputRejected('bad-compression' | 'too-large'). */
export async function* gunzip(reader: ByteReader, meter: OutputMeter): AsyncGenerator<Buffer> {
  let consumed = 0;
  for (let member = 0; ; member++) {
    const header = await readGzipHeader(reader);
    if (typeof header === 'string') {
      if (member === 0) throw new InputRejected('bad-compression', `not a readable gzip stream: ${header}`);
      return; // bytes after the last member are ignored, as gzip(1) does
    }
    consumed += header;
    let crc = 0;
    let size = 0;
    const body = inflateFrom(reader, zlib.createInflateRaw(ENGINE_OPTIONS), meter, consumed, 'gzip');
    try {
      for (;;) {
        let next: IteratorResult<Buffer, number>;
        try {
          next = await body.next();
        } catch (err) {
          // bytes after a complete member that only look like a gzip header (a cut-off copy, random bytes):
          // trailing garbage, not a broken report
          if (member > 0 && size === 0 && err instanceof InputRejected && err.code === 'bad-compression') return;
          throw err;
        }
        if (next.done) {
          consumed += next.value;
          break;
        }
        if (crc32) crc = crc32(next.value, crc);
        size = (size + next.value.length) % 2 ** 32;
        yield next.value;
      }
    } finally {
      await body.return(0); // stops the inflater when this stream is abandoned
    }
    const trailer = await reader.take(8);
    consumed += trailer.length;
    // a missing trailer after a complete deflate body loses nothing: accept it
    if (trailer.length === 8 && ((crc32 && trailer.readUInt32LE(0) !== crc >>> 0) || trailer.readUInt32LE(4) !== size)) {
      throw new InputRejected('bad-compression', `gzip member ${member + 1} fails its CRC/size check: the data is corrupt`);
    }
  }
}

/** Decompressed bytes of a zlib (RFC 1950) stream; whatever follows the stream is ignored. */
export async function* inflateZlib(reader: ByteReader, meter: OutputMeter): AsyncGenerator<Buffer> {
  yield* inflateFrom(reader, zlib.createInflate(ENGINE_OPTIONS), meter, 0, 'zlib');
}

/** Decompressed bytes of a raw deflate stream (a zip member's data). */
export async function* inflateRaw(reader: ByteReader, meter: OutputMeter): AsyncGenerator<Buffer> {
  yield* inflateFrom(reader, zlib.createInflateRaw(ENGINE_OPTIONS), meter, 0, 'deflate');
}

/**
 * Header length in bytes (consumed from `reader`), or why there is no valid gzip header at the front (nothing is
 * consumed then).
 */
async function readGzipHeader(reader: ByteReader): Promise<number | string> {
  for (let want = 512; ; want *= 4) {
    const head = await reader.peek(want);
    const parsed = parseGzipHeader(head);
    if (parsed !== 'need-more') {
      if (typeof parsed === 'number') await reader.take(parsed);
      return parsed;
    }
    if (head.length < want) return head.length === 0 ? 'no data' : 'the header is truncated';
    if (want >= MAX_HEADER_BYTES) return 'the header is longer than 1 MiB';
  }
}

/** RFC 1952 member header: its length, 'need-more' bytes, or what is wrong with it. */
export function parseGzipHeader(b: Buffer): number | 'need-more' | string {
  if (b.length < 10) return b.length >= 2 && (b[0] !== 0x1f || b[1] !== 0x8b) ? 'no gzip magic' : 'need-more';
  if (b[0] !== 0x1f || b[1] !== 0x8b) return 'no gzip magic';
  if (b[2] !== 8) return `unknown compression method ${b[2]}`;
  const flags = b[3]!;
  if (flags & 0xe0) return 'reserved header flags set';
  let at = 10;
  if (flags & FEXTRA) {
    if (b.length < at + 2) return 'need-more';
    at += 2 + b.readUInt16LE(at);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (flags & flag) {
      const nul = b.indexOf(0, at);
      if (nul < 0) return 'need-more';
      at = nul + 1;
    }
  }
  if (flags & FHCRC) at += 2;
  return at > b.length ? 'need-more' : at;
}

/**
 * Streams `engine`'s output while feeding it from `reader` (with backpressure), stops at the end of the compressed
 * stream and gives the input bytes after it back to `reader`. Returns the compressed bytes consumed.
 */
async function* inflateFrom(
  reader: ByteReader,
  engine: zlib.InflateRaw | zlib.Inflate,
  meter: OutputMeter,
  consumedBefore: number,
  format: string,
): AsyncGenerator<Buffer, number> {
  const fed: Buffer[] = [];
  let fedBefore = 0; // input bytes before fed[0]
  let finished = false;
  let stop = false;
  engine.once('end', () => {
    finished = true;
  });
  const pump = (async () => {
    try {
      while (!finished && !stop) {
        const chunk = await reader.read();
        if (chunk === null) {
          engine.end();
          return;
        }
        if (finished || stop) {
          reader.unshift(chunk);
          return;
        }
        fed.push(chunk);
        // forget input the engine has fully consumed
        while (fed.length > 1 && fedBefore + fed[0]!.length <= engine.bytesWritten) fedBefore += fed.shift()!.length;
        if (!engine.write(chunk)) await drained(engine);
      }
    } catch (err) {
      engine.destroy(err as Error);
    }
  })();

  try {
    for await (const out of engine as AsyncIterable<Buffer>) {
      meter.count(out.length, consumedBefore + engine.bytesWritten);
      yield out;
    }
  } catch (err) {
    throw asCompressionError(err, format, meter.out);
  } finally {
    stop = true;
    if (!finished) engine.destroy();
    await pump;
  }

  const consumed = engine.bytesWritten;
  const unconsumed = Buffer.concat(fed).subarray(consumed - fedBefore);
  reader.unshift(unconsumed);
  return consumed;
}

function drained(stream: zlib.InflateRaw | zlib.Inflate): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const event of ['drain', 'end', 'close', 'error']) stream.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'end', 'close', 'error']) stream.on(event, done);
  });
}

/** zlib's errors become bad-compression; limit refusals and read errors of the input pass unchanged. */
function asCompressionError(err: unknown, format: string, producedBytes: number): unknown {
  if (err instanceof InputRejected) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    const why = e.code === 'Z_BUF_ERROR' ? 'it is truncated' : `it is corrupt (${e.message})`;
    const where = producedBytes > 0 ? ` after ${producedBytes} decompressed bytes` : '';
    return new InputRejected('bad-compression', `the ${format} stream cannot be decompressed: ${why}${where}`);
  }
  return err;
}
