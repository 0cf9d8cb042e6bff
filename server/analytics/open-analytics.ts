/**
 * For CLI commands: the config (flags / env / file), the database, and the analytics over it, closed afterwards.
 */
import { loadConfig, type Config, type ConfigFlags } from '../config.ts';
import { validateSenderConfig, type SenderConfig } from '../enrich/known-senders.ts';
import { FatalError } from '../errors.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { createAnalytics, type AnalyticsDeps, type StoreAnalytics } from './analytics.ts';

/** The config file's `senders` section, checked; every problem listed at once. */
export function senderConfigOf(config: Pick<Config, 'file'>): SenderConfig {
  const { config: senders, problems } = validateSenderConfig(config.file.senders);
  if (problems.length > 0) throw new FatalError('bad-config', `configuration problems:\n  - ${problems.join('\n  - ')}`);
  return senders;
}

export async function withAnalytics<T>(
  flags: ConfigFlags,
  fn: (analytics: StoreAnalytics, db: Database, config: Config) => Promise<T>,
  deps: Omit<AnalyticsDeps, 'senders'> = {},
): Promise<T> {
  const config = loadConfig(flags);
  const senders = senderConfigOf(config);
  const db = await openDatabase(config.db);
  try {
    return await fn(createAnalytics(db, { ...deps, senders }), db, config);
  } finally {
    await db.close();
  }
}
