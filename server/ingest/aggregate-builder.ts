/**
 * Turns the scanner's element events into one AggregateHeader and AggregateRecords (RFC 7489 appendix C,
 * the older draft schema, RFC 9990). Elements are recognised by local name and parent, so namespace
 * prefixes, misspelled containers (<data_range>, <identities>) and unknown extensions do not matter.
 * Records are completed one at a time and queued in `records`; nothing else is kept.
 */
import type { AggregateHeader, AggregateRecord, DkimResult, OverrideReason, SpfResult } from '../domain/report-types.ts';
import { InputRejected } from '../errors.ts';
import { cleanText, domainOfEmail, lowerEnum, normalizeIp, parseCount, parseEpoch, parsePct, spfResult } from './aggregate-normalize.ts';
import type { XmlSink } from './xml-scanner.ts';

const DMARC_2_NAMESPACE = 'urn:ietf:params:xml:ns:dmarc-2.0';

/** the parts of <feedback> */
const NONE = 0;
const METADATA = 1;
const POLICY = 2;
const RECORD = 3;
const SECTION_NAMES = ['', 'report_metadata', 'policy_published', 'record'];

/** leaf values of the header exactly as found (trimmed) */
interface RawHeader {
  version: string | null;
  orgName: string | null;
  email: string | null;
  extraContactInfo: string | null;
  reportId: string | null;
  begin: string | null;
  end: string | null;
  generator: string | null;
  domain: string | null;
  adkim: string | null;
  aspf: string | null;
  p: string | null;
  sp: string | null;
  np: string | null;
  pct: string | null;
  fo: string | null;
  testing: string | null;
  discoveryMethod: string | null;
}

export class AggregateBuilder implements XmlSink {
  /** completed records not yet handed out */
  readonly records: AggregateRecord[] = [];
  /** the shared `errors` array of the header: reporter errors and our repair notes */
  readonly errors: string[];
  metadataSeen = false;
  policySeen = false;
  /** number of <record> elements opened so far */
  recordCount = 0;
  private section = NONE;
  /** depth of the open section's element */
  private sectionDepth = 0;
  /** absolute offset where the open section started (for the size limit), -1 when none is open */
  private sectionStart = -1;
  /** absolute offset of <feedback> (the header runs from here to the first <record>) */
  private headerStart = -1;
  /** depth of an open <extensions> element whose content is not ours to read; 0 when none */
  private opaqueDepth = 0;
  private namespace20 = false;
  /** an RFC 9990-only element (np, testing, discovery_method, generator) was present */
  private fields20 = false;
  private readonly raw: RawHeader = {
    version: null, orgName: null, email: null, extraContactInfo: null, reportId: null,
    begin: null, end: null, generator: null, domain: null, adkim: null, aspf: null, p: null, sp: null, np: null,
    pct: null, fo: null, testing: null, discoveryMethod: null,
  };
  private rec: AggregateRecord | null = null;
  private dkim: DkimResult | null = null;
  private spf: SpfResult | null = null;
  private reason: OverrideReason | null = null;
  private countText: string | null = null;

  constructor(
    private readonly maxRecords: number,
    private readonly maxElementBytes: number,
    private readonly offset: () => number,
    errors: string[],
    private readonly note: (message: string) => void,
  ) {
    this.errors = errors;
  }

  get inRecord(): boolean {
    return this.section === RECORD;
  }

