import type { Migration } from './migration.ts';

/** The receiving server's verdict on each report mail (Origin.mailAuth, JSON; null for files and old rows). */
export const mailAuth: Migration = {
  version: 3,
  name: 'mail-auth',
  sql: (t) => `
ALTER TABLE aggregate_reports ADD COLUMN mail_auth ${t.json};
ALTER TABLE failure_reports ADD COLUMN mail_auth ${t.json};
ALTER TABLE tls_reports ADD COLUMN mail_auth ${t.json};
ALTER TABLE quarantine ADD COLUMN mail_auth ${t.json};
`,
};
