/** sniff(): the type of a stream from its first bytes only. */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniff } from '../../server/ingest/sniff.ts';

const kind = (bytes: Buffer | string, complete = true) => sniff(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, complete).kind;

describe('sniff', () => {
  it('knows compressed formats by their magic bytes', () => {
    expect(kind(zlib.gzipSync('x'))).toBe('gzip');
    expect(kind('PK\x03\x04rest')).toBe('zip');
    expect(kind('PK\x05\x06' + '\0'.repeat(18))).toBe('zip');
    for (const level of [0, 1, 6, 9]) expect(kind(zlib.deflateSync('<feedback/>', { level }))).toBe('zlib');
  });

  it('checks the zlib header checksum and refuses preset dictionaries', () => {
    expect(kind('x\x9c')).toBe('zlib');
    expect(kind('x\x9d')).not.toBe('zlib'); // checksum wrong
    expect(kind('x\xbb')).not.toBe('zlib'); // FDICT set
    expect(kind('xml is a word')).not.toBe('zlib');
  });

  it('finds XML and JSON after a BOM and whitespace', () => {
    expect(kind('<?xml version="1.0"?><feedback/>')).toBe('xml');
    expect(kind('\xef\xbb\xbf\r\n  <feedback>')).toBe('xml');
    expect(kind('\t\n{"organization-name":"x"}')).toBe('json');
    expect(kind('\xef\xbb\xbf[{}]')).toBe('json');
    expect(kind(Buffer.from('\ufeff<feedback/>', 'utf16le'))).toBe('xml');
    expect(kind(Buffer.from('<feedback/>', 'utf16le').swap16())).toBe('xml');
  });

  it('asks for more when the head is only whitespace, and says empty at the end', () => {
    expect(kind('   \r\n', false)).toBe('more');
    expect(kind('   \r\n', true)).toBe('empty');
    expect(kind('', true)).toBe('empty');
  });

  it('tells an mbox from a single mail', () => {
    expect(kind('From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nReturn-Path: <a@b>\nSubject: x\n\nbody\n')).toBe('mbox');
    expect(kind('From MAILER-DAEMON Fri Jul  8 12:08:34 2011\r\nReceived: by x\r\n\r\n')).toBe('mbox');
    expect(kind('From the desk of the postmaster\nplease read this\n')).not.toBe('mbox');
    expect(kind('Return-Path: <a@b>\r\nReceived: from x\r\n\tby y; Mon, 1 Jan 2024\r\nSubject: hi\r\n\r\nbody')).toBe('mail');
    expect(kind('X-Custom: 1\nFrom: a@b\n\nbody')).toBe('mail');
    expect(kind('MIME-Version: 1.0\nContent-Type: application/gzip\n\n')).toBe('mail');
  });

  it('does not take text with a colon for a mail', () => {
    expect(sniff(Buffer.from('Note: the report is attached\nthanks\n'), true)).toEqual({ kind: 'unknown', looksLike: 'text that is not XML, JSON or mail' });
    expect(kind(' Subject: indented first line\n\n')).not.toBe('mail');
  });

  it('says what other files look like', () => {
    const looks = (bytes: Buffer | string) => {
      const s = sniff(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, true);
      return s.kind === 'unknown' ? s.looksLike : s.kind;
    };
    expect(looks('\x89PNG\r\n\x1a\n\0\0\0\rIHDR')).toBe('PNG image');
    expect(looks('%PDF-1.4\n')).toBe('PDF document');
    expect(looks('\xff\xd8\xff\xe0\0\x10JFIF')).toBe('JPEG image');
    expect(looks('BZh91AY&SY')).toMatch(/^bzip2/);
    expect(looks('\xfd7zXZ\0\0')).toMatch(/^xz/);
    expect(looks('<!DOCTYPE html>\n<html>')).toBe('HTML document');
    expect(looks(Buffer.from([0, 0, 0, 1, 2, 3]))).toBe('binary data');
    expect(looks('just words\n')).toBe('text that is not XML, JSON or mail');
  });
});
