/**
 * The poller's settings: IMAP accounts from env (one account) and/or the config file's `imap` list (several),
 * plus the settings shared by all accounts. Every problem is collected and reported at once; passwords are
 * never part of a message.
 */
import { readFileSync } from 'node:fs';
import { FatalError } from '../errors.ts';
import { operatorDomains } from '../config.ts';

export type TlsMode = 'implicit' | 'starttls' | 'none';

export interface ImapAccount {
  /** label used in logs, JSON output and the input name `imap://<name>/<mailbox>/<uidvalidity>/<uid>` */
  name: string;
  host: string;
  port: number;
  tls: TlsMode;
  /** verify the server certificate (default true) */
  tlsVerify: boolean;
  user: string;
  password: string;
  mailbox: string;
  archive: string;
  invalid: string;
  unsaved: string;
  /** flag \Deleted and expunge processed messages instead of moving them to the archive */
  deleteAfter: boolean;
  /** failed attempts (database errors) before a message is moved to `unsaved` */
  maxAttempts: number;
  /** seconds between polls when the server has no IDLE */
  pollSeconds: number;
  /** UIDs handled per batch */
  batch: number;
}

export interface PollSettings {
  accounts: ImapAccount[];
  /** trust only Authentication-Results headers of this authserv-id (DMARC_LENS_AUTHSERV_ID) */
  authservId: string | null;
  /** the operator's domains (DMARC_LENS_DOMAINS); reports for other domains are quarantined */
  domains: string[] | undefined;
}

const ENV = 'DMARC_LENS_IMAP_';
const ACCOUNT_KEYS = [
  'name', 'host', 'port', 'tls', 'tlsVerify', 'user', 'password', 'passwordFile', 'mailbox', 'archive', 'invalid',
  'unsaved', 'deleteAfter', 'maxAttempts', 'pollSeconds', 'batch',
] as const;
type AccountKey = (typeof ACCOUNT_KEYS)[number];
type RawAccount = Partial<Record<AccountKey, unknown>>;

const DEFAULTS = { mailbox: 'INBOX', archive: 'Archive', invalid: 'Invalid', unsaved: 'Unsaved', maxAttempts: 5, pollSeconds: 60, batch: 50 };

/** Reads and checks every account; throws FatalError('bad-config') listing all problems. */
export function loadPollSettings(file: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): PollSettings {
  const problems: string[] = [];
  const raws: { where: string; raw: RawAccount }[] = [];

  const envAccount = accountFromEnv(env);
  if (envAccount) raws.push({ where: `env ${ENV}*`, raw: envAccount });

  const listed = file.imap;
  if (listed !== undefined) {
    if (!Array.isArray(listed)) problems.push('config file: "imap" must be a list of accounts');
    else
      listed.forEach((entry: unknown, i) => {
        const where = `config file imap[${i}]`;
        if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
          problems.push(`${where}: must be an object`);
          return;
        }
        for (const key of Object.keys(entry)) {
          if (!(ACCOUNT_KEYS as readonly string[]).includes(key)) problems.push(`${where}: unknown setting "${key}"`);
        }
        raws.push({ where, raw: entry as RawAccount });
      });
  }

  const accounts = raws.map(({ where, raw }) => checkAccount(where, withEnvDefaults(raw, env), problems));
  const names = new Set<string>();
  for (const a of accounts) {
    if (names.has(a.name)) problems.push(`account name "${a.name}" is used twice (set "name" to tell them apart)`);
    names.add(a.name);
  }
  if (accounts.length === 0) problems.push(`no IMAP account configured: set ${ENV}HOST, ${ENV}USER and ${ENV}PASSWORD, or an "imap" list in the config file`);

  const authservId = text(env.DMARC_LENS_AUTHSERV_ID ?? file.authservId) || null;
  const domains = operatorDomains(env, file);

  if (problems.length > 0) throw new FatalError('bad-config', `IMAP configuration problems:\n  - ${problems.join('\n  - ')}`);
  return { accounts, authservId, domains };
}

