import type { AggregateHeader, AggregateRecord, Origin } from '../domain/report-types.ts';
import { ReportRollup } from './analytics-rollup.ts';
import type { Driver, Row, SqlRunner, SqlValue } from './driver.ts';
import type { ExportFilter, SaveOutcome, StoredAggregate, StreamedAggregate } from './report-store.ts';
import { epochSeconds, keyText } from './report-keys.ts';
import { int, intOrNull, json, mailAuthOf, mailAuthValue, text, textOrNull } from './row-decode.ts';
import { insertRowSql, keysetPages, PAGE_SIZE, Where } from './sql-build.ts';

const RECORD_COLUMNS = [
  'report_id', 'ordinal', 'source_ip', 'message_count', 'disposition', 'dkim_eval', 'spf_eval', 'header_from',
  'envelope_from', 'envelope_to', 'override_reasons', 'dkim', 'spf', 'problems', 'auth_key',
] as const;

/** rows collected across the parser's batches before they are written, so statements stay full-sized */
const WRITE_CHUNK_ROWS = 1000;

export async function saveAggregate(
  driver: Driver,
  header: AggregateHeader,
  records: AsyncIterable<AggregateRecord[]>,
  origin: Origin,
  receivedAt: number,
): Promise<SaveOutcome> {
  // the daily rollups of this report (analytics): each record's auth_key, then the rollups at the end
  const rollup = new ReportRollup(header);
  const width = RECORD_COLUMNS.length;
  const chunkValues = WRITE_CHUNK_ROWS * width;
  // The first chunk of records is read (parsed, decompressed) BEFORE the write transaction begins, so a
  // report of up to WRITE_CHUNK_ROWS records holds the database's write lock only for its writes. Row values
  // are grown by push (a small report allocates only what it needs); the report id is filled in once known.
  const batches = records[Symbol.asyncIterator]();
  let pending: SqlValue[] = [];
  let recordCount = 0;
  let messageCount = 0;
  const take = (batch: AggregateRecord[], id: number) => {
    for (const record of batch) {
      pushRecordValues(pending, id, record, rollup);
      recordCount++;
      messageCount += Number.isFinite(record.count) ? record.count : 0;
    }
  };
  let ended = false;
  while (pending.length < chunkValues) {
    const step = await batches.next();
    if (step.done) {
      ended = true;
      break;
    }
    take(step.value, 0);
  }
  const outcome = await driver.transaction(async (tx): Promise<SaveOutcome> => {
    // a report read whole before the transaction is written with its totals (and its final errors) at once
    const totals: Record<string, SqlValue> = ended ? { record_count: recordCount, message_count: messageCount } : {};
    const { sql, params } = insertRowSql('aggregate_reports', { ...headerValues(header, origin, receivedAt), ...totals });
    const inserted = await tx.query(`${sql} ON CONFLICT DO NOTHING RETURNING id`, params);
    if (!inserted[0]) return { outcome: 'duplicate', id: await existingId(tx, header) };
    const id = int(inserted[0], 'id');
    for (let i = 0; i < pending.length; i += width) pending[i] = id;
    // the rest, written whenever a full chunk is there (memory stays bounded)
    for (;;) {
      if (pending.length >= chunkValues) {
        await tx.insertMany('aggregate_records', RECORD_COLUMNS, pending);
        pending = [];
      }
      if (ended) break;
      const step = await batches.next();
      if (step.done) break;
      take(step.value, id);
    }
    if (pending.length > 0) await tx.insertMany('aggregate_records', RECORD_COLUMNS, pending);
    await rollup.write(tx, driver, id);
    if (ended) return { outcome: 'stored', id };
    // header.errors may have grown while the rest of the records were parsed
    await tx.query('UPDATE aggregate_reports SET errors = ?, record_count = ?, message_count = ? WHERE id = ?', [
      JSON.stringify(header.errors),
      recordCount,
      messageCount,
      id,
    ]);
    return { outcome: 'stored', id };
  });
  if (outcome.outcome === 'stored') rollup.committed(driver);
  if (outcome.outcome === 'duplicate') {
    // the caller's parser still has to run to its end (and may still reject the input)
    if (!ended) for (let step = await batches.next(); !step.done; step = await batches.next());
  }
  return outcome;
}

