import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AggregateHeader, AggregateRecord } from '../../server/domain/report-types.ts';
import { InputRejected } from '../../server/errors.ts';
import { parseAggregate } from '../../server/ingest/parse-aggregate.ts';
import { resolveLimits, type Limits } from '../../server/ingest/limits.ts';

const META =
  '<report_metadata><org_name>Example Org</org_name><email>dmarc@example.net</email><report_id>r-1</report_id>' +
  '<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>';
const POLICY = '<policy_published><domain>example.com</domain><p>none</p></policy_published>';
const RECORD =
  '<record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated><disposition>none</disposition>' +
  '<dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers>' +
  '<auth_results><spf><domain>example.com</domain><result>pass</result></spf></auth_results></record>';
const BODY = `<feedback>${META}${POLICY}${RECORD}${RECORD}</feedback>`;

/** feeds `bytes` in 1 KB chunks and counts how many bytes the parser pulled */
function source(bytes: Uint8Array, size = 1024) {
  const pulled = { bytes: 0 };
  async function* chunks() {
    for (let at = 0; at < bytes.length; at += size) {
      const chunk = bytes.subarray(at, at + size);
      pulled.bytes += chunk.length;
      yield chunk;
    }
  }
  return { chunks: chunks(), pulled };
}

const bytesOf = (input: string | Uint8Array) => (typeof input === 'string' ? Buffer.from(input, 'utf8') : input);

async function parse(input: string | Uint8Array, limits: Partial<Limits> = {}): Promise<{ header: AggregateHeader; records: AggregateRecord[] }> {
  let header: AggregateHeader | null = null;
  const records: AggregateRecord[] = [];
  for await (const e of parseAggregate(source(bytesOf(input)).chunks, resolveLimits(limits))) {
    if (e.type === 'header') header = e.header;
    else records.push(...e.records);
  }
  if (!header) throw new Error('no header');
  return { header, records };
}

async function rejected(input: string | Uint8Array, limits: Partial<Limits> = {}): Promise<{ code: string; detail: string; pulled: number }> {
  const { chunks, pulled } = source(bytesOf(input));
  try {
    for await (const _ of parseAggregate(chunks, resolveLimits(limits))) void _;
  } catch (err) {
    if (err instanceof InputRejected) return { code: err.code, detail: err.detail, pulled: pulled.bytes };
    throw err;
  }
  throw new Error('expected a rejection');
}

function randomBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a >>> 24;
  }
  return out;
}

