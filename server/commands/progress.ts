/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
export class Progress {
  private readonly tty: boolean;
  private last = 0;
  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY) && total > 1;
  }

  update(done: number, note: string): void {
    if (!this.tty) return;
    const now = Date.now();
    if (done < this.total && now - this.last < 100) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const cols = this.stream.columns ?? 100;
    const line = `${this.label} [${bar}] ${done}/${this.total} ${note}`;
    this.stream.write('\r' + line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length)) + '\x1b[K');
  }

  done(): void {
    if (this.tty) this.stream.write('\r\x1b[K');
  }
}
