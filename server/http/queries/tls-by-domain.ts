/** Successful and failed TLS sessions per policy domain (the TLS view's chart), with the list's filters. */
import type { Driver } from '../../store/driver.ts';
import { keyText } from '../../store/report-keys.ts';
import { int, textOrNull } from '../../store/row-decode.ts';
import { tlsWhere, type TlsFilter } from './tls-where.ts';

export interface TlsDomainTotal {
  domain: string | null;
  successful: number;
  failed: number;
}

export async function tlsByDomain(driver: Driver, f: TlsFilter, top = 12): Promise<TlsDomainTotal[]> {
  const where = tlsWhere(f, 'r');
  // only the asked domain's policies of the reports that have one
  if (f.domain !== undefined) where.add('p.key_domain = ?', keyText(f.domain));
  const rows = await driver.query(
    `SELECT min(p.policy_domain) AS domain, CAST(sum(p.successful_sessions) AS BIGINT) AS ok,
            CAST(sum(p.failed_sessions) AS BIGINT) AS failed
     FROM tls_policies p JOIN tls_reports r ON r.id = p.report_id ${where}
     GROUP BY p.key_domain ORDER BY sum(p.successful_sessions) + sum(p.failed_sessions) DESC, domain LIMIT ${top}`,
    where.params,
  );
  return rows.map((r) => ({ domain: textOrNull(r, 'domain'), successful: int(r, 'ok'), failed: int(r, 'failed') }));
}
