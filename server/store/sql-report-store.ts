import { listAggregates, saveAggregate, streamAggregates } from './aggregate-store.ts';
import type { Driver } from './driver.ts';
import { listFailures, saveFailure } from './failure-store.ts';
import { getQuarantineBytes, listQuarantine, markQuarantineResolved, saveQuarantine } from './quarantine-store.ts';
import type { ReportStore, StoreCounts } from './report-store.ts';
import { int } from './row-decode.ts';
import { listTls, saveTls } from './tls-store.ts';

/** epoch seconds now; replaceable for tests */
export type Clock = () => number;

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

/** The one SQL implementation of ReportStore; every engine difference stays inside `driver`. */
export function createSqlReportStore(driver: Driver, now: Clock = systemClock): ReportStore {
  let closed = false;
  return {
    dialect: driver.dialect,
    saveAggregate: (header, records, origin) => saveAggregate(driver, header, records, origin, now()),
    saveFailure: (report, origin, dedupKey) => saveFailure(driver, report, origin, dedupKey, now()),
    saveTls: (report, origin) => saveTls(driver, report, origin, now()),
    saveQuarantine: (q) => saveQuarantine(driver, q, now()),
    listAggregates: (filter) => listAggregates(driver, filter),
    streamAggregates: (filter) => streamAggregates(driver, filter),
    listFailures: (filter) => listFailures(driver, filter),
    listTls: (filter) => listTls(driver, filter),
    listQuarantine: (filter) => listQuarantine(driver, filter),
    getQuarantineBytes: (id) => getQuarantineBytes(driver, id),
    markQuarantineResolved: (id) => markQuarantineResolved(driver, id, now()),
    counts: () => counts(driver),
    async close() {
      if (closed) return;
      closed = true;
      await driver.close();
    },
  };
}

async function counts(driver: Driver): Promise<StoreCounts> {
  const [row] = await driver.query(`SELECT
    (SELECT count(*) FROM aggregate_reports) AS aggregate,
    (SELECT CAST(coalesce(sum(record_count), 0) AS BIGINT) FROM aggregate_reports) AS records,
    (SELECT count(*) FROM failure_reports) AS failure,
    (SELECT count(*) FROM tls_reports) AS tls,
    (SELECT count(*) FROM quarantine) AS quarantine`);
  return {
    aggregate: int(row!, 'aggregate'),
    records: int(row!, 'records'),
    failure: int(row!, 'failure'),
    tls: int(row!, 'tls'),
    quarantine: int(row!, 'quarantine'),
  };
}