async function existingId(tx: SqlRunner, header: AggregateHeader): Promise<number> {
  const rows = await tx.query(
    `SELECT id FROM aggregate_reports
     WHERE key_org = ? AND key_report_id = ? AND key_domain = ? AND period_begin = ? AND period_end = ?`,
    [keyText(header.orgName), keyText(header.reportId), keyText(header.policy.domain), epochSeconds(header.begin), epochSeconds(header.end)],
  );
  if (!rows[0]) throw new Error(`aggregate report ${header.reportId}: insert conflicted but no stored report matches`);
  return int(rows[0], 'id');
}

function headerValues(h: AggregateHeader, origin: Origin, receivedAt: number): Record<string, SqlValue> {
  const p = h.policy;
  return {
    xml_schema: h.xmlSchema,
    org_name: h.orgName,
    org_email: h.orgEmail,
    org_extra_contact_info: h.orgExtraContactInfo,
    report_id: h.reportId,
    period_begin: epochSeconds(h.begin),
    period_end: epochSeconds(h.end),
    errors: JSON.stringify(h.errors),
    generator: h.generator,
    policy_domain: p.domain,
    policy_adkim: p.adkim,
    policy_aspf: p.aspf,
    policy_p: p.p,
    policy_sp: p.sp,
    policy_np: p.np,
    policy_pct: p.pct,
    policy_fo: p.fo,
    policy_testing: p.testing,
    policy_discovery_method: p.discoveryMethod,
    origin_input: origin.input,
    origin_member: origin.member,
    mail_auth: mailAuthValue(origin),
    received_at: receivedAt,
    key_org: keyText(h.orgName),
    key_report_id: keyText(h.reportId),
    key_domain: keyText(p.domain),
  };
}

/** appends the record's values to `out`, in RECORD_COLUMNS order */
function pushRecordValues(out: SqlValue[], reportId: number, r: AggregateRecord, rollup: ReportRollup): void {
  const json = { overrideReasons: jsonArray(r.overrideReasons), dkim: jsonArray(r.dkim), spf: jsonArray(r.spf) };
  out.push(
    reportId,
    r.ordinal,
    r.sourceIp,
    r.count,
    r.disposition,
    r.dkimEval,
    r.spfEval,
    r.headerFrom,
    r.envelopeFrom,
    r.envelopeTo,
    json.overrideReasons,
    json.dkim,
    json.spf,
    jsonArray(r.problems),
    rollup.add(r, json),
  );
}

/** JSON text of an array; the usual empty one without the serializer */
function jsonArray(items: readonly unknown[]): string {
  return items.length === 0 ? '[]' : JSON.stringify(items);
}

export async function* listAggregates(driver: Driver, filter: ExportFilter): AsyncGenerator<StoredAggregate> {
  for await (const report of streamAggregates(driver, filter)) {
    const records: AggregateRecord[] = [];
    for await (const page of report.records) records.push(...page);
    yield { ...report, records };
  }
}

/** records read per query when a report's records are streamed */
const RECORD_PAGE_ROWS = 2000;

export async function* streamAggregates(driver: Driver, filter: ExportFilter): AsyncGenerator<StreamedAggregate> {
  const rows = keysetPages((after) => {
    const where = new Where();
    if (filter.domain !== undefined) where.add('key_domain = ?', keyText(filter.domain));
    if (filter.from !== undefined) where.add('period_end >= ?', filter.from);
    if (filter.to !== undefined) where.add('period_begin <= ?', filter.to);
    if (after) where.add('(period_begin, id) > (?, ?)', after[0], after[1]);
    return driver.query(`SELECT * FROM aggregate_reports ${where} ORDER BY period_begin, id LIMIT ${PAGE_SIZE}`, where.params);
  }, 'period_begin');
  for await (const row of rows) yield streamedOf(driver, row);
}

