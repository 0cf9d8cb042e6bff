/**
 * A pull reader over a byte stream that can look ahead (`peek`, for sniffing and headers) and give bytes back
 * (`unshift`, for what a decompressor did not consume). Every layer of unpacking reads through one of these, so
 * a layer never holds more than the chunk it is working on plus what it peeked.
 */
export class ByteReader {
  private readonly pending: Buffer[] = [];
  private readonly source: AsyncIterator<Uint8Array>;
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  static of(bytes: Buffer): ByteReader {
    return new ByteReader(
      (async function* () {
        yield bytes;
      })(),
    );
  }

  /** The next chunk, or null at the end of the stream. */
  async read(): Promise<Buffer | null> {
    const head = this.pending.shift();
    if (head) return head;
    return this.pull();
  }

  /** Puts bytes back in front of the stream. */
  unshift(bytes: Buffer): void {
    if (bytes.length > 0) this.pending.unshift(bytes);
  }

  /** Up to `n` bytes from the front without consuming them (fewer only at the end of the stream). */
  async peek(n: number): Promise<Buffer> {
    let have = this.pending.reduce((sum, b) => sum + b.length, 0);
    while (have < n) {
      const chunk = await this.pull();
      if (!chunk) break;
      this.pending.push(chunk);
      have += chunk.length;
    }
    if (this.pending.length === 1) return this.pending[0]!.subarray(0, n);
    const all = Buffer.concat(this.pending);
    this.pending.length = 0;
    if (all.length > 0) this.pending.push(all);
    return all.subarray(0, n);
  }

  /** Consumes up to `n` bytes (fewer only at the end of the stream). */
  async take(n: number): Promise<Buffer> {
    const head = await this.peek(n);
    const rest = this.pending[0]?.subarray(head.length);
    this.pending.length = 0;
    if (rest && rest.length > 0) this.pending.push(rest);
    return head;
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await this.read();
      if (!chunk) return;
      yield chunk;
    }
  }

  /** The rest of the stream in one buffer; callers rely on the source being capped by a limit. */
  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks()) parts.push(chunk);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Stops the source (a decompressor, a file stream) whether or not it was read to the end. */
  async close(): Promise<void> {
    this.pending.length = 0;
    if (this.ended) return;
    this.ended = true;
    try {
      await this.source.return?.();
    } catch {
      // the stream is being abandoned: an error while tearing it down changes nothing
    }
  }

  private async pull(): Promise<Buffer | null> {
    while (!this.ended) {
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        return null;
      }
      const chunk = next.value;
      if (chunk.length === 0) continue;
      return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    return null;
  }
}
