/**
 * `dmarc-lens serve`: the web app (API + dashboards) over the database, and — when IMAP is configured — the
 * poller in the same process, so one command runs the whole product. A login is required whenever the server
 * listens on anything but loopback.
 */
import type { AddressInfo } from 'node:net';
import { Option, type Command } from 'commander';
import type { Analytics } from '../analytics/analytics-types.ts';
import { loadConfig, redactUrl, type Config } from '../config.ts';
import { parseResolverSpec, RESOLVER_ENV } from '../dns/resolver.ts';
import { FatalError } from '../errors.ts';
import { isLoopbackHost } from '../http/auth/host-guard.ts';
import { ensureClientBuilt } from '../http/client-bundle.ts';
import { DEFAULT_CLIENT_DIR } from '../http/app-context.ts';
import { createApp } from '../http/create-app.ts';
import { createMetrics, type Metrics } from '../http/metrics.ts';
import { createWebChecker } from '../http/web-checker.ts';
import { startBackgroundEnrichment } from '../http/background-enrich.ts';
import { warmAnalytics, webAnalytics } from '../http/load-analytics.ts';
import { loadPollSettings } from '../mailbox/account-config.ts';
import { poll } from '../mailbox/poller.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { countWebUsers } from '../store/web-users.ts';
import { addStoreOptions } from './common.ts';
import { ensureEnvAdmin } from './user.ts';

