/**
 * Compression bombs and junk under the DEFAULT limits: each is refused with the right code, after a bounded
 * amount of decompression and with bounded memory. The bombs are built here from small compressed units
 * (concatenated gzip members, flushed deflate blocks), never by compressing gigabytes.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputRejected } from '../../server/errors.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { unpack } from '../../server/ingest/unpack.ts';
import type { InputSource } from '../../server/ingest/unpack-types.ts';
import { base64Lines, buildZip, bytesInput, mail } from './unpack-fixtures.ts';

const MiB = 1024 * 1024;
const HEAD = Buffer.from('<?xml version="1.0"?><feedback><report_metadata><report_id>bomb</report_id></report_metadata>');
const SPACES = Buffer.alloc(MiB, 0x20);
/** RSS growth allowed while a bomb is being refused */
const MAX_RSS_GROWTH = 200 * MiB;

/** A gzip of HEAD + `mib` MiB of spaces, as `mib` concatenated members (~1 KiB each, ~1000:1). */
function gzipBomb(mib: number): Buffer {
  const unit = zlib.gzipSync(SPACES, { level: 9 });
  return Buffer.concat([zlib.gzipSync(HEAD), ...Array.from({ length: mib }, () => unit)]);
}

/** Raw deflate of HEAD + `mib` MiB of spaces: fully flushed (independent) blocks, then an empty final block. */
function deflateBomb(mib: number): Buffer {
  const flush = { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 };
  const unit = zlib.deflateRawSync(SPACES, flush);
  return Buffer.concat([zlib.deflateRawSync(HEAD, flush), ...Array.from({ length: mib }, () => unit), zlib.deflateRawSync(Buffer.alloc(0))]);
}

interface Outcome {
  /** kind:member:code for every leaf; xml/json leaves whose chunks threw get the thrown code */
  leaves: string[];
  /** decompressed bytes the consumer received */
  received: number;
  /** highest RSS seen while unpacking, minus the RSS before */
  rssGrowth: number;
}

