import { readFileSync } from 'node:fs';
import { FatalError } from './errors.ts';
import { DEFAULT_LIMITS, type Limits } from './ingest/limits.ts';

/** Settings shared by every command: flags win over env, env over the config file, the file over defaults. */
export interface Config {
  db: string;
  limits: Limits;
  /** drop identity headers of the original message from failure reports before storing them */
  redactFailures: boolean;
  /** the operator's domains (DMARC_LENS_DOMAINS / "domains"): reports for other policy domains are quarantined */
  domains: string[] | undefined;
  /** raw config file contents, for sections owned by other modules (imap accounts, senders…) */
  file: Record<string, unknown>;
}

export const DEFAULT_DB = 'sqlite:./dmarc-lens.db';

/** env var name for each limit, e.g. maxRecords → DMARC_LENS_MAX_RECORDS */
export function limitEnvName(key: keyof Limits): string {
  return 'DMARC_LENS_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export interface ConfigFlags {
  db?: string;
  config?: string;
  redact?: boolean;
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const path = flags.config ?? env.DMARC_LENS_CONFIG;
  let file: Record<string, unknown> = {};
  if (path) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) file = parsed as Record<string, unknown>;
      else problems.push(`config file ${path}: must hold a JSON object`);
    } catch (err) {
      problems.push(`config file ${path}: ${(err as Error).message}`);
    }
  }

  const fileLimits = (file.limits ?? {}) as Record<string, unknown>;
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const raw = env[limitEnvName(key)] ?? fileLimits[key];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) problems.push(`limit ${key} (${limitEnvName(key)}): expected a positive number, got ${JSON.stringify(raw)}`);
    else limits[key] = n;
  }

  const db = flags.db ?? (env.DMARC_LENS_DB || undefined) ?? (typeof file.db === 'string' ? file.db : undefined) ?? DEFAULT_DB;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(db)) problems.push(`database URL ${JSON.stringify(redactUrl(db))}: expected sqlite:PATH or postgres://…`);

  const redactEnv = env.DMARC_LENS_REDACT_FAILURES;
  const redactFailures = flags.redact ?? (redactEnv !== undefined ? /^(1|true|yes)$/i.test(redactEnv) : file.redactFailures === true);

  const domains = operatorDomains(env, file);

  if (problems.length > 0) throw new FatalError('bad-config', `configuration problems:\n  - ${problems.join('\n  - ')}`);
  return { db, limits, redactFailures, domains, file };
}

/** DMARC_LENS_DOMAINS (comma-separated) or the config file's "domains" (list or string); undefined when unset. */
export function operatorDomains(env: NodeJS.ProcessEnv, file: Record<string, unknown>): string[] | undefined {
  const raw = env.DMARC_LENS_DOMAINS ?? (Array.isArray(file.domains) ? file.domains.join(',') : file.domains);
  const domains = (typeof raw === 'string' ? raw : '')
    .split(',')
    .map((d) => d.trim().toLowerCase().replace(/\.$/, ''))
    .filter(Boolean);
  return domains.length > 0 ? domains : undefined;
}

/** A database URL safe to print: the password is replaced by ***. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
