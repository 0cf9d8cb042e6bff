/** The analytics of the web app: createAnalytics over the database, with the config file's `senders` section. */
import { createAnalytics } from '../analytics/analytics.ts';
import type { Analytics } from '../analytics/analytics-types.ts';
import type { SenderConfig } from '../enrich/known-senders.ts';
import type { Database } from '../store/database.ts';

export function webAnalytics(db: Database, configFile: Record<string, unknown> = {}): Analytics {
  const senders = configFile.senders;
  return createAnalytics(db, senders && typeof senders === 'object' && !Array.isArray(senders) ? { senders: senders as SenderConfig } : {});
}