/** Unpacks like the pipeline does (reading every stream, dropping the bytes), watching RSS. */
async function consume(input: InputSource): Promise<Outcome> {
  const before = process.memoryUsage.rss();
  let peak = before;
  let received = 0;
  const leaves: string[] = [];
  for await (const leaf of unpack(input, DEFAULT_LIMITS)) {
    if (leaf.kind === 'xml' || leaf.kind === 'json') {
      let code = 'ok';
      try {
        for await (const chunk of leaf.chunks) {
          received += chunk.length;
          peak = Math.max(peak, process.memoryUsage.rss());
        }
      } catch (err) {
        if (!(err instanceof InputRejected)) throw err;
        code = err.code;
      }
      leaves.push(`${leaf.kind}:${leaf.member}:${code}`);
    } else {
      leaves.push(`${leaf.kind}:${leaf.member}:${leaf.kind === 'rejected' ? leaf.code : 'ok'}`);
    }
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  return { leaves, received, rssGrowth: peak - before };
}

/** At most this much comes out of a refused bomb: the ratio check starts after ratioCheckAfterBytes. */
const BOUNDED_OUTPUT = DEFAULT_LIMITS.ratioCheckAfterBytes + 2 * MiB;

describe('compression bombs (default limits)', () => {
  it('refuses a gzip bomb (4 GiB from 4 MiB) by its compression ratio', async () => {
    const bomb = gzipBomb(4096);
    expect(bomb.length).toBeLessThan(8 * MiB);
    const out = await consume(bytesInput(bomb));
    expect(out.leaves).toEqual(['xml:gunzip:too-large']);
    expect(out.received).toBeLessThan(BOUNDED_OUTPUT);
    expect(out.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('refuses a zip member that claims 1 KiB but inflates to 4 GiB', async () => {
    const zip = buildZip([{ name: 'report.xml', data: HEAD, declaredSize: 1024, rawDeflate: deflateBomb(4096) }]);
    const out = await consume(bytesInput(zip));
    expect(out.leaves).toEqual(['xml:report.xml:too-large']);
    expect(out.received).toBeLessThan(BOUNDED_OUTPUT);
    expect(out.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('refuses a zip with more entries than maxMembers before reading any', async () => {
    const entries = Array.from({ length: DEFAULT_LIMITS.maxMembers + 1 }, (_, i) => ({ name: `r${i}.xml`, data: HEAD, method: 0 as const }));
    const out = await consume(bytesInput(buildZip(entries)));
    expect(out.leaves).toEqual(['rejected:null:too-many-members']);
    expect(out.received).toBe(0);
  });

  it('refuses nested gzip bombs', async () => {
    const nested = zlib.gzipSync(zlib.gzipSync(gzipBomb(4096)));
    expect(nested.length).toBeLessThan(64 * 1024);
    const out = await consume(bytesInput(nested));
    expect(out.leaves).toEqual(['xml:gunzip>gunzip>gunzip:too-large']);
    expect(out.received).toBeLessThan(BOUNDED_OUTPUT);
    expect(out.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('stops at the first bomb of a zip of bombs (and of a zip of zips of bombs)', async () => {
    const bomb = gzipBomb(1024);
    const zipOfBombs = buildZip(Array.from({ length: 4 }, (_, i) => ({ name: `r${i}.xml.gz`, data: bomb, method: 0 as const })));
    const out = await consume(bytesInput(zipOfBombs));
    expect(out.leaves).toEqual(['xml:r0.xml.gz>gunzip:too-large']);
    expect(out.received).toBeLessThan(BOUNDED_OUTPUT);

    // stored zips in a zip: the inner bombs are reached, the first one stops everything
    const zipOfZips = buildZip(Array.from({ length: 4 }, (_, i) => ({ name: `z${i}.zip`, data: zipOfBombs, method: 0 as const })));
    const deep = await consume(bytesInput(zipOfZips));
    expect(deep.leaves).toEqual(['xml:z0.zip>r0.xml.gz>gunzip:too-large']);
    expect(deep.received).toBeLessThan(BOUNDED_OUTPUT);
    expect(deep.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);

    // deflated zips in a zip: one refusal, whichever layer trips first
    const deflated = buildZip(Array.from({ length: 4 }, (_, i) => ({ name: `z${i}.zip`, data: zipOfBombs })));
    const outer = await consume(bytesInput(deflated));
    expect(outer.leaves).toHaveLength(1);
    expect(outer.leaves[0]).toMatch(/^(?:rejected:z0\.zip|xml:z0\.zip>r0\.xml\.gz>gunzip):too-large$/);
    expect(outer.received).toBeLessThan(BOUNDED_OUTPUT);
    expect(outer.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('refuses a gzip bomb attached to a mail', async () => {
    const m = mail(
      ['From: a@example.org', 'Subject: report', 'MIME-Version: 1.0', 'Content-Type: application/gzip; name="r.xml.gz"', 'Content-Transfer-Encoding: base64'],
      base64Lines(gzipBomb(2048)),
    );
    const out = await consume(bytesInput(m));
    expect(out.leaves).toEqual(['xml:[application/gzip;r.xml.gz]>gunzip:too-large']);
    expect(out.received).toBeLessThan(BOUNDED_OUTPUT);
    expect(out.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('stops a bomb of zeros after sniffing its first bytes', async () => {
    const unit = zlib.gzipSync(Buffer.alloc(MiB), { level: 9 });
    const zeros = Buffer.concat(Array.from({ length: 4096 }, () => unit));
    const out = await consume(bytesInput(zeros));
    expect(out.leaves).toEqual(['rejected:gunzip:not-a-report']);
    expect(out.received).toBe(0);
    expect(out.rssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  });

  it('refuses 1 MiB of random bytes as binary data', async () => {
    const parts: Buffer[] = [];
    let h = createHash('sha256').update('random bytes').digest();
    for (let n = 0; n < MiB; n += h.length) {
      h = createHash('sha256').update(h).digest();
      parts.push(h);
    }
    const random = Buffer.concat(parts).subarray(0, MiB);
    const leaves: unknown[] = [];
    for await (const leaf of unpack(bytesInput(random), DEFAULT_LIMITS)) leaves.push(leaf);
    expect(leaves).toEqual([{ kind: 'rejected', member: null, code: 'not-a-report', detail: 'binary data' }]);
  });
});
