/**
 * SourceGroups (server/domain/classify.ts) rebuilt from rollup rows (pure): the same figures addRecordToGroups
 * gives from the raw records, per (policy domain, source IP, key DKIM signature), over the rows' days.
 */
import { groupKey, type SourceGroup } from '../domain/classify.ts';
import { DAY } from './analytics-filter.ts';
import type { AuthRow, SourceAuthRow } from './rollup-queries.ts';

const MAX_LISTED = 16;

function addDistinct(list: string[], v: string | null): void {
  if (v && list.length < MAX_LISTED && !list.includes(v)) list.push(v);
}

/** Adds one rollup row to its group (created on first use). Rows whose facts are unknown are skipped. */
export function addRollupRow(groups: Map<string, SourceGroup>, row: SourceAuthRow, auth: AuthRow | undefined): SourceGroup | null {
  if (!auth || row.messages <= 0) return null;
  const key = groupKey(row.domain, row.ip, auth.dkimDomain, auth.dkimSelector);
  let g = groups.get(key);
  if (!g) groups.set(key, (g = newGroup(row, auth)));
  addToGroup(g, row, auth);
  return g;
}

/** An empty group for the row's (domain, IP, key signature). */
export function newGroup(row: SourceAuthRow, auth: AuthRow): SourceGroup {
  return {
    policyDomain: row.domain, sourceIp: row.ip, dkimDomain: auth.dkimDomain, dkimSelector: auth.dkimSelector,
    messages: 0, dkimAlignedPass: 0, spfAlignedPass: 0, dmarcPass: 0,
    forwardEvidenceNoDkim: 0, spfOnlyNoDkim: 0, neitherNoDkim: 0, arcEvidence: 0,
    overrideReasons: {}, keyResults: {}, dkimPassDomains: [], headerFromDomains: [],
    firstSeen: row.firstDay, lastSeen: row.lastDay + DAY - 1,
  };
}

/** Adds a row (with messages) of the group's own (domain, IP, key signature). */
export function addToGroup(g: SourceGroup, row: SourceAuthRow, auth: AuthRow): void {
  const n = row.messages;
  g.messages += n;
  if (auth.dkimAligned) g.dkimAlignedPass += n;
  if (auth.spfAligned) g.spfAlignedPass += n;
  if (auth.dkimAligned || auth.spfAligned) g.dmarcPass += n;
  if (!auth.dkimAligned) {
    if (auth.forwarded) g.forwardEvidenceNoDkim += n;
    else if (auth.spfAligned) g.spfOnlyNoDkim += n;
    else g.neitherNoDkim += n;
  }
  if (auth.arc) g.arcEvidence += n;
  for (const t of auth.overrideReasons) g.overrideReasons[t] = (g.overrideReasons[t] ?? 0) + n;
  g.keyResults[auth.dkimResult] = (g.keyResults[auth.dkimResult] ?? 0) + n;
  for (const d of auth.dkimPassDomains) addDistinct(g.dkimPassDomains, d);
  addDistinct(g.headerFromDomains, auth.headerFrom);
  g.firstSeen = Math.min(g.firstSeen, row.firstDay);
  g.lastSeen = Math.max(g.lastSeen, row.lastDay + DAY - 1);
}

export function groupsFromRollups(rows: Iterable<SourceAuthRow>, auths: Map<number, AuthRow>): Map<string, SourceGroup> {
  const groups = new Map<string, SourceGroup>();
  for (const row of rows) addRollupRow(groups, row, auths.get(row.authKey));
  return groups;
}
