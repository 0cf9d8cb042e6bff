/**
 * Ingests many inputs with a few in flight at once, so reading and decompressing the next files overlaps the
 * database writes of the current one (the store serializes the writes themselves). Results are handed back in
 * input order.
 */
import { ingestInput, type IngestEvent, type PipelineOptions } from './pipeline.ts';
import type { InputSource } from './unpack-types.ts';

export const DEFAULT_INGEST_CONCURRENCY = Number(process.env.DMARC_LENS_INGEST_CONCURRENCY) || 8;

export async function ingestMany(
  sources: Iterable<InputSource | Promise<InputSource>>,
  opts: PipelineOptions,
  onInput: (input: InputSource, events: IngestEvent[]) => void,
  concurrency = DEFAULT_INGEST_CONCURRENCY,
): Promise<void> {
  const window: { input: Promise<InputSource>; events: Promise<IngestEvent[]> }[] = [];
  const drainOne = async () => {
    const next = window.shift()!;
    onInput(await next.input, await next.events);
  };
  try {
    for (const source of sources) {
      const input = Promise.resolve(source);
      const events = input.then((s) => ingestInput(s, opts));
      // a fatal error is rethrown in order by drainOne; keep it from being reported as unhandled meanwhile
      events.catch(() => {});
      window.push({ input, events });
      if (window.length >= concurrency) await drainOne();
    }
    while (window.length > 0) await drainOne();
  } finally {
    // after a fatal error, let the inputs still in flight settle before the store is closed
    await Promise.allSettled(window.map((w) => w.events));
  }
}