function accountFromEnv(env: NodeJS.ProcessEnv): RawAccount | null {
  const names: [AccountKey, string][] = [
    ['name', 'NAME'], ['host', 'HOST'], ['port', 'PORT'], ['tls', 'TLS'], ['tlsVerify', 'TLS_VERIFY'], ['user', 'USER'],
    ['password', 'PASSWORD'], ['passwordFile', 'PASSWORD_FILE'], ['mailbox', 'MAILBOX'], ['archive', 'ARCHIVE'],
    ['invalid', 'INVALID'], ['unsaved', 'UNSAVED'], ['deleteAfter', 'DELETE_AFTER'],
  ];
  const raw: RawAccount = {};
  for (const [key, suffix] of names) {
    const value = env[ENV + suffix];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw.host !== undefined || raw.user !== undefined ? raw : null;
}

/** MAX_ATTEMPTS, POLL_SECONDS and BATCH from env apply to every account that does not set them. */
function withEnvDefaults(raw: RawAccount, env: NodeJS.ProcessEnv): RawAccount {
  return {
    maxAttempts: env[ENV + 'MAX_ATTEMPTS'] || undefined,
    pollSeconds: env[ENV + 'POLL_SECONDS'] || undefined,
    batch: env[ENV + 'BATCH'] || undefined,
    ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  };
}

function checkAccount(where: string, raw: RawAccount, problems: string[]): ImapAccount {
  const bad = (msg: string) => problems.push(`${where}: ${msg}`);
  const host = text(raw.host);
  const user = text(raw.user);
  if (!host) bad('host is missing');
  if (!user) bad('user is missing');

  const tlsRaw = (raw.tls === undefined ? 'true' : text(raw.tls)).toLowerCase();
  const tls: TlsMode | null = ['true', 'yes', '1', 'implicit'].includes(tlsRaw)
    ? 'implicit'
    : tlsRaw === 'starttls'
      ? 'starttls'
      : ['false', 'no', '0', 'none'].includes(tlsRaw)
        ? 'none'
        : null;
  if (!tls) bad(`tls must be true, starttls or false, got ${JSON.stringify(raw.tls)}`);

  const port = raw.port === undefined ? (tls === 'implicit' ? 993 : 143) : Number(raw.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`port must be 1–65535, got ${JSON.stringify(raw.port)}`);

  let password = '';
  if (raw.password !== undefined && raw.passwordFile !== undefined) bad('set either password or passwordFile, not both');
  else if (raw.passwordFile !== undefined) {
    try {
      password = readFileSync(text(raw.passwordFile), 'utf8').replace(/\r?\n$/, '');
      if (!password) bad(`password file ${text(raw.passwordFile)} is empty`);
    } catch (err) {
      bad(`cannot read password file ${text(raw.passwordFile)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else if (raw.password !== undefined) {
    // taken as it is: spaces at either end can be part of a password (only the file's final line break is dropped)
    password = typeof raw.password === 'string' ? raw.password : text(raw.password);
    if (!password) bad('password is empty');
  } else bad('password (or passwordFile) is missing');

  const folder = (key: 'mailbox' | 'archive' | 'invalid' | 'unsaved') => {
    const value = raw[key] === undefined ? DEFAULTS[key] : text(raw[key]);
    if (!value) bad(`${key} folder name is empty`);
    return value;
  };
  const mailbox = folder('mailbox');
  const archive = folder('archive');
  const invalid = folder('invalid');
  const unsaved = folder('unsaved');
  for (const [key, value] of [['archive', archive], ['invalid', invalid], ['unsaved', unsaved]] as const) {
    if (value.toLowerCase() === mailbox.toLowerCase()) bad(`${key} folder must differ from the polled mailbox "${mailbox}"`);
  }

  const count = (key: 'maxAttempts' | 'pollSeconds' | 'batch', max: number) => {
    const value = raw[key] === undefined ? DEFAULTS[key] : Number(raw[key]);
    if (!Number.isInteger(value) || value < 1 || value > max) bad(`${key} must be a whole number 1–${max}, got ${JSON.stringify(raw[key])}`);
    return value;
  };

  return {
    name: text(raw.name) || `${user}@${host}`,
    host,
    port,
    tls: tls ?? 'implicit',
    tlsVerify: flag(raw.tlsVerify, true, 'tlsVerify', bad),
    user,
    password,
    mailbox,
    archive,
    invalid,
    unsaved,
    deleteAfter: flag(raw.deleteAfter, false, 'deleteAfter', bad),
    maxAttempts: count('maxAttempts', 1000),
    pollSeconds: count('pollSeconds', 86_400),
    batch: count('batch', 10_000),
  };
}

function flag(value: unknown, fallback: boolean, key: string, bad: (msg: string) => void): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  const s = text(value).toLowerCase();
  if (['true', 'yes', '1'].includes(s)) return true;
  if (['false', 'no', '0'].includes(s)) return false;
  bad(`${key} must be true or false, got ${JSON.stringify(value)}`);
  return fallback;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** An account as safe to print: everything but the password. */
export function describeAccount(a: ImapAccount): string {
  const tls = a.tls === 'implicit' ? 'tls' : a.tls;
  return `${a.name} (${a.user} at ${a.host}:${a.port}, ${tls}${a.tlsVerify ? '' : ', certificate not verified'}, ${a.mailbox} → ${a.deleteAfter ? 'deleted' : a.archive})`;
}
