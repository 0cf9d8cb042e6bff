/**
 * One aggregate report for the web API: its header with the first records and the totals over all of them, or
 * all its records page by page (downloads) — never every record of a large report in memory at once.
 */
import { recordPages, streamedAggregate } from '../../store/aggregate-store.ts';
import type { Driver } from '../../store/driver.ts';
import type { StoredAggregate, StreamedAggregate } from '../../store/report-store.ts';
import { int } from '../../store/row-decode.ts';

export interface ReportHead extends StoredAggregate {
  /** all records of the report (`records` holds at most the first `limit`) */
  recordCount: number;
  messageCount: number;
  /** messages of records whose DKIM or SPF policy result is pass */
  dmarcPassMessages: number;
}

/** The report with its first `limit` records and the totals over all records; null when there is none. */
export async function getReportHead(driver: Driver, id: number, limit: number): Promise<ReportHead | null> {
  const report = await getReportStream(driver, id);
  if (!report) return null;
  const first = await recordPages(driver, id, limit).next();
  const [totals] = await driver.query(
    `SELECT count(*) AS records, coalesce(sum(message_count), 0) AS messages,
       coalesce(sum(CASE WHEN dkim_eval = 'pass' OR spf_eval = 'pass' THEN message_count ELSE 0 END), 0) AS passing
     FROM aggregate_records WHERE report_id = ?`,
    [id],
  );
  return {
    ...report,
    records: first.done ? [] : first.value,
    recordCount: int(totals!, 'records'),
    messageCount: int(totals!, 'messages'),
    dmarcPassMessages: int(totals!, 'passing'),
  };
}

/**
 * The report with all its records, read in pages as they are consumed; null when there is none. Its origin
 * carries no mail-auth verdict: the web API has never sent one.
 */
export async function getReportStream(driver: Driver, id: number): Promise<StreamedAggregate | null> {
  const report = await streamedAggregate(driver, id);
  return report && { ...report, origin: { input: report.origin.input, member: report.origin.member } };
}
