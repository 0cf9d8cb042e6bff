import type { Migration } from './migration.ts';

/**
 * DNS check results per domain. One row per period during which the result stayed the same (by fingerprint):
 * a check equal to the newest row only moves its last_checked_at, a different one starts a new row, so
 * first_checked_at of each row is when the records changed.
 */
export const checkHistory: Migration = {
  version: 6,
  name: 'check-history',
  sql: (t) => `
CREATE TABLE dns_check_history (
  id ${t.id},
  key_domain TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  result ${t.json} NOT NULL,
  first_checked_at ${t.bigint} NOT NULL,
  last_checked_at ${t.bigint} NOT NULL,
  checks ${t.bigint} NOT NULL
);
CREATE INDEX dns_check_history_domain ON dns_check_history (key_domain, id);
`,
};
