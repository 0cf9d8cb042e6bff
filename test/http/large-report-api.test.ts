/**
 * A report larger than the detail shows: the detail carries the first records and the totals of all of them;
 * the records CSV, the XML and the JSON downloads (written page by page) carry every record, as the whole
 * report in memory would give them.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAggregateXml, syntheticRecords, syntheticTotals } from '../../bench/synthetic-aggregate.ts';
import { aggregateReportJson } from '../../server/export/shapes.ts';
import { DETAIL_RECORDS } from '../../server/http/routes/reports-routes.ts';
import { bufferSource } from '../../server/ingest/input-sources.ts';
import { DEFAULT_LIMITS } from '../../server/ingest/limits.ts';
import { ingestInput } from '../../server/ingest/pipeline.ts';
import type { StoredAggregate } from '../../server/store/report-store.ts';
import { startWebFixture, type WebFixture } from './web-fixture.ts';

const big = { seed: 11, records: 2_345, reportId: 'large-one' };

describe('a report with more records than the detail shows', () => {
  let web: WebFixture;
  let stored: StoredAggregate;
  beforeAll(async () => {
    web = await startWebFixture({ samples: false });
    const events = await ingestInput(bufferSource('large.xml', Buffer.from(generateAggregateXml(big))), { store: web.db.reports, limits: DEFAULT_LIMITS });
    expect(events.map((e) => e.outcome)).toEqual(['stored']);
    for await (const r of web.db.reports.listAggregates({})) stored = r;
  });
  afterAll(() => web?.close());

  it('shows the first records and the totals of all', async () => {
    const detail = (await web.client().get(`/api/reports/${stored.id}`)).json();
    expect(detail.records).toHaveLength(DETAIL_RECORDS);
    expect(detail.records.map((r: { source_ip_address: string }) => r.source_ip_address)).toEqual(stored.records.slice(0, DETAIL_RECORDS).map((r) => r.sourceIp));
    expect(detail.recordCount).toBe(big.records);
    expect(detail.messageCount).toBe(syntheticTotals(big).messages);
    let pass = 0;
    for (const r of syntheticRecords(big)) if (r.dkimEval === 'pass' || r.spfEval === 'pass') pass += r.count;
    expect(detail.dmarcPassMessages).toBe(pass);
  });

  it('downloads every record as CSV, XML and JSON', async () => {
    const api = web.client();
    const csv = await api.get(`/api/reports/${stored.id}/records.csv`);
    expect(csv.status).toBe(200);
    expect(csv.text.trimEnd().split('\r\n')).toHaveLength(big.records + 1);

    const xml = await api.get(`/api/reports/${stored.id}/xml`);
    const doc = new XMLParser({ isArray: (name) => name === 'record', parseTagValue: false }).parse(xml.text);
    expect(doc.feedback.record.map((r: { row: { count: string } }) => Number(r.row.count))).toEqual(stored.records.map((r) => r.count));

    const json = await api.get(`/api/reports/${stored.id}/json`);
    // byte for byte what the whole report in memory gives, pretty-printed
    const { mailAuth: _unused, ...origin } = stored.origin;
    expect(json.text).toBe(JSON.stringify(aggregateReportJson({ ...stored, origin }), null, 2) + '\n');
  });
});
