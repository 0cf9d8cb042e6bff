import type { Migration } from './migration.ts';

/** The operator's "approve this source" entries (merged with the config file's senders.approved list). */
export const approvedSources: Migration = {
  version: 5,
  name: 'approved-sources',
  sql: (t) => `
CREATE TABLE approved_sources (
  id ${t.id},
  ip TEXT,
  cidr TEXT,
  base_domain TEXT,
  service TEXT,
  note TEXT,
  created_at ${t.bigint} NOT NULL,
  key_entry TEXT NOT NULL
);
CREATE UNIQUE INDEX approved_sources_entry ON approved_sources (key_entry);
`,
};
