/**
 * The read side the CLI (`export sources`, `export selectors`, `readiness`) and the web API share.
 * Implemented by createAnalytics() in server/analytics/analytics.ts over the database (daily rollups maintained
 * at ingest, the enrichment cache, the known-senders map). Every figure is weighted by message count.
 */
import type { Readiness } from '../domain/readiness.ts';
import type { Verdict } from '../domain/classify.ts';
import type { SourceTableFilter, SourceTablePage } from './source-table.ts';

export interface AnalyticsFilter {
  /** policy domain, case-insensitive; absent = all domains */
  domain?: string;
  /** epoch seconds, inclusive (UTC day granularity is fine: rollups are per day) */
  from?: number;
  to?: number;
}

export interface AuthCounts {
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  dkimAlignedPass: number;
  spfAlignedPass: number;
  /** disposition applied by the receivers */
  none: number;
  quarantine: number;
  reject: number;
}

export interface PublishedPolicy {
  p: string | null;
  sp: string | null;
  np: string | null;
  pct: number | null;
  adkim: string | null;
  aspf: string | null;
  testing: string | null;
  /** end of the newest report that published it (epoch seconds) */
  seenAt: number;
}

export interface DomainOverview extends AuthCounts {
  domain: string;
  reports: number;
  /** the newest policy seen in reports */
  policy: PublishedPolicy | null;
  /** one-line readiness verdict and next step (full detail: readiness()) */
  readinessStep: string;
}

/** One UTC day; multi-day reports are pro-rated over the days they cover (totals stay exact). */
export interface DayPoint extends AuthCounts {
  day: string; // YYYY-MM-DD
}

export interface SourceRow {
  domain: string;
  ip: string;
  reverseDns: string | null;
  forwardConfirmed: boolean | null;
  baseDomain: string | null;
  asn: number | null;
  asOrg: string | null;
  country: string | null;
  service: { name: string; type: string } | null;
  approved: boolean;
  /** DKIM signing domain / selector of the group (null: unsigned) */
  dkimDomain: string | null;
  dkimSelector: string | null;
  headerFrom: string | null;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  dkimAlignedPass: number;
  spfAlignedPass: number;
  verdict: Verdict;
  evidence: string[];
  fix: string | null;
  likelySpoofing: boolean;
  firstSeen: number;
  lastSeen: number;
  /** the group's messages did not all earn the same verdict (the verdict is the one most messages earned) */
  partial?: boolean;
  /** messages per verdict */
  breakdown?: Record<Verdict, number>;
}

export interface SelectorRow {
  domain: string;
  /** DKIM signing domain (d=) */
  signingDomain: string;
  selector: string;
  service: string | null;
  messages: number;
  pass: number;
  passRate: number; // 0..1
  firstSeen: number;
  lastSeen: number;
  stale: boolean;
  failing: boolean;
  notes: string[];
  /** messages with DKIM result fail / permerror */
  fail?: number;
  permerror?: number;
  /** for a stale selector: the newer one of the same service / family */
  newerSelector?: string | null;
}

export interface MonthlySummaryRow {
  domain: string;
  month: string; // YYYY-MM
  messages: number;
  dmarcPass: number;
  passRate: number;
  failingSources: number;
}

export interface Analytics {
  /** distinct policy domains seen, sorted */
  domains(): Promise<string[]>;
  overview(filter: AnalyticsFilter): Promise<DomainOverview[]>;
  /** per day, for one domain or all together */
  timeline(filter: AnalyticsFilter): Promise<DayPoint[]>;
  /**
   * one row per (domain, source ip, DKIM signing domain/selector), classified; largest first. `limit`: only the
   * largest N rows are classified and returned (much cheaper when there are tens of thousands of sources).
   */
  sources(filter: AnalyticsFilter & { limit?: number }): Promise<SourceRow[]>;
  /**
   * One page of the Sources table (verdict / service / text filters, "failing first" order) and the number of
   * matching rows; without those filters only the page's sources are classified. Optional: the web API falls
   * back to sources() when an implementation lacks it.
   */
  sourceTable?(filter: SourceTableFilter, page: { offset: number; limit: number }): Promise<SourceTablePage>;
  /** messages and sources per verdict over the filtered sources (the `verdict` filter is ignored) */
  sourceVerdicts?(filter: SourceTableFilter): Promise<{ verdict: Verdict; messages: number; sources: number }[]>;
  selectors(filter: AnalyticsFilter): Promise<SelectorRow[]>;
  /** `days`: the what-if window ending at filter.to (default: the newest report) */
  readiness(filter: AnalyticsFilter & { days?: number }): Promise<Readiness[]>;
  monthlySummary(filter: AnalyticsFilter): Promise<MonthlySummaryRow[]>;
  /** the operator's "approve this source" action (persisted; merged with the config file's approved list) */
  approveSource(source: { ip?: string; cidr?: string; baseDomain?: string; service?: string; note?: string }): Promise<void>;
  /**
   * Loads what the first request would otherwise wait for (the source index: seconds for 1,000,000 records).
   * Optional; a request arriving meanwhile waits for the same load, not a second one.
   */
  warm?(): Promise<void>;
}
