/**
 * parseAggregate joins small input chunks before decoding, so chunk boundaries inside the decoder and the
 * scanner are checked here directly: every piece size must give the same text, events and notes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputRejected } from '../../server/errors.ts';
import { createXmlTextDecoder } from '../../server/ingest/xml-decode.ts';
import { XmlScanner, type XmlSink } from '../../server/ingest/xml-scanner.ts';

const AGGREGATE_DIR = new URL('../../samples/aggregate/', import.meta.url);

function decodeIn(bytes: Uint8Array, size: number): { text: string; notes: string[] } {
  const notes: string[] = [];
  const decoder = createXmlTextDecoder((m) => notes.push(m));
  let text = '';
  for (let at = 0; at < bytes.length; at += size) text += decoder.push(bytes.subarray(at, at + size));
  return { text: text + decoder.end(), notes };
}

function scanIn(text: string, sizes: () => number): string[] {
  const log: string[] = [];
  const sink: XmlSink = {
    open: (name, parent, depth, attributes) => log.push(`open ${name} ${parent} ${depth} ${attributes}`),
    close: (name, parent, depth, text) => log.push(`close ${name} ${parent} ${depth} ${JSON.stringify(text)}`),
  };
  const scanner = new XmlScanner(sink, {
    root: 'feedback',
    freeText: new Set(['comment']),
    siblings: new Set(['record', 'report_metadata', 'policy_published']),
    maxDepth: 32,
    maxPending: 1 << 20,
    note: (m) => log.push(`note ${m}`),
  });
  try {
    for (let at = 0; at < text.length; ) {
      const size = Math.max(1, sizes());
      scanner.write(text.slice(at, at + size));
      at += size;
    }
    const end = scanner.end();
    log.push(`end ${JSON.stringify(end)}`);
  } catch (err) {
    if (!(err instanceof InputRejected)) throw err;
    log.push(`rejected ${err.code}`);
  }
  return log;
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

const TRICKY = [
  '\ufeff  <?xml version="1.0" encoding="utf-8"?>\n<!-- a comment with <feedback> inside -->\n<!DOCTYPE feedback SYSTEM "x.dtd">\n' +
    '<x:schema xmlns:x="urn:x"> <dmarc:feedback xmlns:dmarc="urn:ietf:params:xml:ns:dmarc-2.0" a=\'1 > 2\'>' +
    '<report_metadata><org_name>A &amp; B &#x263A; &#9731; &bogus; AT&T</org_name><email><![CDATA[x<y>@z]]></email></report_metadata>' +
    '<record><row><source_ip> 192.0.2.1 </source_ip><count>1<!-- c -->2</count></row>' +
    '<policy_evaluated><reason><type>x</type><comment>a < b <c> </d> <!-- k --> e</comment></reason></policy_evaluated>' +
    '<record><row><source_ip>2001:db8::1</source_ip></row></record>' +
    '<?pi data?><empty/><empty2 b="c"/></dmarc:feedback></x:schema>\n  trailing',
  '<feedback><report_metadata><org_name>cut here',
  '<?xml version="1.0"?><html><body><p>not a report</p></body></html>',
];

describe('chunk boundaries', () => {
  it('the decoder gives the same text for every piece size', () => {
    const samples = [
      Buffer.from('\ufeff<a>Zürich ✉ 😀 naïve</a>', 'utf8'),
      Buffer.concat([Buffer.from('<a>ok '), Buffer.from([0xe9, 0xc3, 0x28, 0xf0, 0x9f, 0x98]), Buffer.from(' end</a>')]),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>Zürich 😀</a>', 'utf16le')]),
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('<a>Zürich 😀</a>', 'utf16le').swap16()]),
      Buffer.from('<?xml version="1.0" encoding="windows-1252"?><a>\u0080 caf\u00e9 \u0093x\u0094</a>' + ' '.repeat(2000), 'latin1'),
    ];
    for (const bytes of samples) {
      const whole = decodeIn(bytes, bytes.length);
      for (const size of [1, 2, 3, 7, 1000]) expect(decodeIn(bytes, size)).toEqual(whole);
    }
    expect(decodeIn(samples[0]!, 1).text).toBe('<a>Zürich ✉ 😀 naïve</a>');
    expect(decodeIn(samples[1]!, 1)).toEqual({ text: '<a>ok éÃ(ðŸ˜ end</a>', notes: ['repaired: invalid UTF-8 bytes decoded as windows-1252'] });
    expect(decodeIn(samples[2]!, 1).text).toBe('<a>Zürich 😀</a>');
    expect(decodeIn(samples[3]!, 1).text).toBe('<a>Zürich 😀</a>');
    expect(decodeIn(samples[4]!, 1).text).toMatch(/^<\?xml[^>]*><a>€ café “x”<\/a> +$/);
  });

  const texts: [string, string][] = [
    ...TRICKY.map((t, i): [string, string] => [`crafted #${i + 1}`, t]),
    ...readdirSync(AGGREGATE_DIR)
      .filter((f) => f.endsWith('.xml'))
      .sort()
      .map((f): [string, string] => [f, readFileSync(new URL(encodeURIComponent(f), AGGREGATE_DIR), 'latin1')])
      .filter(([, t]) => t.length < 60_000),
  ];

  for (const [name, text] of texts) {
    it(`the scanner gives the same events for every piece size: ${name}`, () => {
      const whole = scanIn(text, () => text.length);
      const random = seeded(text.length);
      for (const sizes of [() => 1, () => 2, () => 7, () => 1 + Math.floor(random() * 100)]) expect(scanIn(text, sizes)).toEqual(whole);
    });
  }

  it('the scanner reads the crafted document as intended', () => {
    const log = scanIn(TRICKY[0]!, () => 5);
    expect(log).toContain('close org_name report_metadata 3 "A & B ☺ ☃ &bogus; AT&T"');
    expect(log).toContain('close email report_metadata 3 "x<y>@z"');
    expect(log).toContain('close count row 4 "12"');
    expect(log).toContain('close comment reason 5 "a < b <c> </d>  e"');
    expect(log).toContain('note repaired: closed unclosed <record> before <record>');
    expect(log).toContain('note repaired: removed stray <x:schema> start tag before <feedback>');
    expect(log.at(-1)).toMatch(/^end \{"rootSeen":true,"rootClosed":true/);
  });
});
