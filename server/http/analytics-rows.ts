/**
 * The analytics results as flat table rows: the JSON `rows` and the CSV lines of the overview, sources,
 * selectors and monthly summary tables are built here, once.
 */
import type { DayPoint, DomainOverview, MonthlySummaryRow, SelectorRow, SourceRow } from '../analytics/analytics-types.ts';
import { selectorExportRow, sourceExportRow, type ExportValue } from '../analytics/export-rows.ts';
import type { TableRow } from './table-response.ts';

const rate = (n: number, of: number): number | null => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : null);

export const DOMAIN_COLUMNS = [
  'domain', 'reports', 'messages', 'dmarc_pass', 'dmarc_fail', 'pass_rate', 'dkim_aligned_rate', 'spf_aligned_rate',
  'none', 'quarantine', 'reject', 'policy_p', 'policy_sp', 'policy_pct', 'readiness_step',
] as const;

export function domainRow(d: DomainOverview): TableRow {
  return {
    domain: d.domain,
    reports: d.reports,
    messages: d.messages,
    dmarc_pass: d.dmarcPass,
    dmarc_fail: d.dmarcFail,
    pass_rate: rate(d.dmarcPass, d.messages),
    dkim_aligned_rate: rate(d.dkimAlignedPass, d.messages),
    spf_aligned_rate: rate(d.spfAlignedPass, d.messages),
    none: d.none,
    quarantine: d.quarantine,
    reject: d.reject,
    policy_p: d.policy?.p ?? null,
    policy_sp: d.policy?.sp ?? null,
    policy_pct: d.policy?.pct ?? null,
    readiness_step: d.readinessStep,
  };
}

export const DAY_COLUMNS = [
  'day', 'messages', 'dmarc_pass', 'dmarc_fail', 'dkim_aligned_pass', 'spf_aligned_pass', 'none', 'quarantine', 'reject', 'pass_rate',
] as const;

export function dayRow(p: DayPoint): TableRow {
  return {
    day: p.day,
    messages: p.messages,
    dmarc_pass: p.dmarcPass,
    dmarc_fail: p.dmarcFail,
    dkim_aligned_pass: p.dkimAlignedPass,
    spf_aligned_pass: p.spfAlignedPass,
    none: p.none,
    quarantine: p.quarantine,
    reject: p.reject,
    pass_rate: rate(p.dmarcPass, p.messages),
  };
}

export const SOURCE_COLUMNS = [
  'domain', 'service', 'service_type', 'base_domain', 'ip', 'reverse_dns', 'forward_confirmed', 'asn', 'as_org', 'country',
  'dkim_domain', 'dkim_selector', 'header_from', 'messages', 'dmarc_pass', 'dmarc_fail', 'pass_rate', 'dkim_aligned_pass',
  'spf_aligned_pass', 'verdict', 'approved', 'likely_spoofing', 'fix', 'evidence', 'first_seen', 'last_seen',
] as const;

/** The CLI export's source row (server/analytics/export-rows.ts) in the web table's columns. */
export function sourceRow(s: SourceRow): TableRow {
  return tableRow(SOURCE_COLUMNS, sourceExportRow(s), {
    pass_rate: rate(s.dmarcPass, s.messages),
    verdict: s.verdict,
    evidence: s.evidence.join('; '),
  });
}

export const SELECTOR_COLUMNS = [
  'domain', 'signing_domain', 'selector', 'service', 'messages', 'pass', 'pass_rate', 'first_seen', 'last_seen', 'stale',
  'failing', 'notes', 'key_status', 'key_detail',
] as const;

/** The CLI export's selector row in the web table's columns, with the key's DNS status. */
export function selectorRow(s: SelectorRow, key: { status: string; detail: string | null }): TableRow {
  return tableRow(SELECTOR_COLUMNS, selectorExportRow(s), {
    notes: s.notes.join('; '),
    key_status: key.status,
    key_detail: key.detail,
  });
}

/** `columns` in order, each from `own` when it has it, else from the shared export row */
function tableRow(columns: readonly string[], shared: Record<string, ExportValue>, own: TableRow): TableRow {
  const row: TableRow = {};
  for (const c of columns) {
    const v = c in own ? own[c]! : shared[c];
    if (v === undefined || Array.isArray(v)) throw new Error(`column ${c} has no table value`);
    row[c] = v;
  }
  return row;
}

export const MONTH_COLUMNS = ['domain', 'month', 'messages', 'dmarc_pass', 'pass_rate', 'failing_sources'] as const;

export function monthRow(m: MonthlySummaryRow): TableRow {
  return {
    domain: m.domain,
    month: m.month,
    messages: m.messages,
    dmarc_pass: m.dmarcPass,
    pass_rate: Math.round(m.passRate * 10_000) / 10_000,
    failing_sources: m.failingSources,
  };
}
