/**
 * The members of a zip archive as byte streams. A zip needs random access (its directory is at the end), so the
 * caller hands over the whole archive, already capped by maxInputBytes / maxDecompressedBytes. Each member's
 * content is streamed and counted here: the sizes an archive declares can lie.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { InputRejected } from '../errors.ts';
import { OutputMeter, tooLarge, tooManyMembers, type UnpackBudget } from './byte-cap.ts';
import { inflateRaw } from './unpack-gunzip.ts';
import { ByteReader } from './unpack-reader.ts';

export type ZipItem =
  /** one file of the archive; the caller closes `content` when done with it */
  | { kind: 'member'; name: string; content: ByteReader }
  /** the archive or one member cannot be used; `name` null means the whole archive */
  | { kind: 'rejected'; name: string | null; error: InputRejected };

/**
 * Files of the archive in directory order; folder entries and macOS `__MACOSX/` resource forks are skipped, a
 * member with an empty name is called `#N` (N = its 1-based position in the directory). An archive with more than
 * maxMembers entries is refused as a whole, before any member is read.
 */
export async function* zipMembers(archive: Buffer, budget: UnpackBudget): AsyncGenerator<ZipItem> {
  const { limits } = budget;
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(archive, { lazyEntries: true, decodeStrings: false, validateEntrySizes: false });
  } catch (err) {
    yield { kind: 'rejected', name: null, error: badArchive(err) };
    return;
  }
  if (zip.entryCount > limits.maxMembers) {
    yield { kind: 'rejected', name: null, error: tooManyMembers(`the zip archive has ${zip.entryCount} entries`, limits.maxMembers) };
    return;
  }
  const entries = zip.eachEntry();
  let position = 0;
  let files = 0;
  try {
    for (;;) {
      let next: IteratorResult<yauzl.Entry>;
      try {
        next = await entries.next();
      } catch (err) {
        yield { kind: 'rejected', name: null, error: badArchive(err) };
        return;
      }
      if (next.done) break;
      const entry = next.value;
      position++;
      const name = entryName(entry) || `#${position}`;
      if (name.endsWith('/') || name.startsWith('__MACOSX/')) continue;
      files++;
      const problem = entryProblem(entry, budget);
      if (problem) {
        yield { kind: 'rejected', name, error: problem };
        continue;
      }
      let raw: Readable;
      try {
        raw = await zip.openReadStreamPromise(entry, { decodeFileData: false });
      } catch (err) {
        yield { kind: 'rejected', name, error: badArchive(err) };
        continue;
      }
      yield { kind: 'member', name, content: new ByteReader(memberContent(raw, entry, new OutputMeter(budget, `zip member ${name}`))) };
    }
  } finally {
    await entries.return?.();
    zip.close();
  }
  if (files === 0) yield { kind: 'rejected', name: null, error: new InputRejected('empty', 'the zip archive holds no files') };
}

function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileNameRaw as Buffer | undefined;
  if (!raw || raw.length === 0) return '';
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
}

/** What makes a member unreadable before it is opened, if anything. */
function entryProblem(entry: yauzl.Entry, budget: UnpackBudget): InputRejected | null {
  if (entry.isEncrypted()) return new InputRejected('bad-archive', 'the zip member is encrypted');
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return new InputRejected('bad-archive', `the zip member uses compression method ${entry.compressionMethod} (only stored and deflate are supported)`);
  }
  const max = budget.limits.maxDecompressedBytes;
  if (entry.uncompressedSize > max) return tooLarge(`the zip member (declared ${entry.uncompressedSize} bytes)`, 'maxDecompressedBytes', max);
  return null;
}

/**
 * The member's bytes. The archive's data is read raw and inflated here, so the meter sees the compressed bytes
 * consumed so far (the ratio check must not trust the declared sizes).
 */
function memberContent(raw: Readable, entry: yauzl.Entry, meter: OutputMeter): AsyncGenerator<Buffer> {
  const data = new ByteReader(rawData(raw));
  return entry.compressionMethod === 8 ? asArchiveErrors(inflateRaw(data, meter), data) : asArchiveErrors(countStored(data, meter), data);
}

async function* rawData(raw: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of raw as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    throw badArchive(err);
  } finally {
    raw.destroy();
  }
}

async function* countStored(data: ByteReader, meter: OutputMeter): AsyncGenerator<Buffer> {
  for await (const chunk of data.chunks()) {
    meter.count(chunk.length, meter.out + chunk.length);
    yield chunk;
  }
}

/** Corrupt member data is a broken archive; the raw stream is closed when the member is done or abandoned. */
async function* asArchiveErrors(content: AsyncGenerator<Buffer>, data: ByteReader): AsyncGenerator<Buffer> {
  try {
    yield* content;
  } catch (err) {
    if (err instanceof InputRejected && err.code === 'bad-compression') throw new InputRejected('bad-archive', `a zip member ${err.detail.replace(/^the /, '')}`);
    throw err;
  } finally {
    await data.close();
  }
}

function badArchive(err: unknown): InputRejected {
  const message = err instanceof Error ? err.message : String(err);
  return new InputRejected('bad-archive', `the zip archive cannot be read: ${message}`);
}
