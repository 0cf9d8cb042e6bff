/**
 * The operator's approved sources kept in the database (table approved_sources, migration 005): the "approve this
 * source" action of the web UI. They are merged with the config file's `senders.approved` list by the analytics.
 */
import type { ApprovedSource } from '../enrich/known-senders.ts';
import type { Driver } from './driver.ts';

export interface StoredApproval extends ApprovedSource {
  id: number;
  note: string | null;
  createdAt: number;
}

/** The identity of an entry: the same ip / cidr / baseDomain / service approved twice is one row. */
function entryKey(a: ApprovedSource): string {
  return JSON.stringify([a.ip ?? null, a.cidr ?? null, a.baseDomain ?? null, a.service?.toLowerCase() ?? null]);
}

/** Adds an entry (already validated); approving the same entry again only updates its note. */
export async function saveApproval(driver: Driver, a: ApprovedSource, note: string | null, at: number): Promise<void> {
  await driver.transaction((tx) =>
    tx.query(
      `INSERT INTO approved_sources (ip, cidr, base_domain, service, note, created_at, key_entry) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_entry) DO UPDATE SET note = coalesce(excluded.note, approved_sources.note)`,
      [a.ip ?? null, a.cidr ?? null, a.baseDomain ?? null, a.service ?? null, note, at, entryKey(a)],
    ),
  );
}

export async function listApprovals(driver: Driver): Promise<StoredApproval[]> {
  const rows = await driver.query('SELECT id, ip, cidr, base_domain, service, note, created_at FROM approved_sources ORDER BY id');
  return rows.map((r) => {
    const out: StoredApproval = { id: Number(r.id), note: r.note == null ? null : String(r.note), createdAt: Number(r.created_at) };
    if (r.ip != null) out.ip = String(r.ip);
    if (r.cidr != null) out.cidr = String(r.cidr);
    if (r.base_domain != null) out.baseDomain = String(r.base_domain);
    if (r.service != null) out.service = String(r.service);
    return out;
  });
}

export async function deleteApproval(driver: Driver, id: number): Promise<boolean> {
  return driver.transaction(async (tx) => {
    const found = await tx.query('SELECT id FROM approved_sources WHERE id = ?', [id]);
    if (found.length === 0) return false;
    await tx.query('DELETE FROM approved_sources WHERE id = ?', [id]);
    return true;
  });
}
