/** Mails and mboxes through unpack(), on mails built here (the real ones are in unpack-samples.test.ts). */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveLimits } from '../../server/ingest/limits.ts';
import { REPORT_XML, TLS_JSON, base64Lines, buildZip, bytesInput, collectLeaves, mail } from './unpack-fixtures.ts';

const xml = Buffer.from(REPORT_XML);
const gz = zlib.gzipSync(xml);
const HEAD = ['From: reporter@example.org', 'To: dmarc@example.com', 'Subject: Report Domain: example.com', 'MIME-Version: 1.0'];

function multipart(parts: { headers: string[]; body: string }[], type = 'multipart/mixed', boundary = 'BOUNDARY'): Buffer {
  const lines = parts.flatMap((p) => [`--${boundary}`, ...p.headers, '', p.body]);
  return mail([...HEAD, `Content-Type: ${type}; boundary="${boundary}"`], [...lines, `--${boundary}--`, ''].join('\r\n'));
}

const textPart = { headers: ['Content-Type: text/plain; charset=us-ascii'], body: 'This is a DMARC aggregate report.' };
const htmlPart = { headers: ['Content-Type: text/html; charset=us-ascii'], body: '<html><body><p>This is a report.</p></body></html>' };
function attachment(type: string, name: string, bytes: Buffer) {
  return {
    headers: [`Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64'],
    body: base64Lines(bytes),
  };
}

describe('unpack: mail', () => {
  it('finds a gzip attachment and names it by declared type and file name', async () => {
    const m = multipart([textPart, attachment('application/gzip', 'r.xml.gz', gz)]);
    expect(await collectLeaves(bytesInput(m, 50), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: '[application/gzip;r.xml.gz]>gunzip', text: REPORT_XML }]);
  });

  it('sniffs attachments whatever their MIME type says', async () => {
    const zip = buildZip([{ name: 'r.xml', data: xml }]);
    const m = multipart([
      attachment('application/gzip', 'r.zip', zip),
      attachment('application/octet-stream', 'r.xml.gz', gz),
      attachment('image/png', 'tls.json', Buffer.from(TLS_JSON)),
    ]);
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toEqual([
      { kind: 'xml', member: '[application/gzip;r.zip]>r.xml', text: REPORT_XML },
      { kind: 'xml', member: '[application/octet-stream;r.xml.gz]>gunzip', text: REPORT_XML },
      { kind: 'json', member: '[image/png;tls.json]', text: TLS_JSON },
    ]);
  });

  it('reads RFC 2231 split file names', async () => {
    const m = multipart([
      {
        headers: [
          'Content-Type: application/gzip',
          'Content-Disposition: attachment;',
          ' filename*0="example.org!example.com!1700000000!17";',
          ' filename*1="00086399.xml.gz"',
          'Content-Transfer-Encoding: base64',
        ],
        body: base64Lines(gz),
      },
    ]);
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toMatchObject([
      { kind: 'xml', member: '[application/gzip;example.org!example.com!1700000000!1700086399.xml.gz]>gunzip' },
    ]);
  });

  it('takes a report that is the body of the mail', async () => {
    const topGzip = mail([...HEAD, 'Content-Type: application/gzip; name="r.xml.gz"', 'Content-Transfer-Encoding: base64'], base64Lines(gz));
    expect(await collectLeaves(bytesInput(topGzip), DEFAULT_LIMITS)).toMatchObject([{ kind: 'xml', member: '[application/gzip;r.xml.gz]>gunzip' }]);

    const textXml = mail([...HEAD, 'Content-Type: text/xml; charset=utf-8'], REPORT_XML);
    expect(await collectLeaves(bytesInput(textXml), DEFAULT_LIMITS)).toMatchObject([{ kind: 'xml', member: '[text/xml;]', text: REPORT_XML }]);

    const plainJson = mail([...HEAD, 'Content-Type: text/plain'], TLS_JSON);
    expect(await collectLeaves(bytesInput(plainJson), DEFAULT_LIMITS)).toMatchObject([{ kind: 'json', member: '[text/plain;]' }]);

    // base64 of a gzip, but no Content-Transfer-Encoding header
    const bareBase64 = mail([...HEAD, 'Content-Type: text/plain'], base64Lines(gz));
    expect(await collectLeaves(bytesInput(bareBase64), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: '[text/plain;]>gunzip', text: REPORT_XML }]);
  });

  it('re-declares a text body XML as UTF-8 after decoding its charset', async () => {
    const body = Buffer.from('<?xml version="1.0" encoding="windows-1252"?><feedback><org_name>Soci\xe9t\xe9</org_name></feedback>', 'latin1');
    const m = Buffer.concat([mail([...HEAD, 'Content-Type: text/plain; charset=windows-1252', 'Content-Transfer-Encoding: 8bit'], ''), body]);
    const leaves = await collectLeaves(bytesInput(m), DEFAULT_LIMITS);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]!.text).toContain('encoding="UTF-8"');
    expect(leaves[0]!.text).toContain('Société');
  });

  it('opens a forwarded report in a message/rfc822 part', async () => {
    const inner = multipart([textPart, attachment('application/gzip', 'r.xml.gz', gz)], 'multipart/mixed', 'INNER').toString('latin1');
    const m = multipart([textPart, { headers: ['Content-Type: message/rfc822'], body: inner }]);
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toEqual([
      { kind: 'xml', member: '[message/rfc822;]>[application/gzip;r.xml.gz]>gunzip', text: REPORT_XML },
    ]);
  });

  it('drops text, HTML and images of a mail that holds a report', async () => {
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(64, 1)]);
    const m = multipart([
      { headers: ['Content-Type: multipart/alternative; boundary="ALT"'], body: ['--ALT', ...textPart.headers, '', textPart.body, '--ALT', ...htmlPart.headers, '', htmlPart.body, '--ALT--'].join('\r\n') },
      attachment('image/png', 'logo.png', png),
      attachment('application/zip', 'r.zip', buildZip([{ name: 'r.xml', data: xml }])),
    ]);
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toMatchObject([{ kind: 'xml', member: '[application/zip;r.zip]>r.xml' }]);
  });

  it('gives one not-a-report leaf listing the parts when a mail holds no report', async () => {
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(64, 1)]);
    const m = multipart([textPart, htmlPart, attachment('application/octet-stream', 'r.xml.gz', png)]);
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toEqual([
      {
        kind: 'rejected',
        member: null,
        code: 'not-a-report',
        detail: 'mail has no report attachment (parts: text/plain; text/html; application/octet-stream r.xml.gz: PNG image)',
      },
    ]);
    const bare = mail(HEAD, '');
    expect(await collectLeaves(bytesInput(bare), DEFAULT_LIMITS)).toEqual([
      { kind: 'rejected', member: null, code: 'not-a-report', detail: 'mail has no report attachment (parts: none)' },
    ]);
  });

  it('reports a broken archive attachment instead of "no report"', async () => {
    const zip = buildZip([{ name: 'r.xml', data: xml }]);
    const m = multipart([textPart, attachment('application/zip', 'r.zip', zip.subarray(0, zip.length - 30))]);
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: '[application/zip;r.zip]', code: 'bad-archive' }]);
  });

  it('refuses more than maxMembers attachments', async () => {
    const m = multipart([1, 2, 3].map((i) => attachment('application/gzip', `r${i}.xml.gz`, gz)));
    expect(await collectLeaves(bytesInput(m), resolveLimits({ maxMembers: 2 }))).toMatchObject([{ kind: 'rejected', member: null, code: 'too-many-members' }]);
    expect(await collectLeaves(bytesInput(m), resolveLimits({ maxMembers: 3 }))).toHaveLength(3);
  });

  it('passes on what the failure-report parser rejects', async () => {
    const m = multipart([textPart], 'multipart/report; report-type=feedback-report');
    const leaves = await collectLeaves(bytesInput(m), DEFAULT_LIMITS);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ kind: 'rejected', member: null, code: 'schema' });
  });

  it('yields a failure leaf for an ARF report and looks no further', async () => {
    const m = multipart(
      [
        textPart,
        { headers: ['Content-Type: message/feedback-report'], body: 'Feedback-Type: auth-failure\r\nVersion: 1\r\nAuth-Failure: dmarc\r\nSource-IP: 192.0.2.7\r\nReported-Domain: example.com\r\n' },
        { headers: ['Content-Type: text/rfc822-headers'], body: 'From: someone@example.com\r\nSubject: hi\r\n' },
        attachment('application/gzip', 'r.xml.gz', gz),
      ],
      'multipart/report; report-type=feedback-report',
    );
    expect(await collectLeaves(bytesInput(m), DEFAULT_LIMITS)).toMatchObject([{ kind: 'failure', member: null, feedbackType: 'auth-failure' }]);
  });
});

describe('unpack: mbox', () => {
  const reportMail = (n: number) => multipart([textPart, attachment('application/gzip', `r${n}.xml.gz`, gz)]).toString('latin1');
  const xmlBodyMail = mail([...HEAD, 'Content-Type: text/xml'], '<feedback>\r\n>From the top\r\n>>From deeper\r\nFrom unquoted\r\nbody line\r\n</feedback>').toString('latin1');
  const proseMail = mail(HEAD, 'Hello,\r\n\r\nFrom what I see this is no report.\r\n').toString('latin1');

  function mbox(mails: string[], eol: '\n' | '\r\n'): Buffer {
    const text = mails.map((m, i) => `From reporter@example.org Mon Jan  ${i + 1} 00:00:00 2024\r\n${m}\r\n`).join('');
    return Buffer.from(eol === '\n' ? text.replace(/\r\n/g, '\n') : text, 'latin1');
  }

  for (const eol of ['\n', '\r\n'] as const) {
    it(`splits an mbox into mails (${eol === '\n' ? 'LF' : 'CRLF'}), unquoting >From lines`, async () => {
      const box = mbox([reportMail(1), xmlBodyMail, proseMail, reportMail(4)], eol);
      const leaves = await collectLeaves(bytesInput(box, 7), DEFAULT_LIMITS);
      expect(leaves.map((l) => [l.kind, l.member, l.code ?? null])).toEqual([
        ['xml', 'mbox#1>[application/gzip;r1.xml.gz]>gunzip', null],
        ['xml', 'mbox#2>[text/xml;]', null],
        ['rejected', 'mbox#3', 'not-a-report'],
        ['xml', 'mbox#4>[application/gzip;r4.xml.gz]>gunzip', null],
      ]);
      expect(leaves[0]!.text).toBe(REPORT_XML);
      const body = leaves[1]!.text!.replace(/\r\n/g, '\n');
      expect(body).toContain('\nFrom the top\n>From deeper\nFrom unquoted\nbody line\n');
    });
  }

  it('reads an mbox inside a gzip', async () => {
    const leaves = await collectLeaves(bytesInput(zlib.gzipSync(mbox([reportMail(1), reportMail(2)], '\n'))), DEFAULT_LIMITS);
    expect(leaves.map((l) => l.member)).toEqual(['gunzip>mbox#1>[application/gzip;r1.xml.gz]>gunzip', 'gunzip>mbox#2>[application/gzip;r2.xml.gz]>gunzip']);
  });

  it('yields the first maxMembers mails, then refuses the rest', async () => {
    const leaves = await collectLeaves(bytesInput(mbox([reportMail(1), reportMail(2), reportMail(3)], '\n')), resolveLimits({ maxMembers: 2 }));
    expect(leaves.map((l) => [l.kind, l.member, l.code ?? null])).toEqual([
      ['xml', 'mbox#1>[application/gzip;r1.xml.gz]>gunzip', null],
      ['xml', 'mbox#2>[application/gzip;r2.xml.gz]>gunzip', null],
      ['rejected', null, 'too-many-members'],
    ]);
  });

  it('refuses a mail above maxDecompressedBytes and goes on', async () => {
    const big = multipart([textPart, attachment('application/octet-stream', 'big.bin', Buffer.alloc(60_000, 7))]).toString('latin1');
    const leaves = await collectLeaves(bytesInput(mbox([big, reportMail(2)], '\n')), resolveLimits({ maxDecompressedBytes: 50_000 }));
    expect(leaves.map((l) => [l.kind, l.member, l.code ?? null])).toEqual([
      ['rejected', 'mbox#1', 'too-large'],
      ['xml', 'mbox#2>[application/gzip;r2.xml.gz]>gunzip', null],
    ]);
    expect(leaves[0]!.detail).toMatch(/maxDecompressedBytes; raise DMARC_LENS_MAX_DECOMPRESSED_BYTES/);
  });
});
