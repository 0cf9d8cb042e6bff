import type { Migration } from './migration.ts';

/**
 * The report tables. Conventions:
 *  - times are epoch seconds (bigint); JSON arrays/objects are text;
 *  - key_* columns hold the dedup form of a value (trimmed, inner whitespace collapsed, lower-cased; '' for null),
 *    computed by report-keys.ts, so case-insensitive matching behaves the same on both engines;
 *  - records are clustered by (report_id, ordinal): listing a report and joining records to their report (for
 *    per-domain / per-date / per-source aggregation) follow that key;
 *  - aggregate_records.report_id has no FOREIGN KEY on purpose: PostgreSQL checks one with a trigger per row, which
 *    halved the insert rate of large reports. Records are only written in the transaction that writes their
 *    report; whatever deletes reports (retention) must delete their records in the same transaction.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  sql: (t) => `
CREATE TABLE aggregate_reports (
  id ${t.id},
  xml_schema TEXT NOT NULL,
  org_name TEXT,
  org_email TEXT,
  org_extra_contact_info TEXT,
  report_id TEXT NOT NULL,
  period_begin ${t.bigint} NOT NULL,
  period_end ${t.bigint} NOT NULL,
  errors ${t.json} NOT NULL,
  generator TEXT,
  policy_domain TEXT,
  policy_adkim TEXT,
  policy_aspf TEXT,
  policy_p TEXT,
  policy_sp TEXT,
  policy_np TEXT,
  policy_pct ${t.bigint},
  policy_fo TEXT,
  policy_testing TEXT,
  policy_discovery_method TEXT,
  record_count ${t.bigint} NOT NULL DEFAULT 0,
  message_count ${t.bigint} NOT NULL DEFAULT 0,
  origin_input TEXT NOT NULL,
  origin_member TEXT,
  received_at ${t.bigint} NOT NULL,
  key_org TEXT NOT NULL,
  key_report_id TEXT NOT NULL,
  key_domain TEXT NOT NULL
);
CREATE UNIQUE INDEX aggregate_reports_dedup ON aggregate_reports (key_org, key_report_id, key_domain, period_begin, period_end);
CREATE INDEX aggregate_reports_period ON aggregate_reports (period_begin, id);
CREATE INDEX aggregate_reports_domain ON aggregate_reports (key_domain, period_begin);

CREATE TABLE aggregate_records (
  report_id ${t.bigint} NOT NULL,
  ordinal INTEGER NOT NULL,
  source_ip TEXT,
  message_count ${t.bigint} NOT NULL,
  disposition TEXT,
  dkim_eval TEXT,
  spf_eval TEXT,
  header_from TEXT,
  envelope_from TEXT,
  envelope_to TEXT,
  override_reasons ${t.json} NOT NULL,
  dkim ${t.json} NOT NULL,
  spf ${t.json} NOT NULL,
  problems ${t.json} NOT NULL,
  PRIMARY KEY (report_id, ordinal)
)${t.clusteredSuffix};

CREATE TABLE failure_reports (
  id ${t.id},
  dedup_key TEXT NOT NULL,
  feedback_type TEXT NOT NULL,
  auth_failure TEXT,
  arrival_date ${t.bigint},
  source_ip TEXT,
  reported_domain TEXT,
  original_mail_from TEXT,
  original_rcpt_to TEXT,
  delivery_result TEXT,
  authentication_results TEXT,
  dkim_domain TEXT,
  dkim_selector TEXT,
  dkim_identity TEXT,
  spf_dns TEXT,
  original_from TEXT,
  original_to TEXT,
  original_subject TEXT,
  original_message_id TEXT,
  original_date TEXT,
  reporter_email TEXT,
  reporter_org TEXT,
  user_agent TEXT,
  reporting_mta TEXT,
  plain_text ${t.bool} NOT NULL,
  fields ${t.json} NOT NULL,
  original_headers TEXT,
  origin_input TEXT NOT NULL,
  origin_member TEXT,
  received_at ${t.bigint} NOT NULL,
  -- arrival_date, or received_at when the report gave none: what listing orders and filters by
  event_at ${t.bigint} NOT NULL,
  key_domain TEXT NOT NULL
);
CREATE UNIQUE INDEX failure_reports_dedup ON failure_reports (dedup_key);
CREATE INDEX failure_reports_event ON failure_reports (event_at, id);
CREATE INDEX failure_reports_domain ON failure_reports (key_domain, event_at);

CREATE TABLE tls_reports (
  id ${t.id},
  org_name TEXT NOT NULL,
  report_id TEXT NOT NULL,
  contact_info TEXT,
  period_begin ${t.bigint} NOT NULL,
  period_end ${t.bigint} NOT NULL,
  origin_input TEXT NOT NULL,
  origin_member TEXT,
  received_at ${t.bigint} NOT NULL,
  key_org TEXT NOT NULL,
  key_report_id TEXT NOT NULL
);
CREATE UNIQUE INDEX tls_reports_dedup ON tls_reports (key_org, key_report_id);
CREATE INDEX tls_reports_period ON tls_reports (period_begin, id);

CREATE TABLE tls_policies (
  id ${t.id},
  report_id ${t.bigint} NOT NULL REFERENCES tls_reports (id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  policy_type TEXT NOT NULL,
  policy_string ${t.json} NOT NULL,
  policy_domain TEXT NOT NULL,
  mx_host ${t.json} NOT NULL,
  successful_sessions ${t.bigint} NOT NULL,
  failed_sessions ${t.bigint} NOT NULL,
  key_domain TEXT NOT NULL
);
CREATE UNIQUE INDEX tls_policies_report ON tls_policies (report_id, ordinal);
CREATE INDEX tls_policies_domain ON tls_policies (key_domain, report_id);

CREATE TABLE tls_failure_details (
  policy_id ${t.bigint} NOT NULL REFERENCES tls_policies (id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  result_type TEXT NOT NULL,
  sending_mta_ip TEXT,
  receiving_mx_hostname TEXT,
  receiving_mx_helo TEXT,
  receiving_ip TEXT,
  failed_session_count ${t.bigint} NOT NULL,
  additional_information TEXT,
  failure_reason_code TEXT,
  PRIMARY KEY (policy_id, ordinal)
)${t.clusteredSuffix};

CREATE TABLE quarantine (
  id ${t.id},
  origin_input TEXT NOT NULL,
  origin_member TEXT,
  report_type TEXT,
  code TEXT NOT NULL,
  detail TEXT NOT NULL,
  bytes ${t.bytes} NOT NULL,
  sha256 TEXT NOT NULL,
  size ${t.bigint} NOT NULL,
  truncated ${t.bool} NOT NULL,
  received_at ${t.bigint} NOT NULL,
  resolved_at ${t.bigint}
);
CREATE UNIQUE INDEX quarantine_dedup ON quarantine (sha256, (coalesce(origin_member, '')), code);
CREATE INDEX quarantine_received ON quarantine (received_at, id);
`,
};
