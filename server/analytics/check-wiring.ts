/**
 * What `dmarc-lens check --db URL` plugs in (issue 5): the selectors and SPF source IPs seen in the stored
 * reports, and the check history, each over its own connection to the database.
 */
import type { CheckHistory, ReportedPolicySource, SelectorSource } from '../dns/check-types.ts';
import { createStoreSelectorSource } from '../store/analytics-selector-source.ts';
import { createCheckHistoryStore, type CheckHistoryStore } from '../store/check-history-store.ts';
import { openDatabase } from '../store/database.ts';

export async function openSelectorSource(dbUrl: string): Promise<SelectorSource & ReportedPolicySource & { close(): Promise<void> }> {
  const db = await openDatabase(dbUrl);
  return { ...createStoreSelectorSource(db.driver), close: () => db.close() };
}

export async function openCheckHistory(dbUrl: string): Promise<CheckHistoryStore & CheckHistory & { close(): Promise<void> }> {
  const db = await openDatabase(dbUrl);
  return { ...createCheckHistoryStore(db.driver), close: () => db.close() };
}

export const checkCommandDeps = { selectorSource: openSelectorSource, history: openCheckHistory };
