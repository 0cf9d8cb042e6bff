/** gzip, zlib and zip handling of unpack(), and the limits on them, on archives built here. */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputRejected } from '../../server/errors.ts';
import { DEFAULT_LIMITS, resolveLimits } from '../../server/ingest/limits.ts';
import { unpack } from '../../server/ingest/unpack.ts';
import { REPORT_XML, TLS_JSON, buildZip, bytesInput, collectLeaves, type Leaf } from './unpack-fixtures.ts';

const xml = Buffer.from(REPORT_XML);

/** The reason code of a refused leaf, whether it came as a 'rejected' leaf or was thrown from `chunks`. */
function refusal(leaf: Leaf): string | undefined {
  return leaf.code ?? leaf.error?.code;
}

/** Text that does not compress (hex of a hash chain). */
function noise(length: number): string {
  const parts: string[] = [];
  let h = Buffer.from('noise');
  for (let n = 0; n < length; n += 64) {
    h = createHash('sha256').update(h).digest();
    parts.push(h.toString('hex'));
  }
  return parts.join('').slice(0, length);
}
const gz = zlib.gzipSync(xml);

describe('unpack: bare files', () => {
  it('yields XML and JSON as they are, BOM and leading whitespace included', async () => {
    for (const text of [REPORT_XML, '\ufeff' + REPORT_XML, ' \r\n\t' + REPORT_XML]) {
      expect(await collectLeaves(bytesInput(Buffer.from(text), 7), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: null, text }]);
    }
    expect(await collectLeaves(bytesInput(Buffer.from('\ufeff ' + TLS_JSON)), DEFAULT_LIMITS)).toEqual([
      { kind: 'json', member: null, text: '\ufeff ' + TLS_JSON },
    ]);
  });

  it('recognises UTF-16 XML', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(REPORT_XML, 'utf16le')]);
    const leaves = await collectLeaves(bytesInput(utf16), DEFAULT_LIMITS);
    expect(leaves.map((l) => l.kind)).toEqual(['xml']);
  });

  it('refuses empty and whitespace-only input as empty', async () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from(' \r\n\t\n'), Buffer.from('\ufeff\n')]) {
      expect(await collectLeaves(bytesInput(bytes), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: null, code: 'empty' }]);
    }
  });

  it('says what a non-report looks like', async () => {
    const cases: [Buffer, string][] = [
      [Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(100, 7)]), 'PNG image'],
      [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj', 'latin1'), 'PDF document'],
      [Buffer.from('<!DOCTYPE html><html><body>hi</body></html>'), 'HTML document'],
      [Buffer.from('Dear postmaster,\nplease find the report.\n'), 'text that is not XML, JSON or mail'],
      [Buffer.from([0x00, 0x01, 0x02, 0xfe, 0x80, 0x00, 0x13]), 'binary data'],
    ];
    for (const [bytes, looksLike] of cases) {
      expect(await collectLeaves(bytesInput(bytes), DEFAULT_LIMITS)).toEqual([{ kind: 'rejected', member: null, code: 'not-a-report', detail: looksLike }]);
    }
  });

  it('lets read errors of the input itself propagate', async () => {
    const failing = {
      name: 'missing.xml',
      // eslint-disable-next-line require-yield
      async *open(): AsyncGenerator<Uint8Array> {
        throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
      },
    };
    await expect(collectLeaves(failing, DEFAULT_LIMITS)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('unpack: gzip and zlib', () => {
  it('gunzips, streaming, with the member named gunzip', async () => {
    expect(await collectLeaves(bytesInput(gz, 5), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: 'gunzip', text: REPORT_XML }]);
  });

  it('gunzips gzip in gzip, and zip in gzip', async () => {
    expect(await collectLeaves(bytesInput(zlib.gzipSync(gz)), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: 'gunzip>gunzip', text: REPORT_XML }]);
    const zipped = buildZip([{ name: 'r.xml', data: xml }]);
    expect(await collectLeaves(bytesInput(zlib.gzipSync(zipped)), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: 'gunzip>r.xml', text: REPORT_XML }]);
  });

  it('keeps the whole report when bytes follow the gzip stream', async () => {
    // a report big enough that the last decompressed chunk is the one Node's Gunzip drops on trailing garbage
    const big = Buffer.from(REPORT_XML.replace('<record>', '<record>' + '<!-- padding -->'.repeat(20_000)));
    const packed = zlib.gzipSync(big);
    const trailers = [
      Buffer.from('unused'),
      Buffer.alloc(1000),
      Buffer.from([0x1f, 0x8b, 0x01, 0x02, 0x03]),
      Buffer.from([0x1f]),
      Buffer.from('\r\n'),
      packed.subarray(0, 40), // a cut-off copy of the stream
      Buffer.concat([packed.subarray(0, 10), Buffer.alloc(30, 0xff)]), // a gzip header, then junk
    ];
    for (const trailer of trailers) {
      for (const chunkSize of [1, 100, 64 * 1024]) {
        if (chunkSize === 1 && trailer.length > 10) continue;
        const leaves = await collectLeaves(bytesInput(Buffer.concat([packed, trailer]), chunkSize === 1 ? 4096 : chunkSize), DEFAULT_LIMITS);
        expect(leaves).toHaveLength(1);
        expect(leaves[0]!.error).toBeUndefined();
        expect(leaves[0]!.text).toBe(big.toString());
      }
    }
  });

  it('reads every member of a multi-member gzip', async () => {
    const half = REPORT_XML.length >> 1;
    const two = Buffer.concat([zlib.gzipSync(REPORT_XML.slice(0, half)), zlib.gzipSync(REPORT_XML.slice(half))]);
    expect(await collectLeaves(bytesInput(two, 3), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: 'gunzip', text: REPORT_XML }]);
  });

  it('parses gzip headers with a file name, comment, extra field and header CRC', async () => {
    const body = zlib.deflateRawSync(xml);
    const header = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3]),
      Buffer.from([4, 0, 1, 2, 3, 4]),
      Buffer.from('report.xml\0comment\0', 'latin1'),
      Buffer.from([0xaa, 0xbb]),
    ]);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(zlib.crc32(xml) >>> 0, 0);
    trailer.writeUInt32LE(xml.length, 4);
    expect(await collectLeaves(bytesInput(Buffer.concat([header, body, trailer]), 4), DEFAULT_LIMITS)).toEqual([
      { kind: 'xml', member: 'gunzip', text: REPORT_XML },
    ]);
  });

  it('refuses a corrupt or truncated gzip as bad-compression', async () => {
    const corrupt = Buffer.concat([gz.subarray(0, 10), Buffer.alloc(40, 0xff), gz.subarray(50)]);
    expect(await collectLeaves(bytesInput(corrupt), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: 'gunzip', code: 'bad-compression' }]);
    expect(await collectLeaves(bytesInput(gz.subarray(0, 6)), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: 'gunzip', code: 'bad-compression' }]);
    expect(await collectLeaves(bytesInput(Buffer.from([0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 3, 1, 2])), DEFAULT_LIMITS)).toMatchObject([
      { kind: 'rejected', code: 'bad-compression' },
    ]);
  });

  it('makes chunks throw bad-compression when a gzip breaks off after usable output', async () => {
    const big = Buffer.from(REPORT_XML.replace('<record>', '<record>' + 'x'.repeat(300_000)));
    const packed = zlib.gzipSync(big);
    const leaves = await collectLeaves(bytesInput(packed.subarray(0, packed.length - 100)), DEFAULT_LIMITS);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ kind: 'xml', member: 'gunzip' });
    expect(leaves[0]!.error?.code).toBe('bad-compression');
  });

  it('detects a wrong CRC', async () => {
    const broken = Buffer.from(gz);
    broken.writeUInt32LE((broken.readUInt32LE(broken.length - 8) ^ 1) >>> 0, broken.length - 8);
    const leaves = await collectLeaves(bytesInput(broken), DEFAULT_LIMITS);
    expect(leaves).toHaveLength(1);
    expect(refusal(leaves[0]!)).toBe('bad-compression');
  });

  it('inflates raw zlib streams', async () => {
    for (const level of [1, 6, 9]) {
      const z = zlib.deflateSync(xml, { level });
      expect(await collectLeaves(bytesInput(Buffer.concat([z, Buffer.from('trailing')]), 11), DEFAULT_LIMITS)).toEqual([
        { kind: 'xml', member: 'inflate', text: REPORT_XML },
      ]);
    }
    const json = zlib.deflateSync(Buffer.from(TLS_JSON));
    expect(await collectLeaves(bytesInput(json), DEFAULT_LIMITS)).toEqual([{ kind: 'json', member: 'inflate', text: TLS_JSON }]);
  });
});

