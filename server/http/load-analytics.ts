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