describe('encodings', () => {
  const named = (org: string) => `<feedback>${META.replace('Example Org', org)}${POLICY}${RECORD}</feedback>`;

  it('decodes windows-1252 / iso-8859-1 / us-ascii as declared', async () => {
    const latin = Buffer.from(`<?xml version="1.0" encoding="windows-1252"?>${named('Soci\u00e9t\u00e9 \u0080 \u0093q\u0094')}`, 'latin1');
    expect((await parse(latin)).header.orgName).toBe('Société € “q”');
    const big = Buffer.from(`<?xml version="1.0" encoding="windows-1252"?>${named('\u0080'.repeat(3000))}`, 'latin1');
    expect((await parse(big)).header.orgName).toBe('€'.repeat(3000));
    const iso = Buffer.from(`<?xml version='1.0' encoding='ISO-8859-1' ?>${named('M\u00fcller')}`, 'latin1');
    expect((await parse(iso)).header.orgName).toBe('Müller');
    expect((await parse(`<?xml version="1.0" encoding="us-ascii"?>${named('Plain')}`)).header.orgName).toBe('Plain');
  });

  it('handles a UTF-8 BOM and UTF-16 with a BOM (LE and BE)', async () => {
    const text = `<?xml version="1.0" encoding="UTF-16"?>${named('Zürich ✉')}`;
    const bom8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text.replace('UTF-16', 'UTF-8'))]);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const bytes of [bom8, le, be]) {
      const { header, records } = await parse(bytes);
      expect(header.orgName).toBe('Zürich ✉');
      expect(header.errors).toEqual([]);
      expect(records).toHaveLength(1);
    }
  });

  it('decodes invalid UTF-8 bytes as windows-1252 and notes the repair', async () => {
    const bytes = Buffer.concat([Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${named('Caf')}`)]);
    const at = bytes.indexOf('Caf') + 3;
    const fixed = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xe9]), bytes.subarray(at)]);
    const { header } = await parse(fixed);
    expect(header.orgName).toBe('Café');
    expect(header.errors).toContain('repaired: invalid UTF-8 bytes decoded as windows-1252');
  });
});

describe('recovery of not-well-formed XML', () => {
  it('skips whitespace and garbage before the XML declaration', async () => {
    const ws = await parse(`\r\n   <?xml version="1.0"?>${BODY}`);
    expect(ws.header.errors).toEqual(['repaired: leading whitespace before XML declaration']);
    const junk = await parse(`Content-Type: text/xml\r\n\r\n<?xml version="1.0"?>${BODY}`);
    expect(junk.records).toHaveLength(2);
    expect(junk.header.errors).toEqual(['repaired: skipped 26 characters of garbage before the XML declaration']);
  });

  it('removes stray start and end tags around <feedback>', async () => {
    const { header, records } = await parse(`<?xml version="1.0"?> <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n${BODY}</xs:schema>\n`);
    expect(records).toHaveLength(2);
    expect(header.errors).toEqual([
      'repaired: removed stray <xs:schema> start tag before <feedback>',
      'repaired: removed stray end tag </xs:schema> after </feedback>',
    ]);
  });

  it("escapes raw '<' and '&' in text, decodes references, CDATA and comments", async () => {
    const meta = META.replace('Example Org', 'AT&T < Labs &amp; &#233;&#xE9; &nbsp;<![CDATA[<x> & y]]><!-- note -->!');
    const comment = '<reason><type>other</type><comment>score < 5 <via list> </b> a<b </ x> <? y</comment></reason>';
    const { header, records } = await parse(`<?xml version="1.0"?><feedback>${meta}${POLICY}${RECORD.replace('</policy_evaluated>', `${comment}</policy_evaluated>`)}</feedback>`);
    expect(header.orgName).toBe('AT&T < Labs & éé &nbsp;<x> & y!');
    expect(records[0]!.overrideReasons).toEqual([{ type: 'other', comment: 'score < 5 <via list> </b> a<b </ x> <? y' }]);
    expect(header.errors).toEqual(
      expect.arrayContaining([
        "repaired: kept raw '&' in text of <org_name>",
        "repaired: escaped raw '<' in text of <org_name>",
        "repaired: escaped raw '<' in text of <comment>",
      ]),
    );
  });

  it('skips processing instructions and a DOCTYPE without entity declarations', async () => {
    const { records } = await parse(`<?xml version="1.0"?><!DOCTYPE feedback SYSTEM "dmarc.dtd"><?pi x?><feedback>${META}<?pi y?>${POLICY}${RECORD}</feedback>`);
    expect(records).toHaveLength(1);
  });

  it('keeps the complete records of a truncated file and notes it', async () => {
    const cut = `<?xml version="1.0"?><feedback>${META}${POLICY}${RECORD}${RECORD}${RECORD.slice(0, 120)}`;
    const { header, records } = await parse(cut);
    expect(records.map((r) => r.ordinal)).toEqual([0, 1]);
    expect(header.errors).toEqual(['repaired: input ends inside <record> #3; kept the 2 complete records']);
    const noEnd = await parse(`<?xml version="1.0"?><feedback>${META}${POLICY}${RECORD}\n`);
    expect(noEnd.records).toHaveLength(1);
    expect(noEnd.header.errors).toEqual(['repaired: input ends with unclosed <feedback>; kept the 1 complete records']);
  });

  it('closes an unclosed <record> at the next one and drops unmatched end tags', async () => {
    const unclosed = RECORD.replace('</record>', '');
    const { header, records } = await parse(`<feedback>${META}${POLICY}${unclosed}${RECORD.replace('<row>', '<row></foo>')}</feedback>`);
    expect(records).toHaveLength(2);
    expect(records.map((r) => r.count)).toEqual([3, 3]);
    expect(header.errors).toEqual(['repaired: closed unclosed <record> before <record>', 'repaired: removed unmatched end tag </foo>']);
  });

  it('reads through a stray unclosed wrapper inside <feedback> and an unclosed <report_metadata>', async () => {
    const wrapped = await parse(`<feedback><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">${META}${POLICY}${RECORD}</feedback>`);
    expect(wrapped.header.reportId).toBe('r-1');
    expect(wrapped.records).toHaveLength(1);
    expect(wrapped.header.errors).toEqual(['repaired: closed unclosed <xs:schema> at </feedback>']);
    const open = await parse(`<feedback>${META.replace('</report_metadata>', '')}${POLICY}${RECORD}</feedback>`);
    expect(open.header.policy.domain).toBe('example.com');
    expect(open.records).toHaveLength(1);
    expect(open.header.errors).toEqual(['repaired: closed unclosed <report_metadata> before <policy_published>']);
  });

  it('refuses a malformed tag inside an identifier value (meaning unclear)', async () => {
    const r = await rejected(`<feedback>${META.replace('dmarc@example.net', '<dmarc@example.net>')}${POLICY}${RECORD}</feedback>`);
    expect(r.code).toBe('bad-xml');
    expect(r.detail).toContain('<email>');
  });

  it('refuses a file cut before the header is complete', async () => {
    expect((await rejected(`<?xml version="1.0"?><feedback>${META.slice(0, 90)}`)).code).toBe('bad-xml');
    expect((await rejected(`<?xml version="1.0"?><feedback>${META}<policy_published><domain>exa`)).code).toBe('bad-xml');
  });

  it('mutated samples either parse (header first, ordinals in order) or are rejected with a reason code', async () => {
    const dir = new URL('../../samples/aggregate/', import.meta.url);
    const bases = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(new URL(encodeURIComponent(f), dir))).filter((b) => b.length > 0 && b.length < 100_000);
    const inserts = ['<', '>', '&', '</', '/>', '<!--', '<![CDATA[', ']]>', '<?', '<record>', '</record>', '</feedback>', '"', '\u0000', '<!DOCTYPE x>', '&#0;', '<a:b:c>'];
    const rnd = randomBytes(7, 4000);
    let r = 0;
    const next = (n: number) => ((rnd[r++ % rnd.length]! << 8) | rnd[r++ % rnd.length]!) % n;
    const outcomes = new Set<string>();
    for (let round = 0; round < 250; round++) {
      let bytes = Buffer.from(bases[next(bases.length)]!);
      for (let m = 0; m <= next(3); m++) {
        const at = next(bytes.length);
        const kind = next(4);
        if (kind === 0) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + next(20))]);
        else if (kind === 1) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(inserts[next(inserts.length)]!, 'latin1'), bytes.subarray(at)]);
        else if (kind === 2) bytes[at] = next(256);
        else bytes = bytes.subarray(0, at);
      }
      try {
        const { records } = await parse(bytes);
        expect(records.map((x) => x.ordinal)).toEqual(records.map((_, i) => i));
        outcomes.add('parsed');
      } catch (err) {
        if (!(err instanceof InputRejected)) throw err;
        outcomes.add(err.code);
      }
    }
    expect(outcomes.has('parsed')).toBe(true);
    expect(outcomes.has('bad-xml')).toBe(true);
  });
});

