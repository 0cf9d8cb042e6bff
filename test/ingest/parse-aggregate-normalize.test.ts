import { describe, expect, it } from 'vitest';
import type { AggregateHeader, AggregateRecord } from '../../server/domain/report-types.ts';
import { parseAggregate, type AggregateEvent } from '../../server/ingest/parse-aggregate.ts';
import { resolveLimits } from '../../server/ingest/limits.ts';

const META =
  '<report_metadata><org_name>Example Org</org_name><email>dmarc@reports.example.net</email><report_id>r-1</report_id>' +
  '<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>';
const POLICY = '<policy_published><domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>';

function record(inner: { row?: string; identifiers?: string; auth?: string } = {}): string {
  const row = inner.row ?? '<source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>';
  const identifiers = inner.identifiers ?? '<identifiers><header_from>example.com</header_from></identifiers>';
  const auth = inner.auth ?? '<auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim><spf><domain>example.com</domain><scope>mfrom</scope><result>fail</result></spf></auth_results>';
  return `<record><row>${row}</row>${identifiers}${auth}</record>`;
}

function doc(parts: { meta?: string; policy?: string; records?: string[]; version?: string; open?: string; close?: string } = {}): string {
  const version = parts.version === undefined ? '' : `<version>${parts.version}</version>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${parts.open ?? '<feedback>'}${version}${parts.meta ?? META}${parts.policy ?? POLICY}${(parts.records ?? [record()]).join('\n')}${parts.close ?? '</feedback>'}\n`;
}

async function parse(xml: string | Uint8Array): Promise<{ header: AggregateHeader; records: AggregateRecord[]; events: AggregateEvent[] }> {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  async function* one() {
    yield bytes;
  }
  const events: AggregateEvent[] = [];
  for await (const e of parseAggregate(one(), resolveLimits())) events.push(e);
  const first = events[0];
  if (first?.type !== 'header') throw new Error('no header event first');
  return { header: first.header, records: events.flatMap((e) => (e.type === 'records' ? e.records : [])), events };
}

