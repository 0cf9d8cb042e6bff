/**
 * Report mails for the mailbox tests: the real .eml samples as they are, and mails built (nodemailer's
 * MailComposer) around the sample report files (.xml, .gz, .zip, .zlib, .json) as attachments. Built mails are
 * deterministic (fixed Message-ID and Date), so the same fixture is the same bytes in every run.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { sampleFiles } from './samples.ts';

export interface MailFixture {
  /** sample file name (or a made-up name for synthetic mails) */
  name: string;
  bytes: Buffer;
}

const ATTACHMENT_TYPES: [RegExp, string][] = [
  [/\.zip$/i, 'application/zip'],
  [/\.(gz|gzip)$/i, 'application/gzip'],
  [/\.json$/i, 'application/tlsrpt+json'],
  [/\.xml$/i, 'text/xml'],
];

/** The bytes an IMAP server hands back for an appended mail: lines end in CRLF (RFC 5322 canonical form). */
export function asImapServes(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** Every .eml sample (aggregate, forensic, smtp_tls), unchanged. */
export function emlSamples(): MailFixture[] {
  return [...sampleFiles('aggregate'), ...sampleFiles('forensic'), ...sampleFiles('smtp_tls')]
    .filter((f) => /\.(eml|txt|mbox)$/i.test(f))
    .map((f) => ({ name: basename(f), bytes: readFileSync(f) }));
}

/** Every non-mail sample report file (aggregate and TLS), each attached to a mail of its own. */
export async function attachmentMails(): Promise<MailFixture[]> {
  const files = [...sampleFiles('aggregate'), ...sampleFiles('smtp_tls')].filter((f) => !/\.(eml|txt|mbox|md)$/i.test(f));
  const mails: MailFixture[] = [];
  for (const [i, file] of files.entries()) {
    mails.push({ name: basename(file), bytes: await reportMail(readFileSync(file), basename(file), { seq: i }) });
  }
  return mails;
}

export interface ReportMailOptions {
  from?: string;
  subject?: string;
  /** extra header fields, top of the message (e.g. Authentication-Results) */
  headers?: [string, string][];
  /** makes Message-ID unique among mails built with the same file */
  seq?: number;
}

/** A report mail with `content` attached as `filename` (type from the extension). */
export async function reportMail(content: Buffer, filename: string, opts: ReportMailOptions = {}): Promise<Buffer> {
  const contentType = ATTACHMENT_TYPES.find(([re]) => re.test(filename))?.[1] ?? 'application/octet-stream';
  const composer = new MailComposer({
    from: opts.from ?? 'dmarc-reports@reporter.test',
    to: 'rua@example.com',
    subject: opts.subject ?? `Report Domain: example.com Submitter: reporter.test File: ${filename}`,
    text: 'This is a DMARC report.',
    messageId: `<fixture-${opts.seq ?? 0}-${filename.replace(/[^\w.!-]/g, '_')}@reporter.test>`,
    date: new Date('2026-01-01T00:00:00Z'),
    headers: opts.headers?.map(([key, value]) => ({ key, value })),
    attachments: [{ filename, content, contentType }],
  });
  return await composer.compile().build();
}

/** Mails with nothing usable in them: plain text, an image, a broken attachment. */
export async function garbageMails(): Promise<MailFixture[]> {
  const build = async (name: string, mail: ConstructorParameters<typeof MailComposer>[0]) => ({
    name,
    bytes: await new MailComposer({
      from: 'someone@elsewhere.test',
      to: 'rua@example.com',
      messageId: `<${name}@elsewhere.test>`,
      date: new Date('2026-01-02T00:00:00Z'),
      ...mail,
    })
      .compile()
      .build(),
  });
  return [
    await build('garbage-text', { subject: 'Hello', text: 'Not a report, just a note sent to the rua address.' }),
    await build('garbage-png', {
      subject: 'A picture',
      text: 'see attached',
      attachments: [{ filename: 'photo.png', content: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), contentType: 'image/png' }],
    }),
    await build('garbage-fake-gz', {
      subject: 'Report Domain: example.com',
      text: 'broken',
      attachments: [{ filename: 'report.xml.gz', content: Buffer.from('this is not gzip at all'), contentType: 'application/gzip' }],
    }),
  ];
}

/** A small valid aggregate report for `domain` with a unique report id. */
export function aggregateXml(reportId: string, domain = 'example.com', org = 'reporter.test'): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata><org_name>${org}</org_name><email>dmarc@${org}</email><report_id>${reportId}</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>
  <policy_published><domain>${domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>
  <record>
    <row><source_ip>192.0.2.1</source_ip><count>3</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>${domain}</header_from></identifiers>
    <auth_results><dkim><domain>${domain}</domain><selector>s1</selector><result>pass</result></dkim>
      <spf><domain>${domain}</domain><result>pass</result></spf></auth_results>
  </record>
</feedback>
`);
}

/** `n` distinct small report mails (for bulk runs: the benchmark, the kill test). */
export async function generatedReportMails(n: number, prefix = 'gen'): Promise<MailFixture[]> {
  const mails: MailFixture[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    mails.push({ name: id, bytes: await reportMail(aggregateXml(id), `reporter.test!example.com!1700000000!1700086399!${id}.xml`, { seq: i }) });
  }
  return mails;
}