export interface WebServerOptions {
  db: Database;
  config: Config;
  host: string;
  port: number;
  /** run the IMAP poller in-process when IMAP is configured */
  poll: boolean;
  /** look up reverse DNS / ASN / country of the stored source IPs in the background (default true) */
  enrich?: boolean;
  /** require a login even on loopback */
  requireLogin?: boolean;
  trustProxy?: boolean | number | string;
  /** DNS servers for the Domains view's checks (default: the system's) */
  resolvers?: string[];
  dnsTimeoutMs?: number;
  analytics?: Analytics | null;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunningWebServer {
  url: string;
  port: number;
  loginRequired: boolean;
  metrics: Metrics;
  close(): Promise<void>;
}

export async function startWebServer(opts: WebServerOptions): Promise<RunningWebServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`dmarc-lens serve: ${line}\n`));
  const loginRequired = opts.requireLogin === true || !isLoopbackHost(opts.host);
  await ensureEnvAdmin(opts.db.driver, env, log);
  if (loginRequired && (await countWebUsers(opts.db.driver)) === 0) {
    throw new FatalError(
      'no-users',
      `a login is required when listening on ${opts.host}, but there is no user yet: create one with ` +
        '`dmarc-lens user add NAME` (password on stdin), or set DMARC_LENS_ADMIN_USER and DMARC_LENS_ADMIN_PASSWORD',
    );
  }
  await ensureClientBuilt(DEFAULT_CLIENT_DIR, log);
  const metrics = createMetrics();
  const checker = createWebChecker({ timeoutMs: opts.dnsTimeoutMs ?? 2500, ...(opts.resolvers ? { servers: opts.resolvers } : {}) });
  const analytics = opts.analytics !== undefined ? opts.analytics : webAnalytics(opts.db, opts.config.file);
  const app = createApp({
    db: opts.db,
    analytics,
    checker,
    limits: opts.config.limits,
    redactFailures: opts.config.redactFailures,
    auth: { required: loginRequired },
    trustProxy: opts.trustProxy ?? false,
    allowedHosts: (env.DMARC_LENS_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    metrics,
    log,
  });
  const server = app.listen(opts.port, opts.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new FatalError('listen-failed', `cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`, { cause: err })),
    );
  });
  const port = (server.address() as AddressInfo).port;
  // in the background: the server answers meanwhile, and requests needing the index wait for this same load
  const warming = warmAnalytics(analytics, log);
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  const enricher = opts.enrich === false ? null : startBackgroundEnrichment(opts.db, { ...(opts.resolvers ? { servers: opts.resolvers } : {}), log });
  const stopPoller = opts.poll ? startPoller(opts.config, env, metrics, log, () => enricher?.trigger()) : null;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    loginRequired,
    metrics,
    async close() {
      await stopPoller?.();
      await enricher?.stop();
      // the load reads the database the caller closes next
      await warming;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs the poller in the background when IMAP is configured; returns how to stop it. */
function startPoller(
  config: Config,
  env: NodeJS.ProcessEnv,
  metrics: Metrics,
  log: (line: string) => void,
  onNewReports: () => void,
): (() => Promise<void>) | null {
  const configured = env.DMARC_LENS_IMAP_HOST !== undefined || env.DMARC_LENS_IMAP_USER !== undefined || config.file.imap !== undefined;
  if (!configured) {
    log('no IMAP account configured (DMARC_LENS_IMAP_HOST / the config file\'s "imap"): not polling');
    return null;
  }
  const settings = loadPollSettings(config.file, env);
  const controller = new AbortController();
  log(`polling ${settings.accounts.length} IMAP account(s)`);
  const run = poll({
    settings,
    db: config.db,
    limits: config.limits,
    redactFailures: config.redactFailures,
    once: false,
    signal: controller.signal,
    onResult: (r) => {
      metrics.countPollMessage(r.outcome);
      if (r.error !== undefined) metrics.countPollError('store');
      if (r.reports > 0) onNewReports();
    },
    log: (line) => log(`poll: ${line}`),
  })
    .then((summary) => {
      for (const f of summary.failed) {
        metrics.countPollError('account');
        log(`poll: account ${f.account} stopped: ${f.error}`);
      }
    })
    .catch((err: unknown) => {
      metrics.countPollError('fatal');
      log(`poll: stopped: ${(err as Error).message}`);
    });
  return async () => {
    controller.abort();
    await run;
  };
}

interface ServeFlags {
  db?: string;
  config?: string;
  host: string;
  port: string;
  poll: boolean;
  enrich: boolean;
  requireLogin?: boolean;
  trustProxy?: string;
  resolver?: string;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new FatalError('bad-config', `not a port number: ${JSON.stringify(value)}`);
  return n;
}

/** "true", "false", a hop count, or Express's names/addresses ("loopback", "10.0.0.0/8, …") */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || /^(false|no|0)$/i.test(value)) return false;
  if (/^(true|yes)$/i.test(value)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

export function registerServeCommand(program: Command): void {
  addStoreOptions(program.command('serve').description('run the web app (dashboards, API, CSV export) and, when IMAP is configured, the poller'))
    .addOption(new Option('--host <address>', 'address to listen on; anything but loopback requires a login').env('DMARC_LENS_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on').env('DMARC_LENS_PORT').default('8080'))
    .option('--no-poll', 'do not run the IMAP poller in this process')
    .option('--no-enrich', 'do not look up reverse DNS / ASN / country of new source IPs in the background')
    .option('--require-login', 'require a login even on loopback (env DMARC_LENS_REQUIRE_LOGIN=true)')
    .addOption(new Option('--trust-proxy <value>', 'behind a TLS-terminating proxy: its hop count or address (cookies then get Secure)').env('DMARC_LENS_TRUST_PROXY'))
    .addOption(new Option('--resolver <ip:port>', 'DNS servers for the domain checks, comma-separated').env(RESOLVER_ENV))
    .action(async (flags: ServeFlags) => {
      const config = loadConfig(flags);
      const port = parsePort(flags.port);
      const log = (line: string) => process.stderr.write(`dmarc-lens serve: ${line}\n`);
      const db = await openDatabase(config.db);
      let server: RunningWebServer;
      try {
        server = await startWebServer({
          db,
          config,
          host: flags.host,
          port,
          poll: flags.poll,
          enrich: flags.enrich,
          requireLogin: flags.requireLogin === true || /^(1|true|yes)$/i.test(process.env.DMARC_LENS_REQUIRE_LOGIN ?? ''),
          trustProxy: parseTrustProxy(flags.trustProxy),
          ...(flags.resolver ? { resolvers: parseResolverSpec(flags.resolver) } : {}),
          log,
        });
      } catch (err) {
        await db.close();
        throw err;
      }
      log(`database ${redactUrl(config.db)}; ${server.loginRequired ? 'login required' : 'no login (loopback only)'}`);
      process.stdout.write(`dmarc-lens is running at ${server.url}\n`);
      await untilSignal(log);
      await server.close();
      await db.close();
    });
}

/** resolves on the first SIGINT / SIGTERM; a second one exits at once */
export function untilSignal(log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (name: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      log(`${name}: stopping`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
