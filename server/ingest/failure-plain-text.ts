/**
 * DMARC failure reports sent as plain text with no message/feedback-report part (Exim, some hosted filters):
 * `Label: value` lines such as "Sender IP Address:" / "Source IP:" / "Received date:", usually followed by a copy
 * of the original headers. Recognised by several signals together, never by one reporter's wording.
 */
import { parseMailDate } from './failure-date.ts';
import { joinAuthFailures, normalizeDomain, normalizeIp, stripAngles, stripTypePrefix, type FieldMap } from './failure-fields.ts';
import { findPastedHeaderBlock } from './failure-original.ts';
import { parseHeaderBlock } from './failure-mime.ts';

type Target =
  | 'sourceIp'
  | 'reportedDomain'
  | 'arrivalDate'
  | 'originalMailFrom'
  | 'originalRcptTo'
  | 'authFailure'
  | 'deliveryResult'
  | 'authenticationResults'
  | 'dkimDomain'
  | 'dkimSelector'
  | 'dkimIdentity'
  | 'spfDns'
  | 'feedbackType'
  | 'userAgent'
  | 'reportingMta'
  | 'signal';

/** Normalized label (lower-case, single spaces for runs of space, '-' and '_') → what it carries. */
const LABELS: Record<string, Target> = {};
function label(target: Target, ...names: string[]): void {
  for (const n of names) LABELS[n] = target;
}
label('sourceIp', 'sender ip address', 'sender ip', 'source ip', 'source ip address', 'ip address', 'ip', 'client ip',
  'connecting ip', 'remote ip', 'sending ip', 'originating ip', 'sending ip address', 'client ip address');
label('reportedDomain', 'sender domain', 'reported domain', 'domain', 'header from domain', 'from domain', 'policy domain',
  'dmarc domain', 'author domain', 'rfc5322 from domain', 'header from');
label('arrivalDate', 'received date', 'arrival date', 'date received', 'received at', 'arrival time', 'received time',
  'date of arrival');
label('originalMailFrom', 'original mail from', 'envelope from', 'mail from', 'smtp mail from', 'envelope sender', 'return path');
label('originalRcptTo', 'original rcpt to', 'envelope to', 'rcpt to', 'envelope recipient', 'recipient');
label('authFailure', 'auth failure', 'failure type', 'authentication failure');
label('deliveryResult', 'delivery result');
label('authenticationResults', 'authentication results');
label('dkimDomain', 'dkim domain', 'dkim signing domain');
label('dkimSelector', 'dkim selector');
label('dkimIdentity', 'dkim identity');
label('spfDns', 'spf dns');
label('feedbackType', 'feedback type');
label('userAgent', 'user agent');
label('reportingMta', 'reporting mta');
label('signal', 'spf alignment', 'dkim alignment', 'dmarc results', 'dmarc result', 'spf result', 'dkim result',
  'dmarc policy', 'dmarc disposition', 'spf', 'dkim', 'dmarc', 'policy', 'disposition', 'spf aligned', 'dkim aligned',
  'identity alignment', 'alignment');

const KV_LINE = /^[ \t]*(?:(?:[-*•]|\d{1,2}[.)])[ \t]*)?([A-Za-z][A-Za-z0-9 _-]{0,40}?)[ \t]*:[ \t]+(\S.*)$/;
const MAX_LINES = 5000;
/** longer lines are never `Label: value` lines (and are not given to the regular expressions) */
const MAX_KV_LINE = 2000;
const MAX_SUBJECT = 1000;

export interface PlainTextReport {
  fields: FieldMap;
  feedbackType: string;
  authFailure: string | null;
  arrivalDate: number | null;
  sourceIp: string | null;
  reportedDomain: string | null;
  originalMailFrom: string | null;
  originalRcptTo: string | null;
  deliveryResult: string | null;
  authenticationResults: string | null;
  dkimDomain: string | null;
  dkimSelector: string | null;
  dkimIdentity: string | null;
  spfDns: string | null;
  userAgent: string | null;
  reportingMta: string | null;
  /** the pasted copy of the original headers, when there is one */
  pastedHeaders: string | null;
}

