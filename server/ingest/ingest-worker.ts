/**
 * One thread of the parallel ingest (ingest-parallel.ts): opens its own connection to the database, then runs
 * each file it is sent through the ordinary pipeline and answers with the file's events. SQLite writers of all
 * threads take turns through the shared write lock; PostgreSQL ones run side by side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FatalError } from '../errors.ts';
import { openStore } from '../store/open-store.ts';
import { useThreadWriteLock } from '../store/sqlite-driver.ts';
import { fileSource } from './input-sources.ts';
import { ingestInput, type PipelineOptions } from './pipeline.ts';
import type { ToWorker, WorkerData, FromWorker } from './ingest-parallel.ts';

const port = parentPort;
if (!port) throw new Error('ingest-worker.ts runs as a worker thread of ingest-parallel.ts');
const data = workerData as WorkerData;
const post = (message: FromWorker) => port.postMessage(message);

function fatal(err: unknown): FromWorker {
  if (err instanceof FatalError) return { kind: 'fatal', code: err.code, message: err.message };
  return { kind: 'fatal', code: 'internal', message: (err as Error)?.stack ?? String(err) };
}

useThreadWriteLock(data.lock);
let store: Awaited<ReturnType<typeof openStore>>;
try {
  store = await openStore(data.dbUrl);
} catch (err) {
  post(fatal(err));
  throw err;
}
const opts: PipelineOptions = { store, limits: data.limits, redactFailures: data.redactFailures, ...(data.domains ? { domains: data.domains } : {}) };
let running = 0;
let closing = false;

let finished = false;
async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  await store.close();
  post({ kind: 'closed' });
  port!.close();
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'close') {
    closing = true;
    if (running === 0) void finish();
    return;
  }
  running++;
  ingestInput(fileSource(message.path), opts).then(
    (events) => post({ kind: 'done', index: message.index, events }),
    (err: unknown) => post(fatal(err)),
  ).finally(() => {
    running--;
    if (closing && running === 0) void finish();
  });
});
post({ kind: 'ready' });
