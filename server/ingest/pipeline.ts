/**
 * The one place where parsing meets storage: input → unpack → parse → store or quarantine.
 * Every leaf an input yields ends as exactly one event: stored, duplicate or quarantined.
 */
import { createHash } from 'node:crypto';
import type { AggregateRecord, MailAuthVerdict, Origin, ReasonCode, ReportType } from '../domain/report-types.ts';
import { InputRejected, rejectionOf } from '../errors.ts';
import type { ReportStore } from '../store/report-store.ts';
import type { Limits } from './limits.ts';
import { parseAggregate, type AggregateEvent } from './parse-aggregate.ts';
import { failureDedupKey, redactFailure } from './parse-failure.ts';
import { parseTlsReport } from './parse-tls.ts';
import { unpack } from './unpack.ts';
import type { InputSource, Unpacked } from './unpack-types.ts';

export interface IngestEvent {
  input: string;
  member: string | null;
  type: ReportType | null;
  outcome: 'stored' | 'duplicate' | 'quarantined';
  report_id?: string;
  /** database id of the stored report or quarantine row */
  id?: number;
  reason?: ReasonCode;
  detail?: string;
  /** policy domain (aggregate, tls) or reported domain (failure) */
  domain?: string | null;
  /** aggregate: number of records */
  records?: number;
}

export interface PipelineOptions {
  store: ReportStore;
  limits: Limits;
  redactFailures?: boolean;
  /**
   * When set, aggregate and TLS reports whose policy domain is not one of these (or a subdomain of one)
   * are quarantined as `foreign-domain`.
   */
  domains?: string[];
  /** the Authentication-Results verdict of the mail the input came in (IMAP), stored with each report */
  mailAuth?: MailAuthVerdict | null;
}

/** Ingests one input completely. Throws only for fatal problems (unreadable input, database errors). */
export async function ingestInput(input: InputSource, opts: PipelineOptions): Promise<IngestEvent[]> {
  const events: IngestEvent[] = [];
  for await (const leaf of unpack(input, opts.limits)) {
    events.push(await ingestLeaf(input, leaf, opts));
  }
  if (events.length === 0) {
    events.push(await quarantine(input, { input: input.name, member: null }, null, 'not-a-report', 'nothing usable found in the input', opts));
  }
  return events;
}

async function ingestLeaf(input: InputSource, leaf: Unpacked, opts: PipelineOptions): Promise<IngestEvent> {
  const where = { input: input.name, member: leaf.member };
  const origin: Origin = { ...where, mailAuth: opts.mailAuth ?? null };
  const type: ReportType | null = leaf.kind === 'xml' ? 'aggregate' : leaf.kind === 'json' ? 'tls' : leaf.kind === 'failure' ? 'failure' : null;
  try {
    switch (leaf.kind) {
      case 'rejected':
        return await quarantine(input, where, null, leaf.code, leaf.detail, opts);
      case 'xml':
        return await ingestAggregate(leaf.chunks, origin, where, opts);
      case 'json': {
        const report = parseTlsReport(await collect(leaf.chunks, opts.limits.maxElementBytes * 16), opts.limits);
        checkDomain(report.policies.map((p) => p.policyDomain), opts);
        const saved = await opts.store.saveTls(report, origin);
        return { ...where, type, outcome: saved.outcome, id: saved.id, report_id: report.reportId, domain: report.policies[0]?.policyDomain ?? null };
      }
      case 'failure': {
        const report = opts.redactFailures ? redactFailure(leaf.report) : leaf.report;
        const saved = await opts.store.saveFailure(report, origin, failureDedupKey(leaf.report));
        return { ...where, type, outcome: saved.outcome, id: saved.id, domain: report.reportedDomain };
      }
    }
  } catch (err) {
    const rejection = rejectionOf(err);
    if (!rejection) throw err;
    return await quarantine(input, where, type, rejection.code, rejection.detail, opts);
  }
}

async function ingestAggregate(
  chunks: AsyncIterable<Buffer>,
  origin: Origin,
  where: { input: string; member: string | null },
  opts: PipelineOptions,
): Promise<IngestEvent> {
  const events = parseAggregate(chunks, opts.limits);
  const first = await events.next();
  if (first.done || first.value.type !== 'header') throw new InputRejected('schema', 'the parser found no report header');
  const header = first.value.header;
  checkDomain([header.policy.domain], opts);
  let recordCount = 0;
  const saved = await opts.store.saveAggregate(header, recordBatches(events, (n) => (recordCount += n)), origin);
  return { ...where, type: 'aggregate', outcome: saved.outcome, id: saved.id, report_id: header.reportId, domain: header.policy.domain, records: recordCount };
}

async function* recordBatches(events: AsyncGenerator<AggregateEvent>, count: (n: number) => void): AsyncGenerator<AggregateRecord[]> {
  for await (const event of events) {
    if (event.type !== 'records') throw new InputRejected('schema', 'a second report header appeared after the records');
    count(event.records.length);
    yield event.records;
  }
}

function checkDomain(policyDomains: (string | null)[], opts: PipelineOptions): void {
  const allowed = opts.domains;
  if (!allowed || allowed.length === 0) return;
  for (const domain of policyDomains) {
    const d = (domain ?? '').toLowerCase();
    if (!allowed.some((a) => d === a || d.endsWith('.' + a))) {
      throw new InputRejected('foreign-domain', `policy domain ${JSON.stringify(domain)} is not one of the configured domains (DMARC_LENS_DOMAINS)`);
    }
  }
}

async function collect(chunks: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > max) throw new InputRejected('too-large', `JSON report larger than ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Keeps the raw input (up to maxQuarantineBytes) with the reason, so nothing is ever lost. */
async function quarantine(
  input: InputSource,
  origin: Origin,
  type: ReportType | null,
  code: ReasonCode,
  detail: string,
  opts: PipelineOptions,
): Promise<IngestEvent> {
  const { bytes, sha256, truncated } = await readForQuarantine(input, opts.limits.maxQuarantineBytes);
  const row = await opts.store.saveQuarantine({ origin: { ...origin, mailAuth: opts.mailAuth ?? null }, type, code, detail, bytes, truncated, sha256 });
  return { input: origin.input, member: origin.member, type, outcome: 'quarantined', id: row.id, reason: code, detail };
}

async function readForQuarantine(input: InputSource, max: number): Promise<{ bytes: Buffer; sha256: string; truncated: boolean }> {
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  for await (const chunk of input.open()) {
    hash.update(chunk);
    if (kept < max) {
      const part = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, max - kept));
      parts.push(Buffer.from(part));
      kept += part.length;
      if (part.length < chunk.length) truncated = true;
    } else {
      truncated = true;
    }
  }
  return { bytes: Buffer.concat(parts), sha256: hash.digest('hex'), truncated };
}
