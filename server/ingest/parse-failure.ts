/**
 * Failure (forensic, ruf) reports: ARF mails (RFC 5965 / 6591 / 9991) and plain-text DMARC failure reports.
 * Called for every mail the unpacker sees, so saying "not a failure report" is cheap (a bounded MIME walk that
 * decodes no attachment) and never throws; only a mail that is clearly an ARF report but unusable is rejected.
 */
import { createHash } from 'node:crypto';
import { simpleParser } from './mail-parser.ts';
import type { FailureReport } from '../domain/report-types.ts';
import { InputRejected } from '../errors.ts';
import { collectFields, firstField, readArfFields, type FieldMap } from './failure-fields.ts';
import { decodeBody, flattenParts, parseMime, partText, stripEnvelope, type MimePart } from './failure-mime.ts';
import { bytesToText, leadingHeaderBlock, readOriginalIdentity, NO_ORIGINAL, type OriginalIdentity } from './failure-original.ts';
import { htmlToText, readPlainTextReport } from './failure-plain-text.ts';

/** how many message/rfc822 wrappers (mailing lists, forwards) are opened to find a report inside */
const MAX_WRAPPING = 2;
const MAX_TEXT_BYTES = 1024 * 1024;
/** how far into a wrapped message/rfc822 part to look for a feedback-report part */
const MAX_WRAPPED_SCAN_BYTES = 4 * 1024 * 1024;
/** largest part looked at as a mislabeled feedback report */
const MAX_FEEDBACK_BYTES = 64 * 1024;

const ORIGINAL_TYPES = new Set(['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global', 'message/global-headers']);
const PAYLOAD_TYPES = /^application\/(?:zip|x-zip|x-zip-compressed|gzip|x-gzip|x-gunzip|xml|json|tlsrpt\+json|tlsrpt\+gzip)$|^text\/xml$/;
const PAYLOAD_NAMES = /\.(?:zip|gz|gzip|xml|json|zlib)$/i;

/**
 * A whole mail (RFC 5322 bytes). Returns null when the mail is not a failure/feedback report (the caller then looks
 * for aggregate/TLS attachments in it). Throws InputRejected('schema', …) when it is clearly an ARF report but
 * unusable.
 */
export async function parseFailureMail(mail: Buffer): Promise<FailureReport | null> {
  return parseMail(stripEnvelope(mail), 0);
}

async function parseMail(mail: Buffer, wrapping: number): Promise<FailureReport | null> {
  const root = parseMime(mail);
  const parts = flattenParts(root);
  const feedback = parts.find((p) => p.contentType === 'message/feedback-report');
  if (feedback) return guardArf(() => readArfMail(root, parts, feedback, partText(feedback)));
  const declaredArf = parts.some((p) => p.contentType === 'multipart/report' && /^feedback-report$/i.test(p.params['report-type'] ?? ''));
  if (!declaredArf && parts.some(isReportPayload)) return null;
  const mislabeled = findMislabeledFeedback(parts);
  if (mislabeled) return guardArf(() => readArfMail(root, parts, mislabeled.part, mislabeled.fieldsText));
  if (wrapping < MAX_WRAPPING) {
    for (const p of parts) {
      if (p.contentType !== 'message/rfc822') continue;
      const body = decodeBody(p);
      if (!/feedback-report/i.test(body.subarray(0, MAX_WRAPPED_SCAN_BYTES).toString('latin1'))) continue;
      const inner = await parseMail(body, wrapping + 1);
      if (inner) return inner;
    }
  }
  let plain: FailureReport | null = null;
  try {
    plain = await readPlainTextMail(root, parts);
  } catch {
    plain = null; // never let an ordinary mail fail here
  }
  if (plain || !declaredArf) return plain;
  throw new InputRejected('schema', 'multipart/report of type feedback-report without a message/feedback-report part');
}

/**
 * A feedback report sent with the wrong content type (text/plain, application/octet-stream): a small leaf part
 * that starts with a Feedback-Type field and at least one other ARF field.
 */
