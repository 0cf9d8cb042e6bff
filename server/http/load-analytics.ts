/**
 * The analytics of the web app: createAnalytics over the database, with the config file's `senders` section
 * validated and normalized exactly as the CLI does (senderConfigOf): a malformed section stops the server with
 * the list of problems instead of matching differently from `dmarc-lens export sources`.
 */
import { createAnalytics } from '../analytics/analytics.ts';
import type { Analytics } from '../analytics/analytics-types.ts';
import { senderConfigOf } from '../analytics/open-analytics.ts';
import type { Database } from '../store/database.ts';

export function webAnalytics(db: Database, configFile: Record<string, unknown> = {}): Analytics {
  return createAnalytics(db, { senders: senderConfigOf({ file: configFile }) });
}

/**
 * Starts loading the analytics' in-memory index in the background (call it once the server listens), so the
 * first Overview or Sources request does not wait seconds for it. A failure is logged, never fatal: the next
 * request retries the load. The promise settles when the load ends and never rejects.
 */
export function warmAnalytics(analytics: Analytics | null, log: (line: string) => void): Promise<void> {
  if (!analytics?.warm) return Promise.resolve();
  const started = Date.now();
  return analytics.warm().then(
    () => log(`analytics index loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`),
    (err: unknown) => log(`loading the analytics index failed (the next request retries): ${err instanceof Error ? err.message : String(err)}`),
  );
}