describe('unpack: zip', () => {
  it('yields every file member by path, skipping folders, naming unnamed members #N', async () => {
    const zip = buildZip([
      { name: 'reports/', data: Buffer.alloc(0), method: 0 },
      { name: 'reports/a.xml', data: xml },
      { name: '', data: Buffer.from(TLS_JSON), method: 0 },
      { name: '__MACOSX/reports/._a.xml', data: Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]) },
      { name: 'b.xml.gz', data: gz, method: 0 },
    ]);
    expect(await collectLeaves(bytesInput(zip, 100), DEFAULT_LIMITS)).toEqual([
      { kind: 'xml', member: 'reports/a.xml', text: REPORT_XML },
      { kind: 'json', member: '#3', text: TLS_JSON },
      { kind: 'xml', member: 'b.xml.gz>gunzip', text: REPORT_XML },
    ]);
  });

  it('opens a zip inside a zip', async () => {
    const inner = buildZip([{ name: 'in.xml', data: xml }]);
    const outer = buildZip([{ name: 'inner.zip', data: inner }]);
    expect(await collectLeaves(bytesInput(outer), DEFAULT_LIMITS)).toEqual([{ kind: 'xml', member: 'inner.zip>in.xml', text: REPORT_XML }]);
  });

  it('rejects non-report members on their own and keeps going', async () => {
    const zip = buildZip([
      { name: 'readme.txt', data: Buffer.from('just some text\n') },
      { name: 'r.xml', data: xml },
    ]);
    expect(await collectLeaves(bytesInput(zip), DEFAULT_LIMITS)).toMatchObject([
      { kind: 'rejected', member: 'readme.txt', code: 'not-a-report' },
      { kind: 'xml', member: 'r.xml' },
    ]);
  });

  it('refuses an unreadable zip as bad-archive and an empty one as empty', async () => {
    const zip = buildZip([{ name: 'r.xml', data: xml }]);
    const truncated = zip.subarray(0, zip.length - 30);
    expect(await collectLeaves(bytesInput(truncated), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: null, code: 'bad-archive' }]);
    const corruptMember = Buffer.from(zip);
    corruptMember.fill(0xff, 40, 60);
    const leaves = await collectLeaves(bytesInput(corruptMember), DEFAULT_LIMITS);
    expect(leaves.length).toBe(1);
    expect(leaves[0]!.code ?? leaves[0]!.error?.code).toBe('bad-archive');
    expect(await collectLeaves(bytesInput(buildZip([])), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: null, code: 'empty' }]);
  });

  it('refuses encrypted members and unsupported methods', async () => {
    const zip = buildZip([{ name: 'r.xml', data: xml, method: 0 }]);
    zip.writeUInt16LE(14, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10); // central directory: method 14 (LZMA)
    expect(await collectLeaves(bytesInput(zip), DEFAULT_LIMITS)).toMatchObject([{ kind: 'rejected', member: 'r.xml', code: 'bad-archive' }]);
  });

  it('refuses more than maxMembers entries as a whole, before reading any', async () => {
    const entries = Array.from({ length: 6 }, (_, i) => ({ name: `r${i}.xml`, data: xml }));
    const leaves = await collectLeaves(bytesInput(buildZip(entries)), resolveLimits({ maxMembers: 5 }));
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ kind: 'rejected', member: null, code: 'too-many-members' });
    expect(leaves[0]!.detail).toMatch(/maxMembers = 5; raise DMARC_LENS_MAX_MEMBERS/);
    expect(await collectLeaves(bytesInput(buildZip(entries.slice(0, 5))), resolveLimits({ maxMembers: 5 }))).toHaveLength(5);
  });

  it('stops an abandoned member and goes on with the next', async () => {
    const big = Buffer.from(REPORT_XML.replace('<record>', '<record>' + 'y'.repeat(2_000_000)));
    const zip = buildZip([
      { name: 'big.xml', data: big },
      { name: 'small.xml.gz', data: gz },
    ]);
    const seen: string[] = [];
    for await (const leaf of unpack(bytesInput(zip), DEFAULT_LIMITS)) {
      seen.push(`${leaf.kind}:${leaf.member}`);
      if (leaf.member === 'big.xml' && leaf.kind === 'xml') {
        for await (const chunk of leaf.chunks) {
          expect(chunk.subarray(0, 5).toString()).toBe('<?xml');
          break; // abandon after the first chunk
        }
      } else if (leaf.kind === 'xml') {
        let text = '';
        for await (const chunk of leaf.chunks) text += chunk.toString();
        expect(text).toBe(REPORT_XML);
      }
    }
    expect(seen).toEqual(['xml:big.xml', 'xml:small.xml.gz>gunzip']);
  });

  it('stops an abandoned gzip stream without reading the rest of the input', async () => {
    const big = zlib.gzipSync(Buffer.from(REPORT_XML.replace('<record>', '<record>' + noise(2_000_000))));
    let delivered = 0;
    const input = {
      name: 'big.xml.gz',
      async *open() {
        for (let at = 0; at < big.length; at += 256) {
          delivered += 256;
          yield big.subarray(at, at + 256);
        }
      },
    };
    const leaves = [];
    for await (const leaf of unpack(input, DEFAULT_LIMITS)) leaves.push(leaf.kind); // never reads chunks
    expect(leaves).toEqual(['xml']);
    expect(delivered).toBeLessThan(big.length / 2);
  });
});

