/** What the web app is built from (createApp's argument) and the resolved form the routes receive. */
import type { Analytics } from '../analytics/analytics-types.ts';
import type { CachedChecker } from '../dns/check-cache.ts';
import type { Limits } from '../ingest/limits.ts';
import type { Database } from '../store/database.ts';
import type { AuthSettings } from './auth/authenticate.ts';
import { DEFAULT_THROTTLE, type ThrottleRules } from './auth/login-throttle.ts';
import { DnsCheckLog } from './dns-check-log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { projectPath } from '../project-root.ts';

export interface AppDeps {
  db: Database;
  /** the read side behind overview, sources, selectors and the monthly summary; null: those answer 503 */
  analytics: Analytics | null;
  /** live DNS checks (Domains view); null: those answer 503 */
  checker: CachedChecker | null;
  limits: Limits;
  redactFailures?: boolean;
  auth: { required: boolean; sessionTtlSec?: number };
  /** Express "trust proxy" (e.g. 1 or 'loopback'): behind a TLS proxy, so cookies get `Secure` */
  trustProxy?: boolean | number | string;
  /** host names served without login besides loopback ones (DNS-rebinding guard) */
  allowedHosts?: string[];
  metrics?: Metrics;
  /** the built client (index.html, assets/); default client/dist */
  clientDir?: string;
  throttle?: ThrottleRules;
  /** epoch seconds */
  now?: () => number;
  log?: (line: string) => void;
}

export interface AppContext {
  db: Database;
  analytics: Analytics | null;
  checker: CachedChecker | null;
  limits: Limits;
  redactFailures: boolean;
  auth: AuthSettings;
  metrics: Metrics;
  clientDir: string;
  throttle: ThrottleRules;
  checkLog: DnsCheckLog;
  now: () => number;
  log: (line: string) => void;
}

export const DEFAULT_CLIENT_DIR = projectPath('client', 'dist');

export function resolveContext(deps: AppDeps): AppContext {
  return {
    db: deps.db,
    analytics: deps.analytics,
    checker: deps.checker,
    limits: deps.limits,
    redactFailures: deps.redactFailures ?? false,
    auth: { required: deps.auth.required, sessionTtlSec: deps.auth.sessionTtlSec ?? 12 * 3600 },
    metrics: deps.metrics ?? createMetrics(),
    clientDir: deps.clientDir ?? DEFAULT_CLIENT_DIR,
    throttle: deps.throttle ?? DEFAULT_THROTTLE,
    checkLog: new DnsCheckLog(),
    now: deps.now ?? (() => Math.floor(Date.now() / 1000)),
    log: deps.log ?? ((line) => process.stderr.write(`dmarc-lens serve: ${line}\n`)),
  };
}