  open(name: string, parent: string | null, depth: number, attributes: string): void {
    if (this.section === RECORD) {
      if (name === 'dkim' || name === 'spf') {
        if (parent === 'policy_evaluated') return;
        if (name === 'dkim') {
          this.dkim = { domain: null, selector: null, result: null, humanResult: null };
          this.rec!.dkim.push(this.dkim);
        } else {
          this.spf = { domain: null, scope: null, result: null, humanResult: null };
          this.rec!.spf.push(this.spf);
        }
      } else if (name === 'reason') this.reason = { type: '', comment: null };
      return;
    }
    if (this.section !== NONE || this.opaqueDepth > 0) return;
    if (depth === 1) {
      this.headerStart = this.offset();
      if (attributes.indexOf(DMARC_2_NAMESPACE) >= 0 && /xmlns(:[^=\s]+)?\s*=\s*["']\s*urn:ietf:params:xml:ns:dmarc-2\.0\s*["']/.test(attributes)) {
        this.namespace20 = true;
      }
      return;
    }
    // sections are found by name at any depth, so a stray wrapper element does not hide them
    const section = name === 'record' ? RECORD : name === 'report_metadata' ? METADATA : name === 'policy_published' ? POLICY : NONE;
    if (section === NONE) {
      if (name === 'extensions' || name === 'extension') this.opaqueDepth = depth;
      return;
    }
    if (section === RECORD && this.recordCount === 0) this.checkSize();
    this.section = section;
    this.sectionDepth = depth;
    this.sectionStart = this.offset();
    if (section === RECORD) this.startRecord();
  }

  close(name: string, parent: string | null, depth: number, text: string | null): void {
    if (this.section === NONE) {
      if (this.opaqueDepth > 0) {
        if (depth === this.opaqueDepth) this.opaqueDepth = 0;
      } else if (name === 'version' && text !== null) this.raw.version = cleanText(text);
      return;
    }
    if (depth === this.sectionDepth) {
      this.checkSize();
      if (this.section === RECORD) this.finishRecord();
      else if (this.section === METADATA) this.metadataSeen = true;
      else this.policySeen = true;
      this.section = NONE;
      this.sectionStart = -1;
      return;
    }
    if (this.section === RECORD) this.recordValue(name, parent, text);
    else if (this.section === METADATA) this.metadataValue(name, text);
    else this.policyValue(name, text);
  }

  /** throws too-large when the open section, or the header before the first record, has grown past the limit */
  checkSize(): void {
    const at = this.offset();
    if (this.sectionStart >= 0 && at - this.sectionStart > this.maxElementBytes) {
      throw new InputRejected('too-large', `<${SECTION_NAMES[this.section]}> longer than ${this.maxElementBytes} characters`);
    }
    if (this.recordCount === 0 && this.headerStart >= 0 && at - this.headerStart > this.maxElementBytes) {
      throw new InputRejected('too-large', `report header (before the first <record>) longer than ${this.maxElementBytes} characters`);
    }
  }

  private startRecord(): void {
    if (this.recordCount >= this.maxRecords) {
      throw new InputRejected('too-many-records', `more than ${this.maxRecords} <record> elements`);
    }
    this.section = RECORD;
    this.rec = {
      ordinal: this.recordCount++,
      sourceIp: null,
      count: 0,
      disposition: null,
      dkimEval: null,
      spfEval: null,
      overrideReasons: [],
      headerFrom: null,
      envelopeFrom: null,
      envelopeTo: null,
      dkim: [],
      spf: [],
      problems: [],
    };
    this.countText = null;
    this.dkim = this.spf = this.reason = null;
  }

  private recordValue(name: string, parent: string | null, text: string | null): void {
    const rec = this.rec!;
    if (text === null) {
      if (name === 'reason') this.finishReason();
      return;
    }
    switch (name) {
      case 'source_ip':
        rec.sourceIp = cleanText(text);
        return;
      case 'count':
        this.countText = cleanText(text);
        return;
      case 'disposition':
        rec.disposition = lowerEnum(cleanText(text));
        return;
      case 'dkim':
        if (parent === 'policy_evaluated') rec.dkimEval = lowerEnum(cleanText(text));
        return;
      case 'spf':
        if (parent === 'policy_evaluated') rec.spfEval = lowerEnum(cleanText(text));
        return;
      case 'header_from':
        rec.headerFrom = cleanText(text);
        return;
      case 'envelope_from':
        rec.envelopeFrom = cleanText(text);
        return;
      case 'envelope_to':
        rec.envelopeTo = cleanText(text);
        return;
      case 'reason':
        if (this.reason) this.reason.type = lowerEnum(cleanText(text)) ?? '';
        this.finishReason();
        return;
    }
    if (parent === 'dkim' && this.dkim) {
      if (name === 'domain') this.dkim.domain = cleanText(text);
      else if (name === 'selector') this.dkim.selector = cleanText(text);
      else if (name === 'result') this.dkim.result = lowerEnum(cleanText(text));
      else if (name === 'human_result') this.dkim.humanResult = cleanText(text);
    } else if (parent === 'spf' && this.spf) {
      if (name === 'domain') this.spf.domain = cleanText(text);
      else if (name === 'scope') this.spf.scope = lowerEnum(cleanText(text));
      else if (name === 'result') this.spf.result = spfResult(cleanText(text));
      else if (name === 'human_result') this.spf.humanResult = cleanText(text);
    } else if (parent === 'reason' && this.reason) {
      if (name === 'type') this.reason.type = lowerEnum(cleanText(text)) ?? '';
      else if (name === 'comment') this.reason.comment = cleanText(text);
    }
  }

  /** an override reason without a type says nothing: it is skipped */
  private finishReason(): void {
    if (this.reason && this.reason.type !== '') this.rec!.overrideReasons.push(this.reason);
    this.reason = null;
  }

  private finishRecord(): void {
    const rec = this.rec!;
    const count = parseCount(this.countText);
    if (count === null) rec.problems.push('bad-count');
    else rec.count = count;
    if (rec.sourceIp === null) rec.problems.push('missing-source-ip');
    else {
      const ip = normalizeIp(rec.sourceIp);
      rec.sourceIp = ip.ip;
      if (!ip.ok) rec.problems.push('bad-source-ip');
    }
    this.records.push(rec);
    this.rec = this.dkim = this.spf = this.reason = null;
  }

  private metadataValue(name: string, text: string | null): void {
    if (text === null) return;
    const raw = this.raw;
    const v = cleanText(text);
    switch (name) {
      case 'org_name':
        raw.orgName = v;
        break;
      case 'email':
        raw.email = v;
        break;
      case 'extra_contact_info':
        raw.extraContactInfo = v;
        break;
      case 'report_id':
        raw.reportId = v;
        break;
      case 'begin':
        raw.begin = v;
        break;
      case 'end':
        raw.end = v;
        break;
      case 'generator':
        raw.generator = v;
        this.fields20 = true;
        break;
      case 'error':
        if (v !== null) this.errors.push(v);
        break;
    }
  }

  private policyValue(name: string, text: string | null): void {
    if (text === null) return;
    const raw = this.raw;
    const v = cleanText(text);
    switch (name) {
      case 'domain': raw.domain = v; break;
      case 'adkim': raw.adkim = v; break;
      case 'aspf': raw.aspf = v; break;
      case 'p': raw.p = v; break;
      case 'sp': raw.sp = v; break;
      case 'np': raw.np = v; this.fields20 = true; break;
      case 'pct': raw.pct = v; break;
      case 'fo': raw.fo = v; break;
      case 'testing': raw.testing = v; this.fields20 = true; break;
      case 'discovery_method': raw.discoveryMethod = v; this.fields20 = true; break;
    }
  }

  /** The normalized header; throws `schema` when the report id or the date range is missing. */
  header(): AggregateHeader {
    const raw = this.raw;
    if (raw.reportId === null) throw new InputRejected('schema', 'the report has no <report_id>');
    let begin = parseEpoch(raw.begin, 'begin', this.note);
    let end = parseEpoch(raw.end, 'end', this.note);
    if (begin === null || end === null) {
      const what = raw.begin === null && raw.end === null ? 'no <date_range>' : `no usable <${begin === null ? 'begin' : 'end'}> date`;
      throw new InputRejected('schema', `the report has ${what}`);
    }
    if (begin > end) {
      [begin, end] = [end, begin];
      this.note('repaired: <begin> was after <end>; swapped');
    }
    return {
      xmlSchema: this.schemaVersion(),
      // missing or empty <org_name>: the domain of the reporter's <email> (RFC 7489 requires org_name)
      orgName: raw.orgName ?? domainOfEmail(raw.email),
      orgEmail: raw.email,
      orgExtraContactInfo: raw.extraContactInfo,
      reportId: raw.reportId,
      begin,
      end,
      errors: this.errors,
      generator: raw.generator,
      policy: {
        domain: raw.domain,
        adkim: lowerEnum(raw.adkim),
        aspf: lowerEnum(raw.aspf),
        p: lowerEnum(raw.p),
        sp: lowerEnum(raw.sp),
        np: lowerEnum(raw.np),
        pct: parsePct(raw.pct),
        fo: raw.fo,
        testing: lowerEnum(raw.testing),
        discoveryMethod: lowerEnum(raw.discoveryMethod),
      },
    };
  }

  /** RFC 9990 by namespace or fields, else the literal <version>, else the pre-RFC draft. */
  private schemaVersion(): string {
    const raw = this.raw;
    if (this.namespace20) return '2.0';
    if (raw.version !== null && raw.version !== '1.0') return raw.version;
    if (this.fields20) return '2.0';
    return raw.version ?? 'draft';
  }
}
