/**
 * Enrichment (reverse DNS, ASN, country) of the stored source IPs, run by the server in the background: once
 * at start, again after the poller stored new reports, and at an interval. Never part of ingest, never in the
 * way of a request; only missing or expired cache entries are looked up.
 */
import { enrichStoredSources } from '../analytics/enrich-stored.ts';
import type { Database } from '../store/database.ts';

export interface BackgroundEnrichment {
  /** asks for a run soon (new reports arrived) */
  trigger(): void;
  stop(): Promise<void>;
}

export function startBackgroundEnrichment(
  db: Database,
  opts: { servers?: string[]; intervalSec?: number; startDelaySec?: number; log: (line: string) => void },
): BackgroundEnrichment {
  const controller = new AbortController();
  let wake: (() => void) | null = null;
  let pending = false;
  const sleep = (seconds: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
      controller.signal.addEventListener('abort', done, { once: true });
    });

  const loop = (async () => {
    await sleep(opts.startDelaySec ?? 5);
    while (!controller.signal.aborted) {
      pending = false;
      try {
        const s = await enrichStoredSources(db, { ...(opts.servers ? { servers: opts.servers } : {}), concurrency: 16, signal: controller.signal });
        if (s.lookedUp > 0) opts.log(`enriched ${s.lookedUp} source IP(s) (${s.fromCache} cached, ${s.errors} without a PTR name)`);
      } catch (err) {
        if (!controller.signal.aborted) opts.log(`enrichment failed: ${(err as Error).message}`);
      }
      if (!pending) await sleep(opts.intervalSec ?? 3600);
    }
  })();

  return {
    trigger() {
      pending = true;
      wake?.();
    },
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
