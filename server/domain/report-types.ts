/**
 * The normalized shapes every parser produces and every store persists.
 * Field names are camelCase here; exporters map them to parsedmarc's snake_case names.
 */

export type ReportType = 'aggregate' | 'failure' | 'tls';

/** Stable reason codes for rejected input (kebab-case, never renamed once released). */
export type ReasonCode =
  | 'empty'
  | 'not-a-report'
  | 'bad-archive'
  | 'bad-compression'
  | 'bad-mail'
  | 'bad-xml'
  | 'bad-json'
  | 'schema'
  | 'too-large'
  | 'too-many-members'
  | 'too-many-records'
  | 'too-deep'
  | 'foreign-domain'
  | 'unreadable';

/** Everything before the first <record>: report_metadata + policy_published. */
export interface AggregateHeader {
  /** "draft" (no <version>), "1.0", "2.0" (RFC 9990 namespace or fields), or the literal version given. */
  xmlSchema: string;
  orgName: string | null;
  orgEmail: string | null;
  orgExtraContactInfo: string | null;
  reportId: string;
  /** epoch seconds, UTC */
  begin: number;
  end: number;
  /** reporter-declared <error> elements AND our own notes on what was repaired while parsing. */
  errors: string[];
  generator: string | null;
  policy: PolicyPublished;
}

export interface PolicyPublished {
  domain: string | null;
  adkim: string | null; // 'r' | 's'
  aspf: string | null;
  p: string | null; // none | quarantine | reject
  sp: string | null;
  np: string | null;
  pct: number | null;
  fo: string | null;
  testing: string | null; // RFC 9990 'y' | 'n'
  discoveryMethod: string | null; // RFC 9990 'psl' | 'treewalk'
}

export interface OverrideReason {
  type: string;
  comment: string | null;
}

export interface DkimResult {
  domain: string | null;
  selector: string | null;
  result: string | null; // lower-case: none|pass|fail|policy|neutral|temperror|permerror
  humanResult: string | null;
}

export interface SpfResult {
  domain: string | null;
  scope: string | null; // 'mfrom' | 'helo'; null when absent
  result: string | null; // lower-case: none|neutral|pass|fail|softfail|temperror|permerror
  humanResult: string | null;
}

export interface AggregateRecord {
  /** position of the <record> in the report, 0-based; records are never merged or dropped */
  ordinal: number;
  sourceIp: string | null;
  count: number;
  disposition: string | null; // none | quarantine | reject (lower-case)
  dkimEval: string | null; // policy_evaluated/dkim: pass | fail
  spfEval: string | null;
  overrideReasons: OverrideReason[];
  headerFrom: string | null;
  envelopeFrom: string | null;
  envelopeTo: string | null;
  dkim: DkimResult[];
  spf: SpfResult[];
  /** non-empty when the record is unusable or suspicious (e.g. 'missing-source-ip', 'bad-count'); it is still kept */
  problems: string[];
}

export interface FailureReport {
  /** ARF Feedback-Type (auth-failure, abuse, …) or 'auth-failure' for plain-text DMARC failure reports */
  feedbackType: string;
  /** comma-separated Auth-Failure values: dkim, spf, dmarc, … */
  authFailure: string | null;
  /** epoch seconds */
  arrivalDate: number | null;
  sourceIp: string | null;
  reportedDomain: string | null;
  originalMailFrom: string | null;
  originalRcptTo: string | null;
  deliveryResult: string | null;
  authenticationResults: string | null;
  dkimDomain: string | null;
  dkimSelector: string | null;
  dkimIdentity: string | null;
  spfDns: string | null;
  /** identity headers of the original message (null if redacted or absent) */
  originalFrom: string | null;
  originalTo: string | null;
  originalSubject: string | null;
  originalMessageId: string | null;
  originalDate: string | null;
  /** the reporter: From of the report mail, User-Agent and Reporting-MTA */
  reporterEmail: string | null;
  reporterOrg: string | null;
  userAgent: string | null;
  reportingMta: string | null;
  /** true when the report had no message/feedback-report part and was read from plain text */
  plainText: boolean;
  /** all feedback-report fields as given (lower-cased names → values) */
  fields: Record<string, string[]>;
  /** headers of the original message as text (may be null when redacted) */
  originalHeaders: string | null;
}

export interface TlsFailureDetail {
  resultType: string;
  sendingMtaIp: string | null;
  receivingMxHostname: string | null;
  receivingMxHelo: string | null;
  receivingIp: string | null;
  failedSessionCount: number;
  additionalInformation: string | null;
  failureReasonCode: string | null;
}

export interface TlsPolicy {
  policyType: string; // sts | tlsa | no-policy-found
  policyString: string[];
  policyDomain: string;
  mxHost: string[];
  successfulSessions: number;
  failedSessions: number;
  failureDetails: TlsFailureDetail[];
}

export interface TlsReport {
  orgName: string;
  reportId: string;
  contactInfo: string | null;
  /** epoch seconds */
  begin: number;
  end: number;
  policies: TlsPolicy[];
}

/**
 * The receiving server's verdict on the report mail itself (its Authentication-Results header), so a report
 * mailed by anyone to the rua address can be told apart from one really sent by the reporter.
 */
export interface MailAuthVerdict {
  /** authserv-id of the Authentication-Results header that was trusted */
  authservId: string | null;
  dkim: string | null; // pass | fail | none | … (lower-case)
  dkimDomain: string | null;
  spf: string | null;
  spfDomain: string | null;
  dmarc: string | null;
  /** domain of the report mail's From address */
  fromDomain: string | null;
  /** true when DKIM or SPF passed for a domain aligned with the From domain (or dmarc=pass) */
  authenticated: boolean;
}

/** Where one report came from: a file path / mailbox uid, and the path inside its container. */
export interface Origin {
  input: string;
  member: string | null;
  /** set for reports that arrived by mail (IMAP) */
  mailAuth?: MailAuthVerdict | null;
}
