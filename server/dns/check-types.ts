/**
 * Shapes shared by the DNS checks: what a lookup returns, what a check reports, and the
 * narrow interfaces the CLI and the web server plug their storage into.
 */
import type { FindingCode } from './finding-codes.ts';

export type Severity = 'error' | 'warning' | 'info';
export type RecordStatus = 'pass' | 'warn' | 'fail';
export type RecordType = 'dmarc' | 'spf' | 'dkim' | 'mx' | 'mta-sts' | 'tls-rpt' | 'bimi' | 'report-auth';

export interface Finding {
  severity: Severity;
  /** stable kebab-case code from FINDING_CATALOGUE; never renamed once released */
  code: FindingCode;
  /** plain-language explanation */
  message: string;
  /** the record (or change) that would fix it, e.g. `_dmarc.example.com TXT "v=DMARC1; p=none; …"` */
  fix?: string;
}

export interface RecordCheck {
  type: RecordType;
  /** the DNS name (or URL, for the MTA-STS policy) that was looked at */
  name: string;
  /** the record as published (TXT strings joined; MX as "10 mx.example.com, …"); null when absent */
  value: string | null;
  status: RecordStatus;
  findings: Finding[];
}

export interface DomainCheck {
  domain: string;
  /** ISO 8601 time the check ran */
  checked_at: string;
  records: RecordCheck[];
}

/** How a lookup failed. NXDOMAIN: the name does not exist; NODATA: it exists but has no record of that type. */
export type DnsErrorKind = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'TIMEOUT' | 'REFUSED' | 'ERROR';

/** A lookup never throws: failures are values. `ttl` is in seconds (remaining, when served from a cache). */
export type DnsAnswer<T> =
  | { ok: true; value: T; ttl: number }
  | { ok: false; error: DnsErrorKind; detail: string; ttl: number };

export interface MxRecord {
  priority: number;
  /** '' (or '.') for a null MX */
  exchange: string;
}

/** The lookups the checks need. `txt` keeps each record's character-strings apart (joined by the caller). */
export interface DnsLookup {
  txt(name: string): Promise<DnsAnswer<string[][]>>;
  mx(name: string): Promise<DnsAnswer<MxRecord[]>>;
  a(name: string): Promise<DnsAnswer<string[]>>;
  aaaa(name: string): Promise<DnsAnswer<string[]>>;
}

/** A source IP seen in aggregate reports for the domain (SPF evaluated against this domain). */
export interface ReportSource {
  ip: string;
  spfPassed: boolean;
}

/**
 * What the stored aggregate reports say about the published DMARC policy (their policy_published), so the
 * check can tell how long p=none has been in place.
 */
export interface ReportedPolicy {
  /** p= as published in the newest report */
  p: string;
  /** ISO 8601: the start of the oldest report of the unbroken run of reports, up to the newest, that show this p= */
  since: string;
}

export interface PolicyResponse {
  status: number;
  body: string;
}

export type PolicyFetcher = (url: string) => Promise<PolicyResponse>;

/**
 * Where the CLI (`--db`) and the web server get the DKIM selectors seen in stored reports.
 * `reportSourcesFor` is optional: when present, SPF coverage of the reported source IPs is checked too.
 */
export interface SelectorSource {
  selectorsFor(domain: string): Promise<string[]>;
  reportSourcesFor?(domain: string): Promise<ReportSource[]>;
}

/** Where the CLI (`--db`) gets the DMARC policy the stored reports show and since when (p=none for long). */
export interface ReportedPolicySource {
  reportedPolicyFor(domain: string): Promise<ReportedPolicy | null>;
}

/** Stores each check with its time, so the UI can show "checked 5 min ago" and when a record changed. */
export interface CheckHistory {
  save(check: DomainCheck): Promise<void>;
}

/** Thrown by checkDomain for a name that is not a syntactically valid domain (a caller error, not DNS). */
export class InvalidDomainError extends Error {
  readonly code = 'invalid-domain';
  readonly input: string;
  constructor(input: string) {
    super(`not a valid domain name: ${JSON.stringify(input)}`);
    this.name = 'InvalidDomainError';
    this.input = input;
  }
}
