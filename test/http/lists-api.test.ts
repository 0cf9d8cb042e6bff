/** Failure reports, TLS reports and the quarantine: lists, charts, CSV = JSON, details, download and reprocess. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webDialects } from './dialects.ts';
import { allRows, expectCsvEqualsJson as csvEqualsJson, startWebFixture, type TestClient, type WebFixture } from './web-fixture.ts';

const { dialects, cleanup } = await webDialects('failure, TLS and quarantine API');
/** the failure list's columns that `q` searches */
const FAILURE_SEARCHED = [
  'source_ip_address', 'reported_domain', 'original_mail_from', 'original_rcpt_to', 'sample_from', 'sample_to', 'sample_subject',
  'sample_message_id', 'dkim_domain', 'reporter_org', 'reporter_email',
];
afterAll(cleanup);

for (const dialect of dialects) describe(`failure, TLS and quarantine API (${dialect.name})`, () => {
  let web: WebFixture;
  let api: TestClient;
  beforeAll(async () => {
    web = await startWebFixture({ dbUrl: await dialect.newUrl() });
    api = web.client();
    await api.session();
  });
  afterAll(() => web?.close());

  const expectCsvEqualsJson = async (path: string, params: Record<string, string> = {}) => (await csvEqualsJson(api, path, params)).length;

  it('lists failure reports newest first, filters them, and charts them per day', async () => {
    const counts = await web.db.reports.counts();
    const rows = await allRows(api, '/api/failures', {}, 3);
    expect(rows.length).toBe(counts.failure);
    expect(await expectCsvEqualsJson('/api/failures')).toBe(counts.failure);
    const days = (await api.get('/api/failures/chart')).json().byDay as { day: string; reports: number }[];
    expect(days.reduce((n, d) => n + d.reports, 0)).toBe(counts.failure);
    const day = days.find((d) => d.reports > 0)!;
    const sameDay = await allRows(api, '/api/failures', { from: day.day, to: day.day });
    expect(sameDay.length).toBe(day.reports);
    const withDomain = rows.find((r) => r.reported_domain);
    expect(withDomain).toBeDefined();
    const byDomain = await allRows(api, '/api/failures', { domain: String(withDomain!.reported_domain) });
    expect(byDomain.every((r) => String(r.reported_domain).toLowerCase() === String(withDomain!.reported_domain).toLowerCase())).toBe(true);
    await expectCsvEqualsJson('/api/failures', { domain: String(withDomain!.reported_domain) });

    const detail = (await api.get(`/api/failures/${withDomain!.id}`)).json();
    expect(detail.report.reported_domain).toBe(withDomain!.reported_domain);
    expect(detail).toHaveProperty('originalHeaders');
    expect(typeof detail.fields).toBe('object');
    expect((await api.get('/api/failures/424242')).status).toBe(404);
  });

  it('lists TLS reports one row per policy, and charts sessions per policy domain', async () => {
    const counts = await web.db.reports.counts();
    const rows = await allRows(api, '/api/tls', {}, 2);
    expect(new Set(rows.map((r) => r.id)).size).toBe(counts.tls);
    await expectCsvEqualsJson('/api/tls');
    const chart = (await api.get('/api/tls/chart')).json().byDomain as { domain: string; successful: number; failed: number }[];
    const top = chart[0]!;
    const sum = rows.filter((r) => String(r.policy_domain).toLowerCase() === top.domain.toLowerCase()).reduce((n, r) => n + Number(r.successful_session_count), 0);
    expect(top.successful).toBe(sum);
    // drill-down: the domain filter keeps the reports with a policy for it
    const filtered = await allRows(api, '/api/tls', { domain: top.domain });
    expect(filtered.some((r) => r.policy_domain === top.domain)).toBe(true);
    const filteredChart = (await api.get(`/api/tls/chart?domain=${encodeURIComponent(top.domain)}`)).json().byDomain;
    expect(filteredChart).toEqual([top]);
    await expectCsvEqualsJson('/api/tls', { domain: top.domain });

    const detail = (await api.get(`/api/tls/${rows[0]!.id}`)).json();
    expect(detail.report.report_id).toBe(rows[0]!.report_id);
    expect(detail.report.policies.length).toBeGreaterThan(0);
  });

  it('searches failure reports by text (sender, subject, source IP, …), case-insensitively, with LIKE wildcards taken literally', async () => {
    const all = await allRows(api, '/api/failures', {}, 1000);
    const withSubject = all.find((r) => typeof r.sample_subject === 'string' && String(r.sample_subject).length >= 4);
    const withIp = all.find((r) => typeof r.source_ip_address === 'string' && r.source_ip_address !== '');
    expect(withSubject ?? withIp).toBeTruthy();
    for (const [field, row] of [['sample_subject', withSubject], ['source_ip_address', withIp]] as const) {
      if (!row) continue;
      const value = String(row[field]);
      const needle = value.slice(1, Math.min(value.length, 12)).toUpperCase();
      const hits = await allRows(api, '/api/failures', { q: needle });
      expect(hits.some((r) => r.id === row.id), `${field} ${needle}`).toBe(true);
      // every hit has the text in one of the searched fields
      for (const h of hits) expect(FAILURE_SEARCHED.some((c) => String(h[c] ?? '').toLowerCase().includes(needle.toLowerCase())), JSON.stringify(h)).toBe(true);
      const first = (await api.get(`/api/failures?q=${encodeURIComponent(needle)}&limit=1`)).json();
      expect(first.total).toBe(hits.length);
      await expectCsvEqualsJson('/api/failures', { q: needle });
    }
    // wildcards are literal: "%" and "_" match only themselves, not every report
    for (const wild of ['%', '_']) {
      const want = all.filter((r) => FAILURE_SEARCHED.some((c) => String(r[c] ?? '').includes(wild))).length;
      expect((await api.get(`/api/failures?q=${encodeURIComponent(wild)}`)).json().total, wild).toBe(want);
    }
    expect(all.length).toBeGreaterThan(0);
    expect((await api.get(`/api/failures?q=${encodeURIComponent('zz_no_such_text_zz')}`)).json()).toMatchObject({ rows: [], total: 0 });
    expect((await api.get(`/api/failures?q=${'x'.repeat(201)}`)).status).toBe(400);
  });

  it('searches TLS reports by reporter, report id and policy domain', async () => {
    const all = await allRows(api, '/api/tls', {}, 1000);
    const row = all[0]!;
    for (const needle of [String(row.organization_name).slice(0, 6).toUpperCase(), String(row.report_id), String(row.policy_domain)]) {
      const hits = await allRows(api, '/api/tls', { q: needle });
      expect(hits.some((r) => r.id === row.id), needle).toBe(true);
      const n = needle.toLowerCase();
      const reportsHit = new Set(hits.map((h) => h.id));
      // each report found has the text in its reporter, report id or one of its policies' domains / MX patterns
      for (const id of reportsHit) {
        const rowsOf = all.filter((r) => r.id === id);
        expect(rowsOf.some((r) => [r.organization_name, r.report_id, r.policy_domain, r.mx_host_patterns].some((v) => String(v ?? '').toLowerCase().includes(n)))).toBe(true);
      }
      await expectCsvEqualsJson('/api/tls', { q: needle });
    }
    expect((await api.get('/api/tls?q=_')).json().total).toBe(new Set(all.filter((r) => [r.organization_name, r.report_id, r.policy_domain, r.mx_host_patterns].some((v) => String(v ?? '').includes('_'))).map((r) => r.id)).size);
    expect((await api.get(`/api/tls?q=${encodeURIComponent('zz_no_such_text_zz')}`)).json()).toMatchObject({ rows: [], total: 0 });
  });

  it('lists the quarantine with reason, origin and time; its chart counts per reason', async () => {
    const counts = await web.db.reports.counts();
    const rows = await allRows(api, '/api/quarantine', {}, 2);
    expect(rows.length).toBe(counts.quarantine);
    for (const r of rows) {
      expect(typeof r.reason).toBe('string');
      expect(typeof r.input).toBe('string');
      expect(String(r.received_at)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
    await expectCsvEqualsJson('/api/quarantine');
    const reasons = (await api.get('/api/quarantine/chart')).json().byReason as { reason: string; inputs: number }[];
    expect(reasons.reduce((n, r) => n + r.inputs, 0)).toBe(counts.quarantine);
    const only = await allRows(api, '/api/quarantine', { reason: reasons[0]!.reason });
    expect(only.length).toBe(reasons[0]!.inputs);
    expect((await api.get('/api/quarantine?reason=<script>')).status).toBe(400);
  });

  it('downloads the kept bytes of a quarantined input as an attachment', async () => {
    const [row] = await allRows(api, '/api/quarantine');
    const r = await fetch(`${web.url}/api/quarantine/${row!.id}/bytes`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="quarantine-${row!.id}.bin"`);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const bytes = Buffer.from(await r.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(row!.sha256);
    expect((await api.get('/api/quarantine/987654/bytes')).status).toBe(404);
  });

  it('reprocesses one quarantined input (CSRF-protected) and reports the outcome', async () => {
    const [row] = await allRows(api, '/api/quarantine', { unresolved: 'true' });
    expect((await api.post(`/api/quarantine/${row!.id}/reprocess`, {}, { csrf: false })).status).toBe(403);
    const r = await api.post(`/api/quarantine/${row!.id}/reprocess`);
    expect(r.status).toBe(200);
    const out = r.json();
    // the samples' broken files are still broken: the row stays open and no new row appears
    expect(out.resolved + out.stillQuarantined + out.skippedTruncated).toBe(1);
    expect(out.stillQuarantined).toBe(1);
    expect((await web.db.reports.counts()).quarantine).toBe((await allRows(api, '/api/quarantine')).length);
    expect((await api.post('/api/quarantine/987654/reprocess')).status).toBe(404);
  });
});
