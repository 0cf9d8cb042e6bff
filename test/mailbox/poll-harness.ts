/** Shared pieces of the mailbox integration tests: poller settings for the test Dovecot, store snapshots, bounded waits. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferSource } from '../../server/ingest/input-sources.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { ingestInput, type IngestEvent } from '../../server/ingest/pipeline.ts';
import { loadPollSettings, type PollSettings } from '../../server/mailbox/account-config.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { ReportStore } from '../../server/store/report-store.ts';
import type { Dovecot } from '../helpers/dovecot.ts';
import { asImapServes, type MailFixture } from '../helpers/mail-fixtures.ts';

export interface AccountOverrides {
  mailbox?: string;
  archive?: string;
  invalid?: string;
  unsaved?: string;
  tls?: 'true' | 'starttls' | 'false';
  maxAttempts?: number;
  batch?: number;
  pollSeconds?: number;
  deleteAfter?: boolean;
  domains?: string;
  authservId?: string;
}

/** DMARC_LENS_* env for one account on the test server (implicit TLS, self-signed certificate accepted). */
export function pollEnv(d: Dovecot, o: AccountOverrides = {}): Record<string, string> {
  const tls = o.tls ?? 'true';
  const env: Record<string, string> = {
    DMARC_LENS_IMAP_NAME: 'test',
    DMARC_LENS_IMAP_HOST: d.host,
    DMARC_LENS_IMAP_PORT: String(tls === 'true' ? d.tlsPort : d.port),
    DMARC_LENS_IMAP_TLS: tls,
    DMARC_LENS_IMAP_TLS_VERIFY: 'false',
    DMARC_LENS_IMAP_USER: d.user,
    DMARC_LENS_IMAP_PASSWORD: d.pass,
  };
  const set = (key: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) env[key] = String(value);
  };
  set('DMARC_LENS_IMAP_MAILBOX', o.mailbox);
  set('DMARC_LENS_IMAP_ARCHIVE', o.archive);
  set('DMARC_LENS_IMAP_INVALID', o.invalid);
  set('DMARC_LENS_IMAP_UNSAVED', o.unsaved);
  set('DMARC_LENS_IMAP_MAX_ATTEMPTS', o.maxAttempts);
  set('DMARC_LENS_IMAP_BATCH', o.batch);
  set('DMARC_LENS_IMAP_POLL_SECONDS', o.pollSeconds);
  set('DMARC_LENS_IMAP_DELETE_AFTER', o.deleteAfter);
  set('DMARC_LENS_DOMAINS', o.domains);
  set('DMARC_LENS_AUTHSERV_ID', o.authservId);
  return env;
}

export function pollSettings(d: Dovecot, o: AccountOverrides = {}): PollSettings {
  return loadPollSettings({}, pollEnv(d, o));
}

/** Folder names of a test that polls `mailbox` (each test its own set, so tests do not see each other's mail). */
export function folders(mailbox: string): Required<Pick<AccountOverrides, 'mailbox' | 'archive' | 'invalid' | 'unsaved'>> {
  return { mailbox, archive: `${mailbox}-Archive`, invalid: `${mailbox}-Invalid`, unsaved: `${mailbox}-Unsaved` };
}

const tempDirs: string[] = [];

/** A SQLite URL in a fresh temp dir (removed by removeTempDbs). */
export function tempDbUrl(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dmarc-lens-${label}-`));
  tempDirs.push(dir);
  return `sqlite:${join(dir, 'test.db')}`;
}

export function removeTempDbs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** What a store holds, independent of ids, times and input names: comparable between runs. */
export interface StoreSnapshot {
  aggregates: string[];
  failures: string[];
  tls: string[];
  quarantine: string[];
  records: number;
}

export async function snapshot(store: ReportStore): Promise<StoreSnapshot> {
  const aggregates: string[] = [];
  let records = 0;
  for await (const a of store.listAggregates({})) {
    const h = a.header;
    aggregates.push([h.orgName, h.reportId, h.policy.domain, h.begin, h.end, a.records.length].join('|'));
    records += a.records.length;
  }
  const failures: string[] = [];
  for await (const f of store.listFailures({})) {
    const r = f.report;
    failures.push([r.reportedDomain, r.sourceIp, r.arrivalDate, r.originalMessageId, r.authFailure].join('|'));
  }
  const tls: string[] = [];
  for await (const t of store.listTls({})) tls.push([t.report.orgName, t.report.reportId, t.report.policies.length].join('|'));
  const quarantine: string[] = [];
  for await (const q of store.listQuarantine({})) quarantine.push([q.sha256, q.member, q.code].join('|'));
  return { aggregates: aggregates.sort(), failures: failures.sort(), tls: tls.sort(), quarantine: quarantine.sort(), records };
}

/**
 * The reference: the same mails ingested directly (no IMAP; line ends as IMAP serves them) into a fresh store. Returns, per mail, whether the
 * poller should archive it (some report stored or duplicate) and the store snapshot the poller should end with.
 */
export async function referenceIngest(
  mails: MailFixture[],
  opts: { domains?: string[] } = {},
): Promise<{ archived: boolean[]; events: IngestEvent[][]; snapshot: StoreSnapshot }> {
  const store = await openStore(tempDbUrl('reference'));
  try {
    const events: IngestEvent[][] = [];
    for (const [i, mail] of mails.entries()) {
      events.push(await ingestInput(bufferSource(`reference/${i}/${mail.name}`, asImapServes(mail.bytes)), { store, limits: DEFAULT_LIMITS, domains: opts.domains }));
    }
    return { archived: events.map((e) => e.some((x) => x.outcome !== 'quarantined')), events, snapshot: await snapshot(store) };
  } finally {
    await store.close();
  }
}

/** Polls `check` until it returns a value (not undefined/false), at most `timeoutMs`; then fails with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A SQLite database (migrated) that opens fine but refuses aggregate reports whose report_id is LIKE `pattern`:
 * storing such a mail fails while the database is reachable — a failure of the mail, not an outage.
 */
export async function refusingDb(file: string, pattern: string): Promise<string> {
  const url = `sqlite:${file}`;
  await (await openStore(url)).close();
  const raw = new Database(file);
  try {
    raw.exec(`CREATE TRIGGER refuse_reports BEFORE INSERT ON aggregate_reports WHEN NEW.report_id LIKE '${pattern.replace(/'/g, "''")}'
              BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
  } finally {
    raw.close();
  }
  return url;
}
