/** The aggregate report endpoints: search, paging, CSV = JSON, detail, XML / JSON / records CSV downloads. */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webDialects } from './dialects.ts';
import { allRows, asCsvCells, csvRows, startWebFixture, type TestClient, type WebFixture } from './web-fixture.ts';

const { dialects, cleanup } = await webDialects('reports API');
afterAll(cleanup);

for (const dialect of dialects) describe(`reports API (${dialect.name})`, () => {
  let web: WebFixture;
  let api: TestClient;
  beforeAll(async () => {
    web = await startWebFixture({ dbUrl: await dialect.newUrl() });
    api = web.client();
  });
  afterAll(() => web?.close());

  it('lists every stored aggregate report, newest first, across pages', async () => {
    const counts = await web.db.reports.counts();
    const rows = await allRows(api, '/api/reports', {}, 7);
    expect(rows.length).toBe(counts.aggregate);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    const begins = rows.map((r) => String(r.begin_date));
    expect([...begins].sort().reverse()).toEqual(begins);
    const first = (await api.get('/api/reports?limit=5')).json();
    expect(first.total).toBe(counts.aggregate);
    expect(first.columns[0]).toBe('id');
  });

  it('filters by domain, date range, reporter and free text', async () => {
    const byDomain = await allRows(api, '/api/reports', { domain: 'Example.COM' });
    expect(byDomain.length).toBeGreaterThan(3);
    expect(byDomain.every((r) => String(r.domain).toLowerCase() === 'example.com')).toBe(true);

    const ranged = await allRows(api, '/api/reports', { from: '2024-01-01', to: '2024-12-31' });
    expect(ranged.length).toBeGreaterThan(0);
    for (const r of ranged) {
      expect(String(r.end_date) >= '2024-01-01').toBe(true);
      expect(String(r.begin_date) <= '2024-12-31T23:59:59Z').toBe(true);
    }
    const all = await allRows(api, '/api/reports');
    expect(ranged.length).toBeLessThan(all.length);

    const google = await allRows(api, '/api/reports', { org: 'GOOGLE.COM' });
    expect(google.length).toBeGreaterThan(1);
    expect(google.every((r) => String(r.org_name).toLowerCase() === 'google.com')).toBe(true);

    const someId = String(all[3]!.report_id);
    const found = await allRows(api, '/api/reports', { q: someId.slice(2, 10) });
    expect(found.map((r) => r.id)).toContain(all[3]!.id);
    // LIKE wildcards in the search text are literal
    expect(await allRows(api, '/api/reports', { q: '%' })).toEqual([]);
  });

  it('counts DMARC passes per report from its records', async () => {
    const rows = await allRows(api, '/api/reports', { domain: 'example.com' }, 100);
    for (const row of rows.slice(0, 6)) {
      const detail = (await api.get(`/api/reports/${row.id}`)).json();
      expect(row.dmarc_pass).toBe(detail.dmarcPassMessages);
      expect(row.messages).toBe(detail.messageCount);
      expect(row.records).toBe(detail.recordCount);
      if (detail.records.length === detail.recordCount) {
        // every record shown: the totals are their sums
        expect(detail.dmarcPassMessages).toBe(detail.records.filter((r: any) => r.dmarc_aligned).reduce((n: number, r: any) => n + r.count, 0));
        expect(detail.messageCount).toBe(detail.records.reduce((n: number, r: any) => n + r.count, 0));
      }
    }
  });

  it('serves the same rows as CSV (RFC 4180, CRLF, header always present) with the same filters', async () => {
    for (const params of [{}, { domain: 'example.com' }, { from: '2020-01-01', q: 'google' }, { domain: 'no-such-domain.test' }] as Record<string, string>[]) {
      const json = await allRows(api, '/api/reports', params, 1000);
      const r = await api.get(`/api/reports.csv?${new URLSearchParams(params)}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="dmarc-lens-reports[^"]*\.csv"$/);
      expect(r.text.endsWith('\r\n')).toBe(true);
      const [header, ...lines] = await csvRows(r.text);
      const columns = (await api.get('/api/reports?limit=1')).json().columns;
      expect(header).toEqual(columns);
      expect(lines).toEqual(json.map((row) => asCsvCells(columns, row)));
    }
  });

  it('charts messages per reporter over the same filters as the list', async () => {
    const chart = (await api.get('/api/reports/chart?domain=example.com')).json().byReporter as { org: string; messages: number }[];
    const rows = await allRows(api, '/api/reports', { domain: 'example.com' }, 1000);
    const byOrg = new Map<string, number>();
    for (const r of rows) byOrg.set(String(r.org_name).toLowerCase(), (byOrg.get(String(r.org_name).toLowerCase()) ?? 0) + Number(r.messages));
    for (const c of chart) expect(c.messages).toBe(byOrg.get(c.org.toLowerCase()));
    expect(chart.map((c) => c.messages)).toEqual([...chart.map((c) => c.messages)].sort((a, b) => b - a));
  });

  it('shows one report with its records in the CLI export shape, and its records as CSV', async () => {
    const [row] = await allRows(api, '/api/reports', { q: 'fred.com' });
    const r = await api.get(`/api/reports/${row!.id}`);
    expect(r.status).toBe(200);
    const detail = r.json();
    expect(detail.report.report_metadata.org_name).toBe(row!.org_name);
    expect(detail.records.length).toBe(row!.records);
    expect(detail.records[0]).toHaveProperty('source_ip_address');
    const csv = await api.get(`/api/reports/${row!.id}/records.csv`);
    const [header, ...lines] = await csvRows(csv.text);
    expect(header).toEqual(detail.columns);
    expect(lines).toEqual(detail.records.map((rec: Record<string, unknown>) => asCsvCells(detail.columns, rec)));
  });

  it('offers the report as XML rebuilt from the stored data, which reads back to the same values', async () => {
    const [row] = await allRows(api, '/api/reports', { domain: 'example.com', q: 'google' });
    const detail = (await api.get(`/api/reports/${row!.id}`)).json();
    const r = await api.get(`/api/reports/${row!.id}/xml`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.xml"$/);
    expect(r.text).toContain('reconstructed by dmarc-lens');
    const xml = new XMLParser({ isArray: (name) => ['record', 'dkim', 'spf'].includes(name), parseTagValue: false }).parse(r.text);
    expect(xml.feedback.report_metadata.report_id).toBe(detail.report.report_metadata.report_id);
    expect(xml.feedback.policy_published.domain).toBe(detail.report.policy_published.domain);
    expect(xml.feedback.record.length).toBe(detail.records.length);
    const counts = xml.feedback.record.map((rec: any) => Number(rec.row.count));
    expect(counts).toEqual(detail.records.map((rec: any) => rec.count));
    const json = await api.get(`/api/reports/${row!.id}/json`);
    expect(json.headers.get('content-disposition')).toMatch(/attachment/);
    expect(json.json().records.length).toBe(detail.records.length);
  });

  it('answers bad parameters and unknown ids in the error envelope', async () => {
    const cases: [string, number, string][] = [
      ['/api/reports?from=2024-13-01', 400, 'bad-parameter'],
      ['/api/reports?from=yesterday', 400, 'bad-parameter'],
      ['/api/reports?limit=0', 400, 'bad-parameter'],
      ['/api/reports?limit=100000', 400, 'bad-parameter'],
      ['/api/reports?limit=abc', 400, 'bad-parameter'],
      ['/api/reports?cursor=%27%3B--', 400, 'bad-parameter'],
      ['/api/reports?domian=example.com', 400, 'bad-parameter'],
      ['/api/reports?domain=a&domain=b', 400, 'bad-parameter'],
      ['/api/reports?from=2024-02-01&to=2024-01-01', 400, 'bad-parameter'],
      ['/api/reports.csv?limit=5', 400, 'bad-parameter'],
      ['/api/reports/abc', 400, 'bad-parameter'],
      ['/api/reports/0', 400, 'bad-parameter'],
      ['/api/reports/999999', 404, 'not-found'],
      ['/api/reports/999999/xml', 404, 'not-found'],
      ['/api/no-such-thing', 404, 'not-found'],
    ];
    for (const [path, status, code] of cases) {
      const r = await api.get(path);
      expect({ path, status: r.status }).toEqual({ path, status });
      const body = r.json();
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      expect(body.error.message.length).toBeGreaterThan(3);
    }
    // every problem is named at once
    const many = (await api.get('/api/reports?from=x&limit=-1&what=1')).json().error.message;
    expect(many).toMatch(/from/);
    expect(many).toMatch(/limit/);
    expect(many).toMatch(/what/);
  });
});
