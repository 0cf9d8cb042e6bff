/**
 * Decoding of stored rows into the normalized shapes (StoredAggregate, StoredFailure…), so the web API can reuse
 * the exporters' shapes (server/export/shapes.ts) and its CSV agrees with the CLI's. The per-table decoders live
 * with the stores that write those tables; this module adds what only the web API needs.
 */
import type { Row } from '../../store/driver.ts';
import { failureReportOf } from '../../store/failure-store.ts';
import type { StoredFailure } from '../../store/report-store.ts';
import { int, text, textOrNull } from '../../store/row-decode.ts';

export { aggregateHeaderOf, aggregateRecordOf } from '../../store/aggregate-store.ts';

/** Unlike the store's listFailures, the origin carries no mail-auth verdict: the web API has never sent it. */
export function storedFailureOf(row: Row): StoredFailure {
  return {
    id: int(row, 'id'),
    report: failureReportOf(row),
    origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member') },
    receivedAt: int(row, 'received_at'),
  };
}

/** `?, ?, …` for an IN list */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** a LIKE pattern matching `needle` anywhere (used with ESCAPE '\') */
export function containsPattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
