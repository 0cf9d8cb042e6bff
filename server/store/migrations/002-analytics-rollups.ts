import { rebuildRollups } from '../analytics-rollup-rebuild.ts';
import type { Migration } from './migration.ts';

/**
 * Daily rollups of the aggregate records, maintained at ingest (server/store/analytics-rollup.ts), so the
 * analytics views read pre-aggregated rows instead of raw records. The primary keys start with
 * (domain, day): every view filters by domain and date range. rollup_auth holds each distinct combination of
 * authentication facts once (keyed by a hash of its values, also kept per record in aggregate_records.auth_key),
 * so the per-day source rows stay narrow. rollup_sources rows are shared by all reports (upserted: one row per
 * source per day); the small domain and selector tables get rows per report (report_id), so concurrent writers
 * (PostgreSQL) never wait for each other on those most shared rows — the views sum them.
 * Text values are length-capped when written; flags are 0/1 integers. Reports stored before this migration
 * are rolled up by `run`.
 */
export const analyticsRollups: Migration = {
  version: 2,
  name: 'analytics-rollups',
  sql: (t) => `
ALTER TABLE aggregate_records ADD COLUMN auth_key ${t.bigint};

CREATE TABLE rollup_auth (
  domain TEXT NOT NULL,
  auth_key ${t.bigint} NOT NULL,
  header_from TEXT NOT NULL,
  dkim_domain TEXT NOT NULL,
  dkim_selector TEXT NOT NULL,
  dkim_result TEXT NOT NULL,
  dkim_aligned INTEGER NOT NULL,
  spf_aligned INTEGER NOT NULL,
  forwarded INTEGER NOT NULL,
  arc INTEGER NOT NULL,
  override_reasons TEXT NOT NULL,
  dkim_pass_domains TEXT NOT NULL,
  PRIMARY KEY (domain, auth_key)
)${t.clusteredSuffix};

CREATE TABLE rollup_sources (
  domain TEXT NOT NULL,
  day ${t.bigint} NOT NULL,
  source_ip TEXT NOT NULL,
  disposition TEXT NOT NULL,
  auth_key ${t.bigint} NOT NULL,
  messages ${t.bigint} NOT NULL,
  PRIMARY KEY (domain, day, source_ip, disposition, auth_key)
)${t.clusteredSuffix};

CREATE TABLE rollup_selectors (
  domain TEXT NOT NULL,
  day ${t.bigint} NOT NULL,
  dkim_domain TEXT NOT NULL,
  selector TEXT NOT NULL,
  result TEXT NOT NULL,
  messages ${t.bigint} NOT NULL,
  first_seen ${t.bigint} NOT NULL,
  last_seen ${t.bigint} NOT NULL,
  report_id ${t.bigint} NOT NULL,
  PRIMARY KEY (domain, day, dkim_domain, selector, result, report_id)
)${t.clusteredSuffix};

CREATE TABLE rollup_domains (
  domain TEXT NOT NULL,
  day ${t.bigint} NOT NULL,
  disposition TEXT NOT NULL,
  dkim_aligned INTEGER NOT NULL,
  spf_aligned INTEGER NOT NULL,
  messages ${t.bigint} NOT NULL,
  report_id ${t.bigint} NOT NULL,
  PRIMARY KEY (domain, day, disposition, dkim_aligned, spf_aligned, report_id)
)${t.clusteredSuffix};
`,
  run: async (tx, engine) => {
    await rebuildRollups(tx, engine.caps);
  },
};
