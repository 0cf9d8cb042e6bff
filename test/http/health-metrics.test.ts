/** /healthz (liveness + database) and /metrics (Prometheus text exposition). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebFixture, type WebFixture } from './web-fixture.ts';

describe('health and metrics', () => {
  let web: WebFixture;
  beforeAll(async () => {
    web = await startWebFixture();
  });
  afterAll(() => web?.close());

  it('reports live with a working database', async () => {
    const r = await web.client().get('/healthz');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('exposes stored and quarantined counts and a request latency histogram', async () => {
    const api = web.client();
    for (let i = 0; i < 3; i++) await api.get('/api/reports?limit=2');
    await api.get('/api/reports?limit=oops');
    const r = await api.get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const counts = await web.db.reports.counts();
    const text = r.text;
    expect(text).toContain(`dmarc_lens_reports_stored{type="aggregate"} ${counts.aggregate}`);
    expect(text).toContain(`dmarc_lens_reports_stored{type="failure"} ${counts.failure}`);
    expect(text).toContain(`dmarc_lens_reports_stored{type="tls"} ${counts.tls}`);
    expect(text).toContain(`dmarc_lens_quarantined ${counts.quarantine}`);
    expect(text).toContain(`dmarc_lens_records_stored ${counts.records}`);
    expect(text).toMatch(/^dmarc_lens_poll_errors_total\{kind="store"\} 0$/m);
    expect(text).toContain('# TYPE dmarc_lens_http_request_duration_seconds histogram');
    expect(text).toMatch(/^dmarc_lens_http_request_duration_seconds_count\{route="\/api\/reports",method="GET",status="2xx"\} 3$/m);
    expect(text).toMatch(/^dmarc_lens_http_request_duration_seconds_count\{route="\/api\/reports",method="GET",status="4xx"\} 1$/m);
    expect(text).toMatch(/^dmarc_lens_http_request_duration_seconds_bucket\{route="\/api\/reports",method="GET",status="2xx",le="\+Inf"\} 3$/m);
    // every sample line is "name{labels} value"
    for (const line of text.trim().split('\n').filter((l) => !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
  });

  it('reports the database as down when it is', async () => {
    const broken = await startWebFixture({ samples: false });
    await broken.db.driver.close();
    const r = await broken.client().get('/healthz');
    expect(r.status).toBe(503);
    expect(r.json()).toEqual({ status: 'error', database: 'unreachable' });
    const m = await broken.client().get('/metrics');
    expect(m.text).toContain('dmarc_lens_up 0');
    await broken.close().catch(() => {});
  });
});
