/**
 * Recomputing the rollups from the stored records: the backfill of migration 002 for reports stored before the
 * rollups existed, also usable after a change of the rollup rules.
 */
import type { AggregateRecord } from '../domain/report-types.ts';
import { forgetKnownFacts, ReportRollup, type RecordJson } from './analytics-rollup.ts';
import type { Capabilities, SqlRunner } from './driver.ts';

const REPORT_PAGE = 200;
const RECORD_PAGE = 5000;

/**
 * Recomputes every rollup from the stored records (the backfill of migration 002; also usable after a change
 * of the rollup rules): sets each record's auth_key, then rolls each report up as ingest does. Runs inside the
 * caller's transaction; memory is bounded by one page of records and one report's distinct facts.
 */
export async function rebuildRollups(tx: SqlRunner, caps: Capabilities): Promise<{ reports: number }> {
  forgetKnownFacts();
  await tx.exec('DELETE FROM rollup_sources; DELETE FROM rollup_selectors; DELETE FROM rollup_domains; DELETE FROM rollup_auth;');
  let lastId = 0;
  let reports = 0;
  for (;;) {
    const page = await tx.query(
      `SELECT id, period_begin, period_end, policy_domain, policy_adkim, policy_aspf FROM aggregate_reports WHERE id > ? ORDER BY id LIMIT ${REPORT_PAGE}`,
      [lastId],
    );
    for (const row of page) {
      lastId = Number(row.id);
      const rollup = new ReportRollup({
        begin: Number(row.period_begin),
        end: Number(row.period_end),
        policy: { domain: nullableText(row.policy_domain), adkim: nullableText(row.policy_adkim), aspf: nullableText(row.policy_aspf) },
      });
      let lastOrdinal = -1;
      for (;;) {
        const records = await tx.query(
          `SELECT ordinal, source_ip, message_count, disposition, dkim_eval, spf_eval, header_from, envelope_from, override_reasons, dkim, spf
           FROM aggregate_records WHERE report_id = ? AND ordinal > ? ORDER BY ordinal LIMIT ${RECORD_PAGE}`,
          [lastId, lastOrdinal],
        );
        for (const rec of records) {
          lastOrdinal = Number(rec.ordinal);
          const json = { overrideReasons: String(rec.override_reasons), dkim: String(rec.dkim), spf: String(rec.spf) };
          const key = rollup.add(storedRecord(rec, json), json);
          await tx.query('UPDATE aggregate_records SET auth_key = ? WHERE report_id = ? AND ordinal = ?', [key, lastId, lastOrdinal]);
        }
        if (records.length < RECORD_PAGE) break;
      }
      await rollup.write(tx, { caps }, lastId);
      reports++;
    }
    if (page.length < REPORT_PAGE) return { reports };
  }
}

function nullableText(v: unknown): string | null {
  return v == null ? null : String(v);
}

function storedRecord(row: Record<string, unknown>, json: RecordJson): AggregateRecord {
  return {
    ordinal: Number(row.ordinal),
    sourceIp: nullableText(row.source_ip),
    count: Number(row.message_count),
    disposition: nullableText(row.disposition),
    dkimEval: nullableText(row.dkim_eval),
    spfEval: nullableText(row.spf_eval),
    overrideReasons: JSON.parse(json.overrideReasons) as AggregateRecord['overrideReasons'],
    headerFrom: nullableText(row.header_from),
    envelopeFrom: nullableText(row.envelope_from),
    envelopeTo: null,
    dkim: JSON.parse(json.dkim) as AggregateRecord['dkim'],
    spf: JSON.parse(json.spf) as AggregateRecord['spf'],
    problems: [],
  };
}
