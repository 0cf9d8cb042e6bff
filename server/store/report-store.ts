import type {
  AggregateHeader,
  AggregateRecord,
  FailureReport,
  MailAuthVerdict,
  Origin,
  ReasonCode,
  ReportType,
  TlsReport,
} from '../domain/report-types.ts';

export type SaveOutcome = { outcome: 'stored' | 'duplicate'; id: number };

export interface QuarantineInput {
  origin: Origin;
  type: ReportType | null;
  code: ReasonCode;
  detail: string;
  /** the raw input bytes (possibly truncated to Limits.maxQuarantineBytes) */
  bytes: Buffer;
  truncated: boolean;
  /** sha256 hex of the complete raw input */
  sha256: string;
}

export interface QuarantineRow {
  id: number;
  input: string;
  member: string | null;
  type: ReportType | null;
  code: ReasonCode;
  detail: string;
  sha256: string;
  size: number;
  truncated: boolean;
  receivedAt: number; // epoch seconds
  resolvedAt: number | null; // set when a reprocess accounted for it
  /** the receiving server's verdict on the mail the input came in (absent for files and rows stored before it was kept) */
  mailAuth?: MailAuthVerdict;
}

export interface ExportFilter {
  /** policy domain (aggregate), reported domain (failure), policy domain (tls); case-insensitive */
  domain?: string;
  /** epoch seconds, inclusive: reports whose period ends at or after `from` */
  from?: number;
  /** epoch seconds, inclusive: reports whose period begins at or before `to` */
  to?: number;
}

export interface StoredAggregate {
  id: number;
  header: AggregateHeader;
  origin: Origin;
  receivedAt: number;
  records: AggregateRecord[];
}

/** A stored aggregate report whose records are read page by page (any size, bounded memory). */
export interface StreamedAggregate extends Omit<StoredAggregate, 'records'> {
  /** the records in order, in pages; read them before asking the outer iterable for the next report */
  records: AsyncIterable<AggregateRecord[]>;
}

export interface StoredFailure {
  id: number;
  report: FailureReport;
  origin: Origin;
  receivedAt: number;
}

export interface StoredTls {
  id: number;
  report: TlsReport;
  origin: Origin;
  receivedAt: number;
}

export interface StoreCounts {
  aggregate: number;
  records: number;
  failure: number;
  tls: number;
  quarantine: number;
}

/**
 * The one narrow storage interface. Dialect differences (SQLite / PostgreSQL) live behind it.
 * All writes are atomic: a report is stored with all its records or not at all.
 */
export interface ReportStore {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Stores an aggregate report. Records arrive in batches (streamed from the parser) and are written in one
   * transaction with the header. If (org_name, report_id, policy domain, begin, end) — case-insensitive — is
   * already stored, the batches are drained and `duplicate` is returned. If iterating `records` throws, the
   * transaction is rolled back and the error is rethrown. The first chunk of records (1,000) is read before the
   * write transaction begins, so a small report holds the write lock only while it is written.
   */
  saveAggregate(header: AggregateHeader, records: AsyncIterable<AggregateRecord[]>, origin: Origin): Promise<SaveOutcome>;
  /** `dedupKey` identifies the same failure report re-sent (computed by the pipeline). */
  saveFailure(report: FailureReport, origin: Origin, dedupKey: string): Promise<SaveOutcome>;
  /** unique on (org_name, report_id), case-insensitive */
  saveTls(report: TlsReport, origin: Origin): Promise<SaveOutcome>;
  /** unique on (sha256, member, code): the same bad input twice is one row. `isNew` false when it was known. */
  saveQuarantine(q: QuarantineInput): Promise<{ id: number; isNew: boolean }>;

  /** every report with all its records in memory: for small reports; see streamAggregates */
  listAggregates(filter: ExportFilter): AsyncIterable<StoredAggregate>;
  /** the same reports, their records read in pages (exports of reports with hundreds of thousands of records) */
  streamAggregates(filter: ExportFilter): AsyncIterable<StreamedAggregate>;
  listFailures(filter: ExportFilter): AsyncIterable<StoredFailure>;
  listTls(filter: ExportFilter): AsyncIterable<StoredTls>;
  listQuarantine(filter: ExportFilter & { unresolvedOnly?: boolean }): AsyncIterable<QuarantineRow>;
  getQuarantineBytes(id: number): Promise<Buffer | null>;
  markQuarantineResolved(id: number): Promise<void>;
  counts(): Promise<StoreCounts>;
  close(): Promise<void>;
}