describe('unpack: limits', () => {
  it('refuses input above maxInputBytes: a zip as a rejected leaf, an XML stream by throwing from chunks', async () => {
    const limits = resolveLimits({ maxInputBytes: 1000 });
    const zip = buildZip([{ name: 'r.xml', data: Buffer.from(REPORT_XML.repeat(10)), method: 0 }]);
    const leaves = await collectLeaves(bytesInput(zip, 100), limits);
    expect(leaves).toMatchObject([{ kind: 'rejected', member: null, code: 'too-large' }]);
    expect(leaves[0]!.detail).toMatch(/maxInputBytes; raise DMARC_LENS_MAX_INPUT_BYTES/);

    // refused while the consumer reads it (the first 16 KiB were sniffed within the limit)
    const xmlLeaves = await collectLeaves(bytesInput(Buffer.from(REPORT_XML.repeat(500)), 1000), resolveLimits({ maxInputBytes: 50_000 }));
    expect(xmlLeaves).toHaveLength(1);
    expect(xmlLeaves[0]!.kind).toBe('xml');
    expect(xmlLeaves[0]!.error).toBeInstanceOf(InputRejected);
    expect(xmlLeaves[0]!.error!.code).toBe('too-large');
  });

  it('refuses a decompressed stream above maxDecompressedBytes', async () => {
    const limits = resolveLimits({ maxDecompressedBytes: 200_000 });
    const big = zlib.gzipSync(Buffer.from(REPORT_XML.repeat(5000)));
    const leaves = await collectLeaves(bytesInput(big), limits);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]!.kind).toBe('xml');
    expect(leaves[0]!.text!.length).toBeLessThanOrEqual(200_000);
    expect(leaves[0]!.error?.code).toBe('too-large');
    expect(leaves[0]!.error?.detail).toMatch(/maxDecompressedBytes/);
    // a zip member that declares more than the limit is refused before it is read
    const zip = buildZip([{ name: 'r.xml', data: Buffer.from(REPORT_XML.repeat(5000)) }]);
    expect(await collectLeaves(bytesInput(zip), limits)).toMatchObject([{ kind: 'rejected', member: 'r.xml', code: 'too-large' }]);
    // one that lies about its size is stopped while it is read
    const liar = buildZip([{ name: 'r.xml', data: Buffer.from(REPORT_XML.repeat(5000)), declaredSize: 500 }]);
    const liarLeaves = await collectLeaves(bytesInput(liar), limits);
    expect(liarLeaves[0]!.error?.code).toBe('too-large');
    expect(liarLeaves[0]!.text!.length).toBeLessThanOrEqual(200_000);
  });

  it('refuses containers nested deeper than maxNesting as too-deep', async () => {
    let packed: Buffer = xml;
    for (let i = 0; i < 4; i++) packed = zlib.gzipSync(packed);
    expect(await collectLeaves(bytesInput(packed), resolveLimits({ maxNesting: 4 }))).toMatchObject([
      { kind: 'xml', member: 'gunzip>gunzip>gunzip>gunzip' },
    ]);
    const leaves = await collectLeaves(bytesInput(packed), resolveLimits({ maxNesting: 3 }));
    expect(leaves).toMatchObject([{ kind: 'rejected', member: 'gunzip>gunzip>gunzip', code: 'too-deep' }]);
    expect(leaves[0]!.detail).toMatch(/maxNesting = 3; raise DMARC_LENS_MAX_NESTING/);
  });

  it('counts maxTotalDecompressedBytes over all members of an input', async () => {
    const member = Buffer.from(REPORT_XML.replace('<record>', '<record>' + ' '.repeat(6000)));
    const zip = buildZip(Array.from({ length: 5 }, (_, i) => ({ name: `r${i}.xml`, data: member })));
    const leaves = await collectLeaves(bytesInput(zip), resolveLimits({ maxTotalDecompressedBytes: 20_000 }));
    const ok = leaves.filter((l) => l.kind === 'xml' && !l.error);
    expect(ok.length).toBe(3);
    expect(refusal(leaves[3]!)).toBe('too-large');
    expect(leaves[3]!.detail ?? leaves[3]!.error?.detail).toMatch(/maxTotalDecompressedBytes/);
    expect(leaves).toHaveLength(4); // nothing more is taken from the input after that
  });

  it('never throws for random bytes of any size', async () => {
    let seed = Buffer.from('seed');
    for (let i = 0; i < 30; i++) {
      seed = createHash('sha256').update(seed).digest();
      const bytes = Buffer.concat(Array.from({ length: 1 + (seed[0]! % 40) }, (_, k) => createHash('sha256').update(seed).update(String(k)).digest()));
      const leaves = await collectLeaves(bytesInput(bytes, 13), DEFAULT_LIMITS);
      expect(leaves.length).toBeGreaterThanOrEqual(1);
      for (const leaf of leaves) expect(leaf.kind === 'rejected' || leaf.error !== undefined || leaf.kind === 'xml' || leaf.kind === 'json').toBe(true);
    }
  });
});