describe('unusable input', () => {
  it('empty: no bytes or only white space', async () => {
    expect((await rejected('')).code).toBe('empty');
    expect((await rejected(' \r\n\t ')).code).toBe('empty');
    expect((await rejected(Buffer.from([0xef, 0xbb, 0xbf, 0x0a]))).code).toBe('empty');
  });

  it('not-a-report: other XML, HTML, JSON, text', async () => {
    expect((await rejected('<?xml version="1.0"?><report><x>1</x></report>')).code).toBe('not-a-report');
    expect((await rejected('<!DOCTYPE html><html><head><title>x</title></head><body><p>a</p><p>b</p><p>c</p><p>d</p></body></html>')).code).toBe('not-a-report');
    expect((await rejected('{"organization-name":"x","policies":[]}')).code).toBe('not-a-report');
    expect((await rejected('SGVsbG8gd29ybGQ='.repeat(1000))).code).toBe('not-a-report');
  });

  it('not-a-report for 1 MB of random bytes, after reading only the start', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await rejected(randomBytes(seed, 1024 * 1024));
      expect(r.code).toBe('not-a-report');
      expect(r.pulled).toBeLessThanOrEqual(80 * 1024);
    }
  });

  it('bad-xml for a DOCTYPE declaring entities (billion laughs), refused at once', async () => {
    const lol = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', ' <!ENTITY lol "lol">'];
    for (let i = 1; i < 10; i++) lol.push(` <!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`);
    lol.push(']>', `<feedback>${META.replace('Example Org', '&lol9;')}${POLICY}</feedback>`);
    const doc = lol.join('\n') + ' '.repeat(1024 * 1024);
    const r = await rejected(doc);
    expect(r.code).toBe('bad-xml');
    expect(r.pulled).toBeLessThanOrEqual(32 * 1024);
    expect((await rejected(`<!DOCTYPE feedback [<!ENTITY x SYSTEM "file:///etc/passwd">]><feedback>${META}&x;</feedback>`)).code).toBe('bad-xml');
  });

  it('schema: a feedback without report id or date range', async () => {
    expect((await rejected(`<feedback>${META.replace(/<report_id>.*<\/report_id>/, '')}${POLICY}${RECORD}</feedback>`)).code).toBe('schema');
    expect((await rejected(`<feedback>${META.replace(/<date_range>.*<\/date_range>/, '')}${POLICY}${RECORD}</feedback>`)).code).toBe('schema');
    expect((await rejected(`<feedback>${META.replace('<begin>1700000000</begin>', '<begin>yesterday</begin>')}${POLICY}</feedback>`)).code).toBe('schema');
    expect((await rejected('<?xml version="1.0"?><feedback/>')).code).toBe('schema');
  });
});

