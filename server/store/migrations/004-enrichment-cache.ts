import type { Migration } from './migration.ts';

/**
 * What enrichment learned about each source IP (server/enrich/enrichment.ts `Enrichment`, JSON), until
 * `expires_at`. Expired rows are still shown by the views (better an old PTR name than none); `dmarc-lens enrich`
 * looks them up again.
 */
export const enrichmentCache: Migration = {
  version: 4,
  name: 'enrichment-cache',
  sql: (t) => `
CREATE TABLE enrichment_cache (
  ip TEXT NOT NULL PRIMARY KEY,
  data ${t.json} NOT NULL,
  enriched_at ${t.bigint} NOT NULL,
  expires_at ${t.bigint} NOT NULL
);
`,
};
