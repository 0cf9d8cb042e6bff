/**
 * One mail → a failure report, or the parts that may hold an aggregate / TLS report. MIME types and file names
 * only label the parts: every candidate's bytes are sniffed again by the unpacker, so a zip labelled
 * application/gzip or a report sent as application/octet-stream is still found.
 */
import type { Attachment, ParsedMail } from 'mailparser';
import { simpleParser } from './mail-parser.ts';
import type { FailureReport } from '../domain/report-types.ts';
import { FatalError, InputRejected } from '../errors.ts';
import { tooManyMembers } from './byte-cap.ts';
import type { Limits } from './limits.ts';
import { parseFailureMail } from './parse-failure.ts';
import { sniff } from './sniff.ts';

export interface MailPart {
  /** the member name of the part: '[content-type;filename]' (content type as declared, filename may be empty) */
  label: string;
  /** how the part is listed when the mail holds no report, e.g. 'text/html' or 'image/png logo.png' */
  description: string;
  /** the decoded bytes to unpack, or null when the part is not a candidate (HTML, a prose text body) */
  bytes: Buffer | null;
}

export type MailContent = { kind: 'failure'; report: FailureReport } | { kind: 'parts'; parts: MailPart[] };

const PARSE_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  keepCidLinksInHtml: true,
} as const;

/**
 * Reads a whole mail (already capped by the limits). Throws InputRejected: 'bad-mail' when it cannot be parsed,
 * 'too-many-members' for more than maxMembers attachments, or what the failure-report parser rejects.
 */
export async function readMail(mail: Buffer, limits: Limits): Promise<MailContent> {
  const report = await readFailure(mail);
  if (report) return { kind: 'failure', report };

  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(mail, PARSE_OPTIONS);
  } catch (err) {
    throw new InputRejected('bad-mail', `the mail cannot be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed.attachments.length > limits.maxMembers) {
    throw tooManyMembers(`the mail has ${parsed.attachments.length} attachments`, limits.maxMembers);
  }
  const parts: MailPart[] = [];
  const body = textBody(parsed);
  if (body) parts.push(body);
  if (typeof parsed.html === 'string' && parsed.html.trim() !== '') parts.push({ label: '[text/html;]', description: 'text/html', bytes: null });
  for (const attachment of parsed.attachments) parts.push(attachmentPart(attachment));
  return { kind: 'parts', parts };
}

async function readFailure(mail: Buffer): Promise<FailureReport | null> {
  try {
    return await parseFailureMail(mail);
  } catch (err) {
    if (err instanceof InputRejected || err instanceof FatalError) throw err;
    throw new InputRejected('bad-mail', `the failure-report parser failed on this mail: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function attachmentPart(a: Attachment): MailPart {
  // mailparser replaces application/octet-stream by a type guessed from the file name: keep what the mail said
  const declared = a.headers?.get('content-type') as { value?: unknown } | undefined;
  const type = (typeof declared?.value === 'string' ? declared.value : a.contentType || 'application/octet-stream').toLowerCase();
  const filename = a.filename ?? '';
  return { label: `[${type};${filename}]`, description: filename ? `${type} ${filename}` : type, bytes: a.content };
}

/**
 * The plain-text body is a candidate only when it is the report itself: XML or JSON text, or a bare base64 blob of
 * a compressed report (a body whose Content-Transfer-Encoding header was lost).
 */
function textBody(parsed: ParsedMail): MailPart | null {
  const text = parsed.text;
  if (text === undefined || text.trim() === '') return null;
  const declared = parsed.headers.get('content-type') as { value?: unknown } | undefined;
  const topType = typeof declared?.value === 'string' ? declared.value.toLowerCase() : 'text/plain';
  const type = topType.startsWith('multipart/') ? 'text/plain' : topType;
  const part: MailPart = { label: `[${type};]`, description: type, bytes: null };
  const utf8 = Buffer.from(declareUtf8(text), 'utf8');
  const kind = sniff(utf8, true).kind;
  if (kind === 'xml' || kind === 'json') return { ...part, bytes: utf8 };
  const blob = text.replace(/\s+/g, '');
  if (blob.length >= 16 && /^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
    const decoded = Buffer.from(blob, 'base64');
    const inner = sniff(decoded, true).kind;
    if (inner === 'gzip' || inner === 'zip' || inner === 'zlib' || inner === 'xml' || inner === 'json') return { ...part, bytes: decoded };
  }
  return part;
}

/** The text was decoded to a JS string and is re-encoded as UTF-8: make an XML declaration say so. */
function declareUtf8(text: string): string {
  return text.replace(/^(\s*<\?xml[^>]*?\bencoding\s*=\s*["'])([^"']*)(["'])/i, (all, open: string, enc: string, close: string) =>
    /^utf-?8$/i.test(enc) ? all : `${open}UTF-8${close}`,
  );
}
