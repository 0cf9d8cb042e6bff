import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../server/enrich/limiter.ts';

describe('createLimiter', () => {
  it('never runs more than max tasks at once, even when callers arrive during a hand-over', async () => {
    const limiter = createLimiter(3);
    let running = 0;
    let peak = 0;
    const task = async (i: number) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, i % 3));
      running--;
      // a new caller arriving right as a slot is handed over
      if (i < 20) void limiter.run(() => task(100 + i));
      return i;
    };
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => limiter.run(() => task(i))));
    await new Promise((r) => setTimeout(r, 50));
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(limiter.peak).toBe(3);
    expect(limiter.active).toBe(0);
    expect(limiter.waiting).toBe(0);
  });

  it('releases the slot when a task throws', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 7)).toBe(7);
    expect(limiter.active).toBe(0);
  });

  it('rejects a bad bound', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
    expect(() => createLimiter(1.5)).toThrow(RangeError);
  });
});
