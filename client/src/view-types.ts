/** What every view receives, and the shapes of /api/session and /api/meta. */
import type { Child } from './dom.ts';

export interface Session {
  authenticated: boolean;
  user: string | null;
  via: 'session' | 'token' | 'none';
  loginRequired: boolean;
  csrfToken: string | null;
}

export interface Meta {
  domains: { domain: string; reports: number; messages: number }[];
  counts: { aggregate: number; records: number; failure: number; tls: number; quarantine: number };
  features: { analytics: boolean; dnsChecks: boolean };
  now: number;
}

export interface ViewContext {
  params: URLSearchParams;
  meta: Meta;
  /** re-reads /api/meta (after a write) */
  refreshMeta(): Promise<void>;
}

export interface ViewDef {
  title: string;
  /** which filters the filter bar offers */
  filters: 'range' | 'dates' | 'none';
  render(ctx: ViewContext): Promise<Child>;
}
