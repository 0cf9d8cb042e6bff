/**
 * `dmarc-lens demo`: the README's first command. Loads the bundled sample reports into a fresh SQLite database (a
 * temporary directory, removed on exit, or --save PATH) and serves the web app on localhost. No setup, no
 * network: nothing is polled, and DNS checks on the Domains page simply report what they cannot reach.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { FatalError } from '../errors.ts';
import { expandPaths, fileSource } from '../ingest/input-sources.ts';
import { ingestInput } from '../ingest/pipeline.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { addToSummary, emptySummary, formatSummary, type IngestSummary } from './ingest.ts';
import { parsePort, startWebServer, untilSignal } from './serve.ts';
import { projectPath } from '../project-root.ts';

export const SAMPLES_DIR = projectPath('samples');
const SAMPLE_KINDS = ['aggregate', 'forensic', 'smtp_tls'];

/** Ingests the bundled samples (aggregate, failure and TLS reports, and a few broken files for the quarantine). */
export async function loadSamples(db: Database, limits = loadConfig({}).limits, dir = SAMPLES_DIR): Promise<IngestSummary> {
  const summary = emptySummary();
  for await (const path of expandPaths(SAMPLE_KINDS.map((k) => join(dir, k)))) {
    const events = await ingestInput(fileSource(path), { store: db.reports, limits });
    summary.inputs++;
    events.forEach((e) => addToSummary(summary, e));
  }
  return summary;
}

interface DemoFlags {
  host: string;
  port: string;
  save?: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('load the bundled sample reports into a fresh database and open the web app on localhost (no setup, no network)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (a free one is picked when it is taken)', '8080')
    .option('--save <file>', 'keep the demo database in this new SQLite file instead of a temporary one')
    .action(async (flags: DemoFlags) => {
      const log = (line: string) => process.stderr.write(`dmarc-lens demo: ${line}\n`);
      let dir: string | null = null;
      let file: string;
      if (flags.save) {
        file = resolve(flags.save);
        if (existsSync(file)) throw new FatalError('demo-file-exists', `${file} exists already; the demo loads a fresh database (choose another --save file)`);
      } else {
        dir = mkdtempSync(join(tmpdir(), 'dmarc-lens-demo-'));
        file = join(dir, 'demo.db');
      }
      const config = { ...loadConfig({ db: `sqlite:${file}` }, {}), db: `sqlite:${file}` };
      const db = await openDatabase(config.db);
      try {
        log(`loading the sample reports into ${file} …`);
        process.stderr.write(formatSummary(await loadSamples(db, config.limits)));
        const start = (port: number) =>
          startWebServer({ db, config, host: flags.host, port, poll: false, enrich: false, dnsTimeoutMs: 1500, env: {}, log });
        const port = parsePort(flags.port);
        const server = await start(port).catch(async (err: unknown) => {
          if (!(err instanceof FatalError && err.code === 'listen-failed') || port === 0) throw err;
          log(`port ${port} is taken; using a free one`);
          return start(0);
        });
        process.stdout.write(`\ndmarc-lens demo is running at ${server.url}\nOpen it in your browser; press Ctrl+C to stop${dir ? ' (the demo database is deleted)' : ''}.\n`);
        await untilSignal(log);
        await server.close();
      } finally {
        await db.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
}
