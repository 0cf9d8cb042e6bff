/**
 * The "raw XML" download of an aggregate report. dmarc-lens does not keep the original file, so this is the stored
 * report written back as RFC 7489 appendix C XML (a comment at the top says so). Values are escaped, so
 * attacker-controlled text stays text in the document.
 */
import type { AggregateRecord } from '../domain/report-types.ts';
import type { StoredAggregate } from '../store/report-store.ts';

export function aggregateReportXml(r: StoredAggregate): string {
  const { head, tail } = aggregateReportXmlFrame(r);
  return head + r.records.map((rec) => recordXml(rec) + '\n').join('') + tail;
}

/** The document around the records (header and policy; the closing tag), so records can be written in pages. */
export function aggregateReportXmlFrame(r: Omit<StoredAggregate, 'records'>): { head: string; tail: string } {
  const h = r.header;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<!-- reconstructed by dmarc-lens from the stored report ${r.id}; the original file (${escapeComment(r.origin.input)}) is not kept -->`);
  const ns = h.xmlSchema === '2.0' ? ' xmlns="urn:ietf:params:xml:ns:dmarc-2.0"' : '';
  out.push(`<feedback${ns}>`);
  if (h.xmlSchema !== 'draft' && h.xmlSchema !== '2.0') out.push(el(1, 'version', h.xmlSchema));
  out.push('  <report_metadata>');
  out.push(el(2, 'org_name', h.orgName), el(2, 'email', h.orgEmail), el(2, 'extra_contact_info', h.orgExtraContactInfo));
  out.push(el(2, 'report_id', h.reportId));
  out.push('    <date_range>', el(3, 'begin', String(h.begin)), el(3, 'end', String(h.end)), '    </date_range>');
  for (const e of h.errors) out.push(el(2, 'error', e));
  out.push(el(2, 'generator', h.generator));
  out.push('  </report_metadata>');
  const p = h.policy;
  out.push('  <policy_published>');
  out.push(
    el(2, 'domain', p.domain), el(2, 'discovery_method', p.discoveryMethod), el(2, 'adkim', p.adkim), el(2, 'aspf', p.aspf),
    el(2, 'p', p.p), el(2, 'sp', p.sp), el(2, 'np', p.np), el(2, 'pct', p.pct === null ? null : String(p.pct)),
    el(2, 'fo', p.fo), el(2, 'testing', p.testing),
  );
  out.push('  </policy_published>');
  return { head: out.filter((line) => line !== '').join('\n') + '\n', tail: '</feedback>\n' };
}

/** one <record> element (lines joined by newlines, without a final one) */
export function recordXml(rec: AggregateRecord): string {
  const lines = ['  <record>', '    <row>', el(3, 'source_ip', rec.sourceIp), el(3, 'count', String(rec.count)), '      <policy_evaluated>'];
  lines.push(el(4, 'disposition', rec.disposition), el(4, 'dkim', rec.dkimEval), el(4, 'spf', rec.spfEval));
  for (const o of rec.overrideReasons) lines.push('        <reason>', el(5, 'type', o.type), el(5, 'comment', o.comment), '        </reason>');
  lines.push('      </policy_evaluated>', '    </row>', '    <identifiers>');
  lines.push(el(3, 'envelope_to', rec.envelopeTo), el(3, 'envelope_from', rec.envelopeFrom), el(3, 'header_from', rec.headerFrom));
  lines.push('    </identifiers>', '    <auth_results>');
  for (const d of rec.dkim) {
    lines.push('      <dkim>', el(4, 'domain', d.domain), el(4, 'selector', d.selector), el(4, 'result', d.result), el(4, 'human_result', d.humanResult), '      </dkim>');
  }
  for (const s of rec.spf) {
    lines.push('      <spf>', el(4, 'domain', s.domain), el(4, 'scope', s.scope), el(4, 'result', s.result), el(4, 'human_result', s.humanResult), '      </spf>');
  }
  lines.push('    </auth_results>', '  </record>');
  return lines.filter((line) => line !== '').join('\n');
}

/** one element on its own line; nothing for a null value */
function el(depth: number, name: string, value: string | null): string {
  return value === null ? '' : `${'  '.repeat(depth)}<${name}>${escapeXml(value)}</${name}>`;
}

export function escapeXml(s: string): string {
  // characters XML 1.0 cannot carry at all are dropped
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeComment(s: string): string {
  return s.replace(/--/g, '- -').replace(/-$/, '- ').replace(/[\u0000-\u001f]/g, ' ');
}