function findMislabeledFeedback(parts: MimePart[]): { part: MimePart; fieldsText: string } | null {
  for (const p of parts) {
    if (p.children.length || p.body.length > MAX_FEEDBACK_BYTES) continue;
    if (p.contentType !== 'text/plain' && p.contentType !== 'application/octet-stream') continue;
    const block = leadingHeaderBlock(partText(p));
    if (!block || !/^feedback-type\s*:/im.test(block)) continue;
    if (!/^(source-ip|reported-domain|auth-failure|arrival-date|original-mail-from)\s*:/im.test(block)) continue;
    return { part: p, fieldsText: block };
  }
  return null;
}

/** An aggregate or TLS report attachment: this mail is for the other parsers. */
function isReportPayload(p: MimePart): boolean {
  if (p.contentType === 'multipart/report' && /tlsrpt/i.test(p.params['report-type'] ?? '')) return true;
  if (PAYLOAD_TYPES.test(p.contentType)) return true;
  const disposition = p.headers.find((h) => h.name === 'content-disposition')?.value ?? '';
  const name = p.params['name'] ?? /filename\*?=\s*"?([^";]+)/i.exec(disposition)?.[1] ?? '';
  return PAYLOAD_NAMES.test(name.trim());
}

async function guardArf(read: () => Promise<FailureReport>): Promise<FailureReport> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InputRejected) throw err;
    throw new InputRejected('bad-mail', `unreadable failure report: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function readArfMail(root: MimePart, parts: MimePart[], feedback: MimePart, fieldsText: string): Promise<FailureReport> {
  const fields = collectFields(fieldsText);
  if (Object.keys(fields).length === 0) throw new InputRejected('schema', 'empty message/feedback-report part');
  const arf = readArfFields(fields);
  if (!arf.feedbackType) throw new InputRejected('schema', 'message/feedback-report part without Feedback-Type or Auth-Failure');
  const original = await readOriginalIdentity(originalBlock(parts, feedback));
  const reporter = await readReporter(root, arf.reportingMta);
  return {
    ...arf,
    ...original,
    originalMessageId: original.originalMessageId ?? firstField(fields, 'message-id', 'original-message-id'),
    ...reporter,
    plainText: false,
    fields,
  };
}

/** The header block of the original message: the report's message/rfc822 or headers part, or a text part after
 *  the feedback part that starts with headers. */
function originalBlock(parts: MimePart[], feedback: MimePart): string | null {
  const after = parts.slice(parts.indexOf(feedback) + 1);
  const typed = after.find((p) => ORIGINAL_TYPES.has(p.contentType)) ?? parts.find((p) => ORIGINAL_TYPES.has(p.contentType));
  if (typed) return leadingHeaderBlock(bytesToText(decodeBody(typed).subarray(0, MAX_TEXT_BYTES)));
  for (const p of after) {
    if (p.contentType !== 'text/plain') continue;
    const block = leadingHeaderBlock(partText(p).slice(0, MAX_TEXT_BYTES));
    if (block && /^(from|subject|message-id|received|date)\s*:/im.test(block) && block.split('\n').length >= 2) return block;
  }
  return null;
}

interface Reporter {
  reporterEmail: string | null;
  reporterOrg: string | null;
  subject: string | null;
  mailer: string | null;
}

async function readTopHeaders(root: MimePart): Promise<Reporter> {
  const parsed = await simpleParser(Buffer.from(root.headerText + '\r\n\r\n', 'latin1'), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  const email = parsed.from?.value.find((a) => a.address)?.address?.trim() || null;
  const mailer = parsed.headers.get('user-agent') ?? parsed.headers.get('x-mailer');
  return {
    reporterEmail: email,
    reporterOrg: email && email.includes('@') ? email.slice(email.lastIndexOf('@') + 1).toLowerCase() : null,
    subject: parsed.subject?.trim() || null,
    mailer: typeof mailer === 'string' ? mailer.trim() || null : null,
  };
}

async function readReporter(root: MimePart, reportingMta: string | null): Promise<Pick<FailureReport, 'reporterEmail' | 'reporterOrg'>> {
  const top = await readTopHeaders(root).catch(() => null);
  const mtaHost = reportingMta && /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(reportingMta) ? reportingMta.toLowerCase() : null;
  return { reporterEmail: top?.reporterEmail ?? null, reporterOrg: top?.reporterOrg ?? mtaHost };
}

async function readPlainTextMail(root: MimePart, parts: MimePart[]): Promise<FailureReport | null> {
  const leaves = (type: string): MimePart[] => parts.filter((p) => p.children.length === 0 && p.contentType === type && p.body.length <= MAX_TEXT_BYTES);
  const plainParts = leaves('text/plain');
  const texts = plainParts.length ? plainParts.map(partText) : leaves('text/html').map((p) => htmlToText(partText(p)));
  if (texts.length === 0) return null;
  const top = await readTopHeaders(root);
  const found = readPlainTextReport(texts.join('\n\n'), top.subject);
  if (!found) return null;
  const typed = parts.find((p) => ORIGINAL_TYPES.has(p.contentType));
  const block = typed ? leadingHeaderBlock(bytesToText(decodeBody(typed).subarray(0, MAX_TEXT_BYTES))) : found.pastedHeaders;
  const original: OriginalIdentity = block ? await readOriginalIdentity(block) : NO_ORIGINAL;
  const { pastedHeaders: _pasted, fields, ...values } = found;
  return {
    ...values,
    ...original,
    userAgent: values.userAgent ?? top.mailer,
    reporterEmail: top.reporterEmail,
    reporterOrg: top.reporterOrg,
    plainText: true,
    fields,
  };
}

/** Field names (normalized: lower-case, '-' for spaces/underscores) that carry the original message's identity. */
const IDENTITY_FIELDS = new Set([
  'original-mail-from', 'original-rcpt-to', 'message-id', 'original-message-id', 'removal-recipient', 'subject', 'from', 'to',
  'envelope-from', 'mail-from', 'smtp-mail-from', 'envelope-sender', 'return-path', 'envelope-to', 'rcpt-to',
  'envelope-recipient', 'recipient', 'original-envelope-id',
]);

/** Returns a copy with the original message's identity (headers, envelope sender and recipients) replaced by null
 *  and the fields that carried it removed from `fields`. */
export function redactFailure(r: FailureReport): FailureReport {
  const fields: FieldMap = {};
  for (const [name, values] of Object.entries(r.fields)) {
    if (!IDENTITY_FIELDS.has(name.toLowerCase().replace(/[\s_]+/g, '-'))) fields[name] = [...values];
  }
  return {
    ...r,
    originalFrom: null,
    originalTo: null,
    originalSubject: null,
    originalMessageId: null,
    originalHeaders: null,
    originalMailFrom: null,
    originalRcptTo: null,
    fields,
  };
}

/**
 * The dedup key of a failure report: the same report re-sent (other line endings, other transfer encoding, other
 * wrapping) gives the same key. sha256 hex over the normalized feedback type, reporter, source IP, arrival date,
 * reported domain and the original Message-ID (or Subject when there is none).
 */
export function failureDedupKey(r: FailureReport): string {
  const reporter = (r.reporterEmail ?? r.reporterOrg ?? '').trim().toLowerCase();
  const messageId = (r.originalMessageId ?? '').trim().replace(/^<|>$/g, '').trim().toLowerCase();
  const subject = (r.originalSubject ?? '').replace(/\s+/g, ' ').trim();
  const identity = messageId ? `id:${messageId}` : subject ? `subject:${subject}` : '';
  const parts = [
    r.feedbackType.trim().toLowerCase(),
    reporter,
    (r.sourceIp ?? '').trim().toLowerCase(),
    r.arrivalDate === null ? '' : String(r.arrivalDate),
    (r.reportedDomain ?? '').trim().toLowerCase().replace(/\.$/, ''),
    identity,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
