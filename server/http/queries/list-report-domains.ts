/** The policy domains of the stored aggregate reports with their volume (the domain filter's choices). */
import type { Driver } from '../../store/driver.ts';
import { int, textOrNull } from '../../store/row-decode.ts';

export interface ReportDomain {
  domain: string;
  reports: number;
  messages: number;
}

export async function listReportDomains(driver: Driver): Promise<ReportDomain[]> {
  const rows = await driver.query(
    `SELECT key_domain, count(*) AS reports, CAST(coalesce(sum(message_count), 0) AS BIGINT) AS messages
     FROM aggregate_reports WHERE key_domain <> '' GROUP BY key_domain ORDER BY messages DESC, key_domain LIMIT 5000`,
  );
  return rows.map((r) => ({ domain: textOrNull(r, 'key_domain') ?? '', reports: int(r, 'reports'), messages: int(r, 'messages') }));
}
