/**
 * The flat rows of a source and a selector, built once: `dmarc-lens export sources` / `export selectors` use them
 * as they are (JSON, JSON lines and CSV; in CSV, lists are joined with " | "), and the web tables
 * (server/http/analytics-rows.ts) take their columns from them, adding only their own (pass rate, key status).
 */
import { isoDate } from '../export/shapes.ts';
import type { SelectorRow, SourceRow } from './analytics-types.ts';

export type ExportValue = string | number | boolean | null | string[];

/** the columns of sourceExportRow, in order (a CSV with no rows still has its header) */
export const SOURCE_EXPORT_COLUMNS = [
  'domain', 'ip', 'reverse_dns', 'forward_confirmed', 'base_domain', 'asn', 'as_org', 'country', 'service', 'service_type',
  'approved', 'dkim_domain', 'dkim_selector', 'header_from', 'messages', 'dmarc_pass', 'dmarc_fail', 'dkim_aligned_pass',
  'spf_aligned_pass', 'classification', 'partial', 'likely_spoofing', 'fix', 'evidence', 'first_seen', 'last_seen',
] as const;

/** the columns of selectorExportRow, in order */
export const SELECTOR_EXPORT_COLUMNS = [
  'domain', 'signing_domain', 'selector', 'service', 'messages', 'pass', 'pass_rate', 'fail', 'permerror', 'first_seen',
  'last_seen', 'stale', 'newer_selector', 'failing', 'notes',
] as const;

export function sourceExportRow(s: SourceRow): Record<string, ExportValue> {
  return {
    domain: s.domain,
    ip: s.ip,
    reverse_dns: s.reverseDns,
    forward_confirmed: s.forwardConfirmed,
    base_domain: s.baseDomain,
    asn: s.asn,
    as_org: s.asOrg,
    country: s.country,
    service: s.service?.name ?? null,
    service_type: s.service?.type ?? null,
    approved: s.approved,
    dkim_domain: s.dkimDomain,
    dkim_selector: s.dkimSelector,
    header_from: s.headerFrom,
    messages: s.messages,
    dmarc_pass: s.dmarcPass,
    dmarc_fail: s.dmarcFail,
    dkim_aligned_pass: s.dkimAlignedPass,
    spf_aligned_pass: s.spfAlignedPass,
    classification: s.verdict,
    partial: s.partial ?? false,
    likely_spoofing: s.likelySpoofing,
    fix: s.fix,
    evidence: s.evidence,
    first_seen: isoDate(s.firstSeen),
    last_seen: isoDate(s.lastSeen),
  };
}

export function selectorExportRow(s: SelectorRow): Record<string, ExportValue> {
  return {
    domain: s.domain,
    signing_domain: s.signingDomain,
    selector: s.selector,
    service: s.service,
    messages: s.messages,
    pass: s.pass,
    pass_rate: Math.round(s.passRate * 10_000) / 10_000,
    fail: s.fail ?? null,
    permerror: s.permerror ?? null,
    first_seen: isoDate(s.firstSeen),
    last_seen: isoDate(s.lastSeen),
    stale: s.stale,
    newer_selector: s.newerSelector ?? null,
    failing: s.failing,
    notes: s.notes,
  };
}

/** A row as CSV cells: lists joined. */
export function csvCells(row: Record<string, ExportValue>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(row)) out[k] = Array.isArray(v) ? v.join(' | ') : v;
  return out;
}
