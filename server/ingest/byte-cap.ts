/**
 * Byte counting for unpacking: the input cap, the per-stream decompression meter (size, ratio) and the per-input
 * budget shared by every member. A limit that is hit throws `InputRejected('too-large', …)` whose detail names the
 * limit and the setting that raises it.
 */
import { InputRejected } from '../errors.ts';
import type { Limits } from './limits.ts';

/** What one input may still decompress, shared by all its members and layers. */
export interface UnpackBudget {
  readonly limits: Limits;
  /** decompressed bytes produced so far by every layer of this input */
  totalOut: number;
  /**
   * Set once a compression bomb was seen (ratio or total limit): nothing more is taken from this input after the
   * refusal, so a malicious input costs at most one refused stream's worth of work.
   */
  exhausted: boolean;
}

export function newBudget(limits: Limits): UnpackBudget {
  return { limits, totalOut: 0, exhausted: false };
}

/** The environment variable that sets a limit, e.g. maxInputBytes → DMARC_LENS_MAX_INPUT_BYTES. */
export function limitSetting(name: keyof Limits): string {
  return 'DMARC_LENS_' + name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

/** `too-large` for a byte limit: says what was too large, the limit and how to raise it. */
export function tooLarge(what: string, name: keyof Limits, limit: number): InputRejected {
  return new InputRejected('too-large', `${what} is larger than ${formatBytes(limit)} (${name}; raise ${limitSetting(name)} to accept it)`);
}

export function tooManyMembers(what: string, limit: number): InputRejected {
  return new InputRejected('too-many-members', `${what} (maxMembers = ${limit}; raise ${limitSetting('maxMembers')} to accept it)`);
}

/** Passes the raw input through, refusing it once more than maxInputBytes have been read. */
export async function* capInput(source: AsyncIterable<Uint8Array>, limits: Limits): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > limits.maxInputBytes) throw tooLarge('the input', 'maxInputBytes', limits.maxInputBytes);
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/**
 * Counts what one compressed stream (a gzip or zlib layer, a zip entry) produces. `count` throws before the
 * caller hands on a chunk that breaks a limit: maxDecompressedBytes for this stream, maxTotalDecompressedBytes for
 * the whole input, and maxCompressionRatio once ratioCheckAfterBytes have come out.
 */
export class OutputMeter {
  out = 0;
  private readonly budget: UnpackBudget;
  private readonly what: string;

  constructor(budget: UnpackBudget, what: string) {
    this.budget = budget;
    this.what = what;
  }

  /** `compressedIn`: compressed bytes consumed so far by this stream (0 when unknown). */
  count(bytes: number, compressedIn: number): void {
    const { limits } = this.budget;
    this.out += bytes;
    this.budget.totalOut += bytes;
    if (this.budget.totalOut > limits.maxTotalDecompressedBytes) {
      this.budget.exhausted = true;
      throw tooLarge('everything decompressed from this input', 'maxTotalDecompressedBytes', limits.maxTotalDecompressedBytes);
    }
    if (this.out > limits.maxDecompressedBytes) {
      throw tooLarge(`the decompressed ${this.what}`, 'maxDecompressedBytes', limits.maxDecompressedBytes);
    }
    if (this.out > limits.ratioCheckAfterBytes && compressedIn > 0 && this.out / compressedIn > limits.maxCompressionRatio) {
      this.budget.exhausted = true;
      const ratio = Math.floor(this.out / compressedIn);
      throw new InputRejected(
        'too-large',
        `${this.what} expands more than ${limits.maxCompressionRatio}:1 (${formatBytes(compressedIn)} gave ${this.out} bytes, ${ratio}:1 so far): ` +
          `a compression bomb? (maxCompressionRatio; raise ${limitSetting('maxCompressionRatio')} to accept it)`,
      );
    }
  }
}