function normLabel(l: string): string {
  return l.toLowerCase().replace(/[\s_-]+/g, ' ').trim();
}

/**
 * Reads a plain-text DMARC failure report, or returns null when the text is not one. `subject` is the decoded
 * Subject of the mail. Requires: "DMARC" in the subject or text, a failure/forensic signal, a valid source IP,
 * and at least two recognised `Label: value` lines (outside any pasted header copy), one of them naming the domain
 * unless three or more are recognised.
 */
export function readPlainTextReport(text: string, subject: string | null): PlainTextReport | null {
  const pasted = findPastedHeaderBlock(text);
  const lines = text.split(/\r?\n/).slice(0, MAX_LINES);
  const fields: FieldMap = {};
  const found: Partial<Record<Target, string[]>> = {};
  let recognised = 0;
  const prose: string[] = [];
  lines.forEach((line, i) => {
    if (pasted && i >= pasted.startLine && i < pasted.endLine) return;
    prose.push(line);
    const m = line.length <= MAX_KV_LINE ? KV_LINE.exec(line) : null;
    if (!m) return;
    const name = normLabel(m[1]!);
    const value = m[2]!.trim();
    (fields[name] ??= []).push(value);
    const target = LABELS[name];
    if (!target) return;
    if (!found[target]) recognised++;
    (found[target] ??= []).push(value);
  });
  const first = (t: Target): string | null => found[t]?.[0] ?? null;
  const subj = (subject ?? '').slice(0, MAX_SUBJECT);
  const body = prose.join('\n');
  const dmarcSignal = /\bdmarc\b/i.test(subj) || /\bdmarc\b/i.test(body);
  const failureSignal = /fail|forensic/i.test(subj) || /fail|forensic/i.test(body);
  const sourceIp = normalizeIp(first('sourceIp')) ?? normalizeIp(/\bIP(?:\s*address)?\s*[:=]?\s*\[?([0-9A-Fa-f:.]{3,})\]?/.exec(subj)?.[1] ?? null);
  const reportedDomain =
    normalizeDomain(stripAngles(first('reportedDomain'))) ??
    normalizeDomain(/\b(?:for|domain:?)\s+([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/i.exec(subj)?.[1] ?? null);
  const hasDomainLine = found.reportedDomain !== undefined;
  if (!dmarcSignal || !failureSignal || !sourceIp || recognised < 2 || (!hasDomainLine && recognised < 3)) return null;

  const pastedFields = pasted ? parseHeaderBlock(pasted.block) : [];
  const pastedAr = pastedFields.find((f) => f.name === 'authentication-results')?.value ?? null;
  return {
    fields,
    feedbackType: (first('feedbackType') ?? 'auth-failure').toLowerCase(),
    authFailure: joinAuthFailures(found.authFailure ?? []) ?? 'dmarc',
    arrivalDate: parseMailDate(first('arrivalDate')),
    sourceIp,
    reportedDomain,
    originalMailFrom: stripAngles(first('originalMailFrom')),
    originalRcptTo: stripAngles(first('originalRcptTo')),
    deliveryResult: first('deliveryResult')?.toLowerCase() ?? null,
    authenticationResults: first('authenticationResults') ?? pastedAr,
    dkimDomain: first('dkimDomain'),
    dkimSelector: first('dkimSelector'),
    dkimIdentity: first('dkimIdentity'),
    spfDns: first('spfDns'),
    userAgent: first('userAgent'),
    reportingMta: stripTypePrefix(first('reportingMta')),
    pastedHeaders: pasted?.block ?? null,
  };
}

/** Crude HTML → text for reports sent as HTML only: block ends become line breaks, tags go, basic entities decode. */
export function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/(?:p|div|tr|li|h\d|table|pre)\s*>/gi, '\n')
    .replace(/<\/t[dh]\s*>/gi, ' ')
    .replace(/<[^<>]*>/g, '')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d{1,6});/g, (_, n: string) => String.fromCodePoint(Math.min(Number(n), 0x10ffff)))
    .replace(/&amp;/gi, '&');
}
