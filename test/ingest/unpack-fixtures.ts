/** Builders and collectors for the unpack tests (not a test file itself). */
import zlib from 'node:zlib';
import { InputRejected } from '../../server/errors.ts';
import type { Limits } from '../../server/ingest/limits.ts';
import { unpack } from '../../server/ingest/unpack.ts';
import type { InputSource } from '../../server/ingest/unpack-types.ts';

/** An input that delivers `bytes` in chunks of `chunkSize`, like a file stream. */
export function bytesInput(bytes: Buffer, chunkSize = 64 * 1024, name = 'test-input'): InputSource {
  return {
    name,
    async *open() {
      for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
    },
  };
}

export interface Leaf {
  kind: 'xml' | 'json' | 'failure' | 'rejected';
  member: string | null;
  /** xml/json: everything `chunks` gave */
  text?: string;
  /** xml/json: what `chunks` threw, if anything */
  error?: InputRejected;
  /** rejected: code and detail */
  code?: string;
  detail?: string;
  feedbackType?: string;
}

/** Unpacks and reads every leaf fully; an xml/json stream that throws InputRejected is recorded, not rethrown. */
export async function collectLeaves(input: InputSource, limits: Limits, maxTextBytes = 64 * 1024 * 1024): Promise<Leaf[]> {
  const leaves: Leaf[] = [];
  for await (const leaf of unpack(input, limits)) {
    if (leaf.kind === 'xml' || leaf.kind === 'json') {
      const parts: Buffer[] = [];
      let size = 0;
      let error: InputRejected | undefined;
      try {
        for await (const chunk of leaf.chunks) {
          size += chunk.length;
          if (size <= maxTextBytes) parts.push(chunk);
        }
      } catch (err) {
        if (!(err instanceof InputRejected)) throw err;
        error = err;
      }
      leaves.push({ kind: leaf.kind, member: leaf.member, text: Buffer.concat(parts).toString('utf8'), ...(error ? { error } : {}) });
    } else if (leaf.kind === 'failure') {
      leaves.push({ kind: 'failure', member: leaf.member, feedbackType: leaf.report.feedbackType });
    } else if (leaf.kind === 'rejected') {
      leaves.push({ kind: 'rejected', member: leaf.member, code: leaf.code, detail: leaf.detail });
    }
  }
  return leaves;
}

export const REPORT_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<feedback><report_metadata><org_name>Test</org_name><report_id>r-1</report_id></report_metadata>' +
  '<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>\n';

export const TLS_JSON = '{"organization-name":"Test","report-id":"t-1","policies":[]}';

export interface ZipEntrySpec {
  name: string;
  data: Buffer;
  /** deflate (default) or store */
  method?: 0 | 8;
  /** what the archive claims the uncompressed size is (default: the truth) */
  declaredSize?: number;
  /** already-compressed raw deflate data to use instead of compressing `data` */
  rawDeflate?: Buffer;
}

/** A minimal zip writer (local headers, central directory, end record), enough to build odd archives. */
export function buildZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method ?? 8;
    const body = e.rawDeflate ?? (method === 8 ? zlib.deflateRawSync(e.data) : e.data);
    const crc = zlib.crc32(e.data) >>> 0;
    const size = e.declaredSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** Raw deflate (or gzip) of `head` followed by `unit` repeated `times` times, built without holding the whole. */
export async function compressRepeated(head: Buffer, unit: Buffer, times: number, format: 'raw' | 'gzip'): Promise<Buffer> {
  const engine = format === 'raw' ? zlib.createDeflateRaw({ level: 9 }) : zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  engine.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve, reject) => {
    engine.on('end', resolve);
    engine.on('error', reject);
  });
  engine.write(head);
  for (let i = 0; i < times; i++) {
    if (!engine.write(unit)) await new Promise((r) => engine.once('drain', r));
  }
  engine.end();
  await done;
  return Buffer.concat(out);
}

/** A mail with the given MIME body lines (CRLF). */
export function mail(headers: string[], body: string): Buffer {
  return Buffer.from([...headers, '', body].join('\r\n'), 'latin1');
}

export function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}
