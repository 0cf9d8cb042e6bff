/**
 * Deterministic synthetic DMARC aggregate reports (RFC 7489 appendix C shape) for benchmarks and tests.
 * Same options → same bytes. `generateAggregateXmlChunks` streams a report of any size without building one
 * giant string; `syntheticTotals` gives the figures a parser must read back.
 */

export interface SyntheticAggregateOptions {
  seed: number;
  records: number;
  orgName?: string;
  domain?: string;
  reportId?: string;
  /** epoch seconds; the report covers one day from here */
  begin?: number;
}

export interface SyntheticRecord {
  sourceIp: string;
  count: number;
  disposition: 'none' | 'quarantine' | 'reject';
  dkimEval: 'pass' | 'fail';
  spfEval: 'pass' | 'fail';
  reasons: { type: string; comment: string | null }[];
  headerFrom: string;
  envelopeFrom: string;
  dkim: { domain: string; selector: string; result: string }[];
  spf: { domain: string; scope: string; result: string }[];
}

/** mulberry32: a tiny, fast, seedable 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SELECTORS = ['google', 's1', 's2', 'selector1', 'selector2', 'k1', '20230601', 'mail', 'dkim', 'smtpapi'];
const ESPS = ['sendgrid.net', 'amazonses.com', 'mailchimpapp.net', 'outlook.com', 'mcsv.net', 'zendesk.com', 'salesforce.com'];
const REASONS = ['forwarded', 'local_policy', 'mailing_list', 'trusted_forwarder', 'sampled_out'];
const DKIM_FAILS = ['fail', 'neutral', 'temperror', 'permerror', 'policy'];
const SPF_FAILS = ['fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'];

function defaults(opts: SyntheticAggregateOptions) {
  const begin = opts.begin ?? 1_700_000_000;
  return {
    orgName: opts.orgName ?? 'google.com',
    domain: opts.domain ?? 'example.com',
    reportId: opts.reportId ?? `synthetic-${opts.seed >>> 0}-${opts.records}`,
    begin,
    end: begin + 86_399,
  };
}

/** The records of the report, in order. */
export function* syntheticRecords(opts: SyntheticAggregateOptions): Generator<SyntheticRecord> {
  const rnd = mulberry32(opts.seed);
  const { domain } = defaults(opts);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const byte = () => Math.floor(rnd() * 256);
  for (let i = 0; i < opts.records; i++) {
    const v6 = rnd() < 0.2;
    const sourceIp = v6
      ? `2001:db8:${(Math.floor(rnd() * 0xffff) + 1).toString(16)}::${(Math.floor(rnd() * 0xfffe) + 1).toString(16)}`
      : `${1 + Math.floor(rnd() * 222)}.${byte()}.${byte()}.${1 + Math.floor(rnd() * 254)}`;
    const r = rnd();
    const count = r < 0.7 ? 1 + Math.floor(rnd() * 3) : r < 0.95 ? 4 + Math.floor(rnd() * 47) : 51 + Math.floor(rnd() * 4950);
    const esp = pick(ESPS);
    const thirdParty = rnd() < 0.4;
    const dkimEval = rnd() < 0.7 ? 'pass' : 'fail';
    const spfEval = rnd() < 0.75 ? 'pass' : 'fail';
    const both = dkimEval === 'fail' && spfEval === 'fail';
    const disposition = both ? (rnd() < 0.5 ? 'none' : rnd() < 0.5 ? 'quarantine' : 'reject') : 'none';
    const reasons = rnd() < 0.03 ? [{ type: pick(REASONS), comment: rnd() < 0.5 ? 'arc=pass as.1.google.com=pass' : null }] : [];
    const envelopeFrom = thirdParty ? `bounces.${esp}` : domain;
    const dkim: SyntheticRecord['dkim'] = [];
    const dkimCount = rnd() < 0.15 ? 0 : rnd() < 0.7 ? 1 : 2;
    for (let k = 0; k < dkimCount; k++) {
      const own = k === 0 && !thirdParty;
      dkim.push({ domain: own ? domain : esp, selector: pick(SELECTORS), result: dkimEval === 'pass' || !own ? 'pass' : pick(DKIM_FAILS) });
    }
    const spf = [{ domain: envelopeFrom, scope: 'mfrom', result: spfEval === 'pass' || thirdParty ? 'pass' : pick(SPF_FAILS) }];
    yield { sourceIp, count, disposition, dkimEval, spfEval, reasons, headerFrom: domain, envelopeFrom, dkim, spf };
  }
}

/** The figures the report carries: number of records and sum of <count>. */
export function syntheticTotals(opts: SyntheticAggregateOptions): { records: number; messages: number } {
  let messages = 0;
  for (const r of syntheticRecords(opts)) messages += r.count;
  return { records: opts.records, messages };
}

function headerXml(opts: SyntheticAggregateOptions): string {
  const d = defaults(opts);
  return `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <version>1.0</version>
  <report_metadata>
    <org_name>${d.orgName}</org_name>
    <email>noreply-dmarc-support@${d.orgName}</email>
    <extra_contact_info>https://support.${d.orgName}/a/answer/2466580</extra_contact_info>
    <report_id>${d.reportId}</report_id>
    <date_range>
      <begin>${d.begin}</begin>
      <end>${d.end}</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>${d.domain}</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>none</p>
    <sp>none</sp>
    <pct>100</pct>
    <fo>0</fo>
  </policy_published>
`;
}

function recordXml(r: SyntheticRecord): string {
  const reasons = r.reasons
    .map((x) => `
        <reason>
          <type>${x.type}</type>${x.comment === null ? '' : `
          <comment>${x.comment}</comment>`}
        </reason>`)
    .join('');
  const dkim = r.dkim
    .map((x) => `
      <dkim>
        <domain>${x.domain}</domain>
        <selector>${x.selector}</selector>
        <result>${x.result}</result>
      </dkim>`)
    .join('');
  const spf = r.spf
    .map((x) => `
      <spf>
        <domain>${x.domain}</domain>
        <scope>${x.scope}</scope>
        <result>${x.result}</result>
      </spf>`)
    .join('');
  return `  <record>
    <row>
      <source_ip>${r.sourceIp}</source_ip>
      <count>${r.count}</count>
      <policy_evaluated>
        <disposition>${r.disposition}</disposition>
        <dkim>${r.dkimEval}</dkim>
        <spf>${r.spfEval}</spf>${reasons}
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>${r.headerFrom}</header_from>
      <envelope_from>${r.envelopeFrom}</envelope_from>
    </identifiers>
    <auth_results>${dkim}${spf}
    </auth_results>
  </record>
`;
}

const FOOTER = '</feedback>\n';

/** The report as a stream of strings: the header, then ~`recordsPerChunk` records per piece, then the end tag. */
export function* generateAggregateXmlChunks(opts: SyntheticAggregateOptions & { recordsPerChunk?: number }): Generator<string> {
  const per = Math.max(1, opts.recordsPerChunk ?? 200);
  yield headerXml(opts);
  let piece: string[] = [];
  for (const r of syntheticRecords(opts)) {
    piece.push(recordXml(r));
    if (piece.length >= per) {
      yield piece.join('');
      piece = [];
    }
  }
  if (piece.length > 0) yield piece.join('');
  yield FOOTER;
}

/** The whole report as one string (use the chunked variant for large reports). */
export function generateAggregateXml(opts: SyntheticAggregateOptions): string {
  return [...generateAggregateXmlChunks(opts)].join('');
}
