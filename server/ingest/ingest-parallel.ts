/**
 * Ingest of many files on every core: worker threads (ingest-worker.ts) each read, unpack, parse and store
 * files through the ordinary pipeline with a connection of their own, while this thread hands out the files and
 * reports their events in input order, as ingestMany does. Parsing is most of the work of a batch of small
 * reports, and one JavaScript thread uses one core.
 *
 * SQLite: one writer at a time; the threads take turns through a shared lock (sqlite-driver.ts) and read and
 * parse their next files meanwhile (a report's first records are parsed before the lock is taken). PostgreSQL:
 * the threads write side by side.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FatalError } from '../errors.ts';
import { newThreadWriteLock } from '../store/sqlite-driver.ts';
import type { Limits } from './limits.ts';
import type { IngestEvent } from './pipeline.ts';

export interface WorkerData {
  dbUrl: string;
  limits: Limits;
  redactFailures: boolean;
  domains: string[] | undefined;
  lock: Int32Array;
}

export type ToWorker = { kind: 'input'; index: number; path: string } | { kind: 'close' };
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'done'; index: number; events: IngestEvent[] }
  | { kind: 'fatal'; code: string; message: string }
  | { kind: 'closed' };

export interface ParallelOptions {
  dbUrl: string;
  limits: Limits;
  redactFailures?: boolean | undefined;
  domains?: string[] | undefined;
  /** worker threads (default: DMARC_LENS_INGEST_WORKERS, else the number of cores, at most 4) */
  workers?: number;
  /** files each worker has in flight (reading ahead while it waits for the write lock) */
  window?: number;
}

/** How many worker threads an ingest of `files` files should use: 0 means ingest in this thread. */
export function ingestWorkerCount(files: number, env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.DMARC_LENS_INGEST_WORKERS;
  const wanted = configured !== undefined && configured !== '' ? Math.max(0, Math.floor(Number(configured)) || 0) : Math.min(availableParallelism(), 4);
  // threads cost a start-up and memory each: worth it for many files only
  return wanted >= 2 && files >= 4 * wanted ? wanted : 0;
}

export async function ingestFilesInParallel(
  paths: readonly string[],
  opts: ParallelOptions,
  onInput: (path: string, events: IngestEvent[]) => void,
): Promise<void> {
  const count = Math.max(1, Math.min(opts.workers ?? ingestWorkerCount(paths.length), paths.length));
  const window = opts.window ?? 4;
  const data: WorkerData = {
    dbUrl: opts.dbUrl,
    limits: opts.limits,
    redactFailures: opts.redactFailures ?? false,
    domains: opts.domains,
    lock: newThreadWriteLock(),
  };
  const workers: Worker[] = [];
  const results = new Map<number, IngestEvent[]>();
  let nextToSend = 0;
  let nextToReport = 0;
  let closed = 0;
  let failed: Error | null = null;

  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      if (failed) return;
      failed = err;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    const closing = new Set<Worker>();
    /** sends the worker the next file, or (once) the request to close when there is none left */
    const feed = (worker: Worker) => {
      if (nextToSend < paths.length) {
        worker.postMessage({ kind: 'input', index: nextToSend, path: paths[nextToSend]! } satisfies ToWorker);
        nextToSend++;
      } else if (!closing.has(worker)) {
        closing.add(worker);
        worker.postMessage({ kind: 'close' } satisfies ToWorker);
      }
    };
    for (let i = 0; i < count; i++) {
      const worker = startWorker(data);
      workers.push(worker);
      worker.on('message', (message: FromWorker) => {
        if (failed) return;
        switch (message.kind) {
          case 'ready':
            for (let k = 0; k < window && nextToSend < paths.length; k++) feed(worker);
            if (nextToSend >= paths.length) feed(worker);
            return;
          case 'done':
            results.set(message.index, message.events);
            while (results.has(nextToReport)) {
              const events = results.get(nextToReport)!;
              results.delete(nextToReport);
              try {
                onInput(paths[nextToReport]!, events);
              } catch (err) {
                fail(err as Error);
                return;
              }
              nextToReport++;
            }
            feed(worker);
            return;
          case 'fatal':
            fail(message.code === 'internal' ? new Error(message.message) : new FatalError(message.code, message.message));
            return;
          case 'closed':
            if (++closed === count) {
              if (nextToReport === paths.length) resolve();
              else fail(new Error(`parallel ingest ended with ${paths.length - nextToReport} input(s) unaccounted for`));
            }
            return;
        }
      });
      worker.on('error', (err) => fail(new FatalError('ingest-worker-failed', `an ingest thread failed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!failed && closed < count && code !== 0) fail(new FatalError('ingest-worker-failed', `an ingest thread exited with code ${code}`));
      });
    }
  });
}

/**
 * The worker runs the bundle's ingest-worker.mjs when this code is the bundle (dist/server/), else the
 * TypeScript source through tsx's loader, registered in the worker (a loader registered in this thread does
 * not reach worker threads).
 */
function startWorker(data: WorkerData): Worker {
  if (import.meta.url.endsWith('.mjs')) {
    // the bundle's entry sits at its root; this code is in the root or in its chunks/ folder
    const here = dirname(fileURLToPath(import.meta.url));
    const entry = [join(here, 'ingest-worker.mjs'), join(here, '..', 'ingest-worker.mjs')].find((f) => existsSync(f));
    if (!entry) throw new FatalError('ingest-worker-failed', `the bundle in ${here} has no ingest-worker.mjs (run npm run build)`);
    return new Worker(entry, { workerData: data, execArgv: workerExecArgv() });
  }
  const source = new URL('./ingest-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { eval: true, workerData: data, execArgv: workerExecArgv() });
}

/** this process's Node options, less those a worker refuses (e.g. --input-type of `node -e`) */
function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type'));
}