describe('values reporters get wrong', () => {
  it('trims spaces, tabs and CR/LF around every value and lower-cases enums', async () => {
    const { header, records } = await parse(
      doc({
        meta: '<report_metadata><org_name>\t Example Org \r\n</org_name><email> dmarc@example.net </email><report_id>\n r-1 \n</report_id><date_range><begin> 1700000000 </begin><end>\t1700086399\r\n</end></date_range></report_metadata>',
        policy: '<policy_published><domain> example.com </domain><adkim>R</adkim><aspf> S </aspf><p>Reject</p><sp>QUARANTINE</sp><np>None</np><pct> 50 </pct><fo> 1 </fo></policy_published>',
        records: [
          record({
            row: '<source_ip> 192.0.2.1\t</source_ip><count> 4 </count><policy_evaluated><disposition> Quarantine </disposition><dkim>Pass</dkim><spf>FAIL</spf></policy_evaluated>',
            identifiers: '<identifiers><header_from> example.com </header_from><envelope_from>\tbounce.example.com</envelope_from></identifiers>',
            auth: '<auth_results><dkim><domain> example.com </domain><selector> s1 </selector><result> Pass </result></dkim><spf><domain>example.com</domain><scope> MFROM </scope><result>HardFail</result></spf></auth_results>',
          }),
        ],
      }),
    );
    expect(header).toMatchObject({ orgName: 'Example Org', orgEmail: 'dmarc@example.net', reportId: 'r-1', begin: 1700000000, end: 1700086399 });
    expect(header.policy).toEqual({ domain: 'example.com', adkim: 'r', aspf: 's', p: 'reject', sp: 'quarantine', np: 'none', pct: 50, fo: '1', testing: null, discoveryMethod: null });
    expect(records[0]).toMatchObject({
      sourceIp: '192.0.2.1', count: 4, disposition: 'quarantine', dkimEval: 'pass', spfEval: 'fail', headerFrom: 'example.com', envelopeFrom: 'bounce.example.com',
      dkim: [{ domain: 'example.com', selector: 's1', result: 'pass', humanResult: null }],
      spf: [{ domain: 'example.com', scope: 'mfrom', result: 'fail', humanResult: null }],
      problems: [],
    });
  });

  it('reads empty elements as null and missing selector / scope as null', async () => {
    const { header, records } = await parse(
      doc({
        policy: '<policy_published><domain>example.com</domain><p>none</p><sp></sp><np/><pct/></policy_published>',
        records: [
          record({
            row: '<source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition/><dkim></dkim><spf> </spf></policy_evaluated>',
            identifiers: '<identifiers><header_from/></identifiers>',
            auth: '<auth_results><dkim><domain>example.com</domain><result>fail</result></dkim><spf><domain/><result/></spf></auth_results>',
          }),
        ],
      }),
    );
    expect(header.policy).toMatchObject({ sp: null, np: null, pct: null, adkim: null });
    expect(records[0]).toMatchObject({ disposition: null, dkimEval: null, spfEval: null, headerFrom: null, envelopeFrom: null, envelopeTo: null });
    expect(records[0]!.dkim).toEqual([{ domain: 'example.com', selector: null, result: 'fail', humanResult: null }]);
    expect(records[0]!.spf).toEqual([{ domain: null, scope: null, result: null, humanResult: null }]);
  });

  it('derives a missing or empty org_name from the e-mail domain, else null', async () => {
    const without = (email: string) => `<report_metadata>${email}<report_id>r</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata>`;
    expect((await parse(doc({ meta: without('<email>noreply-dmarc@Mail.Example.NET</email>') }))).header.orgName).toBe('mail.example.net');
    expect((await parse(doc({ meta: without('<email>mailto:Reports &lt;dmarc@corp.example&gt;</email>') }))).header.orgName).toBe('corp.example');
    expect((await parse(doc({ meta: without('') }))).header.orgName).toBeNull();
    expect((await parse(doc({ meta: without('<org_name> </org_name><email>a@b.example</email>') }))).header.orgName).toBe('b.example');
    expect((await parse(doc({ meta: without('<org_name></org_name>') }))).header.orgName).toBeNull();
  });

  it('turns decimal and millisecond epochs into integer seconds and swaps a reversed range', async () => {
    const range = (b: string, e: string) => `<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range><begin>${b}</begin><end>${e}</end></date_range></report_metadata>`;
    const decimal = await parse(doc({ meta: range('1524182400.0', '1524268799.75') }));
    expect([decimal.header.begin, decimal.header.end]).toEqual([1524182400, 1524268799]);
    expect(decimal.header.errors).toEqual([]);
    const ms = await parse(doc({ meta: range('1524182400000', '1524268799000') }));
    expect([ms.header.begin, ms.header.end]).toEqual([1524182400, 1524268799]);
    expect(ms.header.errors).toContain('repaired: millisecond epoch in <begin> converted to seconds');
    const swapped = await parse(doc({ meta: range('1524268799', '1524182400') }));
    expect([swapped.header.begin, swapped.header.end]).toEqual([1524182400, 1524268799]);
    expect(swapped.header.errors).toContain('repaired: <begin> was after <end>; swapped');
    const iso = await parse(doc({ meta: range('2018-04-20T00:00:00Z', '2018-04-20T23:59:59Z') }));
    expect([iso.header.begin, iso.header.end]).toEqual([1524182400, 1524268799]);
    expect(iso.header.errors).toContain('repaired: date "2018-04-20T00:00:00Z" in <begin> read as an ISO date');
    const same = await parse(doc({ meta: range('100', '100') }));
    expect([same.header.begin, same.header.end]).toEqual([100, 100]);
  });

  it('accepts misspelled <date_range> and <identities>', async () => {
    const { header, records } = await parse(
      doc({
        meta: '<report_metadata><org_name>o</org_name><report_id>r</report_id><data_range><begin>10</begin><end>20</end></data_range></report_metadata>',
        records: [record({ identifiers: '<identities><header_from>example.com</header_from><envelope_from>e.example</envelope_from><envelope_to>t.example</envelope_to></identities>' })],
      }),
    );
    expect([header.begin, header.end]).toEqual([10, 20]);
    expect(records[0]).toMatchObject({ headerFrom: 'example.com', envelopeFrom: 'e.example', envelopeTo: 't.example' });
  });

  it('skips override reasons without a type and keeps the others in order', async () => {
    const { records } = await parse(
      doc({
        records: [
          record({
            row:
              '<source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>' +
              '<reason><type/><comment/></reason><reason><type>Forwarded</type></reason><reason><type>local_policy</type><comment> arc=pass </comment></reason></policy_evaluated>',
          }),
        ],
      }),
    );
    expect(records[0]!.overrideReasons).toEqual([
      { type: 'forwarded', comment: null },
      { type: 'local_policy', comment: 'arc=pass' },
    ]);
  });

  it('normalizes IP addresses and keeps unusable records with problems', async () => {
    const row = (ip: string, count = '<count>1</count>') => record({ row: `${ip}${count}<policy_evaluated><disposition>none</disposition></policy_evaluated>` });
    const { records } = await parse(
      doc({
        records: [
          row('<source_ip>2001:DB8:0:0:0:0:0:1</source_ip>'),
          row('<source_ip>2a00:1450:4864:20::12f</source_ip>'),
          row('<source_ip>::ffff:192.0.2.7</source_ip>'),
          row('<source_ip>010.001.002.003</source_ip>'),
          row('<source_ip>not-an-ip</source_ip>'),
          row('', '<count>2</count>'),
          row('<source_ip>192.0.2.9</source_ip>', ''),
          row('<source_ip>192.0.2.9</source_ip>', '<count>many</count>'),
          row('<source_ip>192.0.2.9</source_ip>', '<count>7.0</count>'),
          row('<source_ip>192.0.2.9</source_ip>', '<count>-3</count>'),
        ],
      }),
    );
    expect(records.map((r) => [r.sourceIp, r.count, r.problems])).toEqual([
      ['2001:db8::1', 1, []],
      ['2a00:1450:4864:20::12f', 1, []],
      ['::ffff:192.0.2.7', 1, []],
      ['10.1.2.3', 1, []],
      ['not-an-ip', 1, ['bad-source-ip']],
      [null, 2, ['missing-source-ip']],
      ['192.0.2.9', 0, ['bad-count']],
      ['192.0.2.9', 0, ['bad-count']],
      ['192.0.2.9', 7, []],
      ['192.0.2.9', 0, ['bad-count']],
    ]);
  });

  it('never merges or drops records: identical records stay separate with their ordinals', async () => {
    const { records } = await parse(doc({ records: [record(), record(), record()] }));
    expect(records.map((r) => r.ordinal)).toEqual([0, 1, 2]);
    expect(records[0]).toEqual({ ...records[1], ordinal: 0 });
  });

  it('puts reporter <error> elements into errors and reads the RFC 9990 fields', async () => {
    const { header, records } = await parse(
      doc({
        meta:
          '<report_metadata><org_name>o</org_name><report_id>r</report_id><date_range><begin>1</begin><end>2</end></date_range>' +
          '<error>policy lookup timed out</error><error/><generator>Mailer 1.2 &lt;x&gt;</generator></report_metadata>',
        policy: '<policy_published><domain>example.com</domain><p>reject</p><np>quarantine</np><testing>N</testing><discovery_method>TreeWalk</discovery_method></policy_published>',
        records: [record({ auth: '<auth_results><dkim><domain>d</domain><selector>s</selector><result>pass</result><human_result> 2048-bit key </human_result></dkim><spf><domain>d</domain><scope>helo</scope><result>pass</result><human_result>ok</human_result></spf></auth_results>' })],
      }),
    );
    expect(header.errors).toEqual(['policy lookup timed out']);
    expect(header.generator).toBe('Mailer 1.2 <x>');
    expect(header.policy).toMatchObject({ np: 'quarantine', testing: 'n', discoveryMethod: 'treewalk', pct: null });
    expect(header.xmlSchema).toBe('2.0');
    expect(records[0]!.dkim[0]!.humanResult).toBe('2048-bit key');
    expect(records[0]!.spf[0]!.humanResult).toBe('ok');
  });

  it('tells the schema generations apart', async () => {
    const v = async (parts: Parameters<typeof doc>[0]) => (await parse(doc(parts))).header.xmlSchema;
    expect(await v({})).toBe('draft');
    expect(await v({ version: '1.0' })).toBe('1.0');
    expect(await v({ version: ' 0.1 ' })).toBe('0.1');
    expect(await v({ version: '2.0' })).toBe('2.0');
    expect(await v({ version: '1.0', open: '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">' })).toBe('2.0');
    expect(await v({ open: '<feedback xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:schemaLocation="a b">' })).toBe('draft');
    expect(await v({ version: '1.0', policy: '<policy_published><domain>d</domain><p>none</p><np>none</np></policy_published>' })).toBe('2.0');
  });

  it('ignores namespace prefixes, default namespaces and unknown extension elements', async () => {
    const xml = doc({ version: '1.0' })
      .replace(/<(\/?)([a-z_]+)([ >/])/g, '<$1dmarc:$2$3')
      .replace('<dmarc:feedback>', '<dmarc:feedback xmlns:dmarc="urn:ietf:params:xml:ns:dmarc-2.0" xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:annotation>ignored</xs:annotation><ext:extensions xmlns:ext="urn:x"><ext:record>no</ext:record></ext:extensions>');
    expect(xml).toContain('<dmarc:record>');
    const { header, records } = await parse(xml);
    expect(header).toMatchObject({ orgName: 'Example Org', reportId: 'r-1', xmlSchema: '2.0' });
    expect(header.policy.domain).toBe('example.com');
    expect(records).toHaveLength(1);
    expect(records[0]!.dkim[0]!.selector).toBe('s1');
  });

  it('emits the header first even when report_metadata and policy_published follow the records', async () => {
    const records = Array.from({ length: 1100 }, () => record());
    const xml = `<?xml version="1.0"?><feedback>${records.join('')}${META}${POLICY}</feedback>`;
    const { header, events, records: got } = await parse(xml);
    expect(events.map((e) => (e.type === 'header' ? 'h' : e.records.length))).toEqual(['h', 500, 500, 100]);
    expect(header.reportId).toBe('r-1');
    expect(header.policy.domain).toBe('example.com');
    expect(got.at(-1)!.ordinal).toBe(1099);
  });

  it('appends repairs noticed after the header event to the same errors array', async () => {
    const late = record({ row: '<source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><reason><type>other</type><comment>AT&T</comment></reason></policy_evaluated>' });
    const xml = doc({ records: [...Array.from({ length: 600 }, () => record()), late] });
    async function* pieces() {
      const bytes = Buffer.from(xml);
      for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
    }
    const it = parseAggregate(pieces(), resolveLimits());
    const first = await it.next();
    if (first.done || first.value.type !== 'header') throw new Error('header expected first');
    const errors = first.value.header.errors;
    const seenAtHeader = [...errors];
    let last: AggregateRecord | undefined;
    for await (const e of it) if (e.type === 'records') last = e.records.at(-1);
    expect(seenAtHeader).toEqual([]);
    expect(errors).toContain("repaired: kept raw '&' in text of <comment>");
    expect(last!.overrideReasons[0]!.comment).toBe('AT&T');
  });
});