describe('safety limits', () => {
  it('too-many-records past maxRecords (and exactly maxRecords is fine)', async () => {
    const three = `<feedback>${META}${POLICY}${RECORD.repeat(3)}</feedback>`;
    expect((await parse(three, { maxRecords: 3 })).records).toHaveLength(3);
    expect((await rejected(`<feedback>${META}${POLICY}${RECORD.repeat(4)}</feedback>`, { maxRecords: 3 })).code).toBe('too-many-records');
  });

  it('too-deep past maxXmlDepth, without reading the rest', async () => {
    const deep = `<feedback>${META}${POLICY}<x>${'<a>'.repeat(100_000)}`;
    const r = await rejected(deep, { maxXmlDepth: 32 });
    expect(r.code).toBe('too-deep');
    expect(r.pulled).toBeLessThanOrEqual(32 * 1024);
    expect((await parse(`<feedback>${META}${POLICY}<ext><a><b>1</b></a></ext>${RECORD}</feedback>`, { maxXmlDepth: 5 })).records).toHaveLength(1);
  });

  it('too-large for a record or header longer than maxElementBytes', async () => {
    const bigRecord = RECORD.replace('</policy_evaluated>', `<reason><type>other</type><comment>${'x'.repeat(5000)}</comment></reason></policy_evaluated>`);
    expect((await rejected(`<feedback>${META}${POLICY}${bigRecord}</feedback>`, { maxElementBytes: 2000 })).code).toBe('too-large');
    expect((await rejected(`<feedback>${META.replace('Example Org', 'y'.repeat(5000))}${POLICY}${RECORD}</feedback>`, { maxElementBytes: 2000 })).code).toBe('too-large');
    const manySmall = `<feedback>${META}${POLICY}<ext>${'<a>1</a>'.repeat(1000)}</ext>${RECORD}</feedback>`;
    expect((await rejected(manySmall, { maxElementBytes: 2000 })).code).toBe('too-large');
    expect((await parse(`<feedback>${META}${POLICY}${RECORD.repeat(50)}</feedback>`, { maxElementBytes: 2000 })).records).toHaveLength(50);
  });
});