/** a stored aggregate_reports row, its records to be read in pages */
function streamedOf(driver: Driver, row: Row): StreamedAggregate {
  const id = int(row, 'id');
  return {
    id,
    header: aggregateHeaderOf(row),
    origin: { input: text(row, 'origin_input'), member: textOrNull(row, 'origin_member'), ...mailAuthOf(row) },
    receivedAt: int(row, 'received_at'),
    records: recordPages(driver, id),
  };
}

/** One stored report by id, its records to be read in pages; null when there is none. */
export async function streamedAggregate(driver: Driver, id: number): Promise<StreamedAggregate | null> {
  const [row] = await driver.query('SELECT * FROM aggregate_reports WHERE id = ?', [id]);
  return row ? streamedOf(driver, row) : null;
}

/** a report's records in ordinal order, `pageRows` per query (keyset on the primary key) */
export async function* recordPages(driver: Driver, reportId: number, pageRows = RECORD_PAGE_ROWS): AsyncGenerator<AggregateRecord[]> {
  let after = -1;
  for (;;) {
    const rows = await driver.query('SELECT * FROM aggregate_records WHERE report_id = ? AND ordinal > ? ORDER BY ordinal LIMIT ?', [reportId, after, pageRows]);
    if (rows.length === 0) return;
    const page = rows.map(aggregateRecordOf);
    yield page;
    if (rows.length < pageRows) return;
    after = page[page.length - 1]!.ordinal;
  }
}

/** the stored aggregate_reports row as an AggregateHeader (also used by the web API's queries) */
export function aggregateHeaderOf(row: Row): AggregateHeader {
  return {
    xmlSchema: text(row, 'xml_schema'),
    orgName: textOrNull(row, 'org_name'),
    orgEmail: textOrNull(row, 'org_email'),
    orgExtraContactInfo: textOrNull(row, 'org_extra_contact_info'),
    reportId: text(row, 'report_id'),
    begin: int(row, 'period_begin'),
    end: int(row, 'period_end'),
    errors: json<string[]>(row, 'errors'),
    generator: textOrNull(row, 'generator'),
    policy: {
      domain: textOrNull(row, 'policy_domain'),
      adkim: textOrNull(row, 'policy_adkim'),
      aspf: textOrNull(row, 'policy_aspf'),
      p: textOrNull(row, 'policy_p'),
      sp: textOrNull(row, 'policy_sp'),
      np: textOrNull(row, 'policy_np'),
      pct: intOrNull(row, 'policy_pct'),
      fo: textOrNull(row, 'policy_fo'),
      testing: textOrNull(row, 'policy_testing'),
      discoveryMethod: textOrNull(row, 'policy_discovery_method'),
    },
  };
}

/** a stored aggregate_records row as an AggregateRecord (also used by the web API's queries) */
export function aggregateRecordOf(row: Row): AggregateRecord {
  return {
    ordinal: int(row, 'ordinal'),
    sourceIp: textOrNull(row, 'source_ip'),
    count: int(row, 'message_count'),
    disposition: textOrNull(row, 'disposition'),
    dkimEval: textOrNull(row, 'dkim_eval'),
    spfEval: textOrNull(row, 'spf_eval'),
    overrideReasons: json(row, 'override_reasons'),
    headerFrom: textOrNull(row, 'header_from'),
    envelopeFrom: textOrNull(row, 'envelope_from'),
    envelopeTo: textOrNull(row, 'envelope_to'),
    dkim: json(row, 'dkim'),
    spf: json(row, 'spf'),
    problems: json(row, 'problems'),
  };
}
