/**
 * A tiny concurrency limiter: at most `max` tasks run at once, the rest wait in FIFO order.
 * `active` and `peak` are exposed so callers (and tests) can see the bound held.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
  /** the highest number of tasks that ran at the same time */
  readonly peak: number;
}

export function createLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, got ${max}`);
  let active = 0;
  let peak = 0;
  const queue: (() => void)[] = [];

  // A finishing task hands its slot straight to the next waiter (active stays the same), so a caller
  // arriving between the hand-over and the waiter's resumption cannot take the slot as well.
  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    get peak() {
      return peak;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active >= max) {
        await new Promise<void>((resolve) => queue.push(resolve));
      } else {
        active++;
        if (active > peak) peak = active;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
