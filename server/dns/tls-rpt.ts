/** SMTP TLS reporting records (RFC 8460 3): `_smtp._tls.<domain>` TXT `v=TLSRPTv1; rua=…`. Pure. */
import type { Finding } from './check-types.ts';
import { finding } from './finding-codes.ts';
import { parseReportUris } from './report-uri.ts';
import { parseTagList, startsWithVersion } from './tag-list.ts';

export function analyzeTlsRpt(domain: string, records: readonly string[]): Finding[] {
  const name = `_smtp._tls.${domain}`;
  const fix = `${name} TXT "v=TLSRPTv1; rua=mailto:tls-reports@${domain}"`;
  const rpt = records.filter((r) => startsWithVersion(r, 'TLSRPTv1'));
  if (rpt.length > 1) return [finding('tlsrpt-multiple', `${name} has ${rpt.length} v=TLSRPTv1 records; senders then send no TLS reports.`, `Keep one: ${fix}`)];
  if (rpt.length === 0) {
    const lookalike = records.find((r) => /tlsrpt/i.test(r));
    if (lookalike !== undefined) return [finding('tlsrpt-invalid', `"${lookalike}" at ${name} does not start with exactly "v=TLSRPTv1;", so senders ignore it.`, fix)];
    return [finding('tlsrpt-missing', `No TLS-RPT record at ${name}: senders do not report TLS failures when delivering to ${domain}.`, fix)];
  }
  const { byName, problems } = parseTagList(rpt[0] ?? '');
  const rua = byName.get('rua');
  if (problems.length > 0) return [finding('tlsrpt-invalid', `The record at ${name} is malformed: ${problems.join('; ')}.`, fix)];
  if (rua === undefined || rua === '') return [finding('tlsrpt-invalid', `The record at ${name} has no rua= destination.`, fix)];
  const bad = parseReportUris(rua).filter((u) => u.problem !== undefined || (u.scheme !== 'mailto' && u.scheme !== 'https'));
  if (bad.length > 0) {
    return [finding('tlsrpt-invalid', `rua= destination${bad.length > 1 ? 's' : ''} ${bad.map((u) => `"${u.raw}"`).join(', ')} must be mailto: or https: URIs.`, fix)];
  }
  return [];
}
