/** One aggregate report: its metadata, published policy, repairs, every record, and the downloads. */
import { apiUrl, getJson } from '../api.ts';
import { h, link } from '../dom.ts';
import { num, text } from '../format.ts';
import { routeHref } from '../route.ts';
import { card, dataTable, emptyState, resultBadge } from '../table.ts';
import type { ViewContext, ViewDef } from '../view-types.ts';

type Row = Record<string, string | number | boolean | null>;

interface ReportAnswer {
  id: number;
  report: {
    xml_schema: string;
    report_metadata: { org_name: string | null; org_email: string | null; report_id: string; begin_date: string; end_date: string; errors: string[]; generator: string | null; source: { input: string; member: string | null }; received_at: string };
    policy_published: Record<string, string | number | null>;
  };
  columns: string[];
  /** the first records (at most a thousand); the totals below cover all of them */
  records: Row[];
  recordCount: number;
  messageCount: number;
  dmarcPassMessages: number;
}

export const reportDetailView: ViewDef = {
  title: 'Report',
  filters: 'none',
  async render(ctx: ViewContext) {
    const id = ctx.params.get('id');
    if (!id || !/^\d+$/.test(id)) return emptyState('No report chosen.', link(routeHref('reports'), '← back to the reports'));
    const a = await getJson<ReportAnswer>(`/api/reports/${id}`);
    const m = a.report.report_metadata;
    const p = a.report.policy_published;
    const dl = (...pairs: [string, unknown][]) => h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, text(v))]));
    const shown = a.records.length < a.recordCount ? `The first ${num(a.records.length)} of ${num(a.recordCount)} records; the downloads have all of them.` : null;
    const downloads = h(
      'div',
      { class: 'downloads' },
      link(`/api/reports/${a.id}/xml`, '⤓ XML', { class: 'button small', attrs: { download: '' } }),
      link(`/api/reports/${a.id}/json`, '⤓ JSON', { class: 'button small', attrs: { download: '' } }),
      link(apiUrl(`/api/reports/${a.id}/records.csv`), '⤓ Records CSV', { class: 'button small csv', attrs: { download: '' } }),
      h('p', { class: 'note' }, 'The original file is not stored: the XML download is rebuilt from the stored report (same values, our formatting).'),
    );
    return [
      h('p', null, link(routeHref('reports'), '← all reports')),
      h(
        'div',
        { class: 'grid two' },
        card('Report', dl(['Reporter', m.org_name], ['Contact', m.org_email], ['Report id', m.report_id], ['Period (UTC)', `${m.begin_date} → ${m.end_date}`], ['Format', a.report.xml_schema], ['Generator', m.generator], ['Source file', m.source.member ? `${m.source.input} › ${m.source.member}` : m.source.input], ['Received', m.received_at]), { actions: downloads }),
        card('Published policy', dl(['Domain', p.domain], ['p', p.p], ['sp', p.sp], ['np', p.np], ['pct', p.pct], ['adkim', p.adkim], ['aspf', p.aspf], ['fo', p.fo], ['testing', p.testing]), {
          note: `${num(a.recordCount)} record(s), ${num(a.messageCount)} message(s), ${num(a.dmarcPassMessages)} passing DMARC.`,
        }),
      ),
      m.errors.length > 0 ? card('Reporter errors and repairs made while reading', h('ul', null, m.errors.map((e) => h('li', null, e)))) : null,
      card(
        'Records',
        dataTable<Row>(
          [
            { key: 'source_ip_address', label: 'Source IP', cell: (r) => h('span', { class: 'mono' }, text(r.source_ip_address)) },
            { key: 'count', label: 'Messages', numeric: true, cell: (r) => num(Number(r.count)) },
            { key: 'disposition', label: 'Disposition' },
            { key: 'dmarc_aligned', label: 'DMARC', cell: (r) => resultBadge(r.dmarc_aligned === true ? 'pass' : 'fail') },
            { key: 'dkim_aligned', label: 'DKIM (policy)', cell: (r) => resultBadge(r.dkim_aligned === true ? 'pass' : 'fail') },
            { key: 'spf_aligned', label: 'SPF (policy)', cell: (r) => resultBadge(r.spf_aligned === true ? 'pass' : 'fail') },
            { key: 'header_from', label: 'Header From' },
            { key: 'envelope_from', label: 'Envelope From', minor: true },
            { key: 'dkim_domains', label: 'DKIM d= / s= / result', minor: true, cell: (r) => zipAuth(r.dkim_domains, r.dkim_selectors, r.dkim_results) },
            { key: 'spf_domains', label: 'SPF domain / result', minor: true, cell: (r) => zipAuth(r.spf_domains, r.spf_scopes, r.spf_results) },
            { key: 'policy_override_reasons', label: 'Override', minor: true, cell: (r) => zipAuth(r.policy_override_reasons, r.policy_override_comments, null) },
          ],
          a.records,
          { caption: 'records of this report', id: 'records-table' },
        ),
        { csv: apiUrl(`/api/reports/${a.id}/records.csv`), ...(shown ? { note: shown } : {}) },
      ),
    ];
  },
};

/** "a.com|b.com", "s1|s2", "pass|fail" → "a.com s1 pass; b.com s2 fail" */
function zipAuth(domains: unknown, middles: unknown, results: unknown): string {
  const split = (v: unknown) => (v === null || v === undefined || v === '' ? [] : String(v).split('|'));
  const d = split(domains);
  const mids = split(middles);
  const r = split(results);
  if (d.length === 0) return '—';
  return d.map((x, i) => [x || '(none)', mids[i], r[i]].filter(Boolean).join(' ')).join('; ');
}
