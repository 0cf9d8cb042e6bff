/**
 * DNS check history in the database (table dns_check_history, migration 006). Each row is a period during which
 * a domain's check gave the same result (same records, statuses and finding codes: the fingerprint). A check
 * equal to the newest row only moves that row's last_checked_at (and keeps the newest result text); a different
 * one starts a new row. So the newest row says "checked N min ago", and each row's first_checked_at is when
 * something changed — `history()` also lists what changed, record by record.
 */
import { createHash } from 'node:crypto';
import type { CheckHistory, DomainCheck, RecordCheck } from '../dns/check-types.ts';
import type { Driver } from './driver.ts';
import { keyText } from './report-keys.ts';

export interface RecordChange {
  type: RecordCheck['type'];
  name: string;
  /** null: the record was not part of the previous (or this) check */
  before: { value: string | null; status: RecordCheck['status'] } | null;
  after: { value: string | null; status: RecordCheck['status'] } | null;
}

export interface CheckPeriod {
  id: number;
  domain: string;
  /** epoch seconds: when this result was first seen (a change, except for the very first period) */
  firstCheckedAt: number;
  /** epoch seconds: the newest check that gave this result */
  lastCheckedAt: number;
  checks: number;
  fingerprint: string;
  /** the newest check of the period */
  check: DomainCheck;
  /** what differs from the period before (empty for the first one) */
  changes: RecordChange[];
}

export interface CheckHistoryStore extends CheckHistory {
  /** newest first, at most `limit` periods (default 50) */
  history(domain: string, limit?: number): Promise<CheckPeriod[]>;
  latest(domain: string): Promise<CheckPeriod | null>;
}

/** What counts as a change: the records, their values and statuses, and the finding codes (not the wording). */
export function checkFingerprint(check: DomainCheck): string {
  const shape = check.records.map((r) => [r.type, r.name, r.value, r.status, r.findings.map((f) => `${f.severity}:${f.code}`).sort()]);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex');
}

export function createCheckHistoryStore(driver: Driver): CheckHistoryStore {
  const read = async (domain: string, limit: number): Promise<CheckPeriod[]> => {
    const rows = await driver.query(
      `SELECT id, fingerprint, result, first_checked_at, last_checked_at, checks FROM dns_check_history
       WHERE key_domain = ? ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit)) + 1}`,
      [keyText(domain)],
    );
    const periods = rows.map((r) => ({
      id: Number(r.id),
      fingerprint: String(r.fingerprint),
      check: JSON.parse(String(r.result)) as DomainCheck,
      firstCheckedAt: Number(r.first_checked_at),
      lastCheckedAt: Number(r.last_checked_at),
      checks: Number(r.checks),
    }));
    return periods.slice(0, limit).map((p, i) => ({
      ...p,
      domain: p.check.domain,
      changes: periods[i + 1] ? recordChanges(periods[i + 1]!.check, p.check) : [],
    }));
  };
  return {
    async save(check) {
      const at = Math.floor((Date.parse(check.checked_at) || Date.now()) / 1000);
      const fingerprint = checkFingerprint(check);
      const key = keyText(check.domain);
      await driver.transaction(async (tx) => {
        const [newest] = await tx.query('SELECT id, fingerprint FROM dns_check_history WHERE key_domain = ? ORDER BY id DESC LIMIT 1', [key]);
        if (newest && String(newest.fingerprint) === fingerprint) {
          await tx.query(
            `UPDATE dns_check_history SET result = ?, checks = checks + 1,
               last_checked_at = CASE WHEN last_checked_at < ? THEN ? ELSE last_checked_at END WHERE id = ?`,
            [JSON.stringify(check), at, at, Number(newest.id)],
          );
        } else {
          await tx.query(
            'INSERT INTO dns_check_history (key_domain, fingerprint, result, first_checked_at, last_checked_at, checks) VALUES (?, ?, ?, ?, ?, 1)',
            [key, fingerprint, JSON.stringify(check), at, at],
          );
        }
      });
    },
    history: (domain, limit = 50) => read(domain, limit),
    async latest(domain) {
      return (await read(domain, 1))[0] ?? null;
    },
  };
}

/** Records added, removed, or with another value or status, between two checks of a domain. */
export function recordChanges(before: DomainCheck, after: DomainCheck): RecordChange[] {
  const key = (r: RecordCheck) => `${r.type}\u0000${r.name}`;
  const old = new Map(before.records.map((r) => [key(r), r]));
  const now = new Map(after.records.map((r) => [key(r), r]));
  const out: RecordChange[] = [];
  for (const [k, r] of now) {
    const o = old.get(k);
    if (!o || o.value !== r.value || o.status !== r.status) {
      out.push({ type: r.type, name: r.name, before: o ? { value: o.value, status: o.status } : null, after: { value: r.value, status: r.status } });
    }
  }
  for (const [k, o] of old) {
    if (!now.has(k)) out.push({ type: o.type, name: o.name, before: { value: o.value, status: o.status }, after: null });
  }
  return out;
}
