/**
 * The report lists in Chromium, on the demo data: Reports (with detail), Failure reports, TLS reports,
 * Quarantine and Domains — charts drawn, drill-down by clicking a bar, filters in the URL, CSV = table.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebChecker } from '../../server/http/web-checker.ts';
import { startFakeDns, txt, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy, ZONE } from '../fixtures/dns/zone.ts';
import { csvRows, startWebFixture, type WebFixture } from '../http/web-fixture.ts';
import {
  andWaitForRender, buildTestClient, canvasInk, clickBar, describeNoBrowser, downloadCsv, hasChromium, launchBrowser, openView, tableCells, waitForView,
  watchedPage, type PageWatch,
} from './browser.ts';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

if (!hasChromium) describeNoBrowser('report views');
else
  describe('report views in Chromium', () => {
    let client: { dir: string; remove(): void };
    let dns: FakeDns;
    let web: WebFixture;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let watch: PageWatch;

    beforeAll(async () => {
      [client, dns] = await Promise.all([buildTestClient(), startFakeDns({ ...ZONE, '_dmarc.example.com': [txt('v=DMARC1; p=none')], 'example.com': [txt('v=spf1 +all')] })]);
      web = await startWebFixture({ clientDir: client.dir, checker: createWebChecker({ servers: [dns.address], timeoutMs: 800, fetchPolicy: fakeFetchPolicy }) });
      browser = await launchBrowser();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      ({ page, watch } = await watchedPage(context));
    });
    afterAll(async () => {
      await browser?.close();
      await web?.close();
      await dns?.stop();
      client?.remove();
    });

    const api = async (path: string) => (await web.client().get(path)).json();
    const hashParams = () => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');

    it('Reports: draws the reporter chart, drills down by clicking a bar, and the CSV equals the table', async () => {
      await openView(page, web.url, '#/reports');
      const chart = (await api('/api/reports/chart')).byReporter as { org: string; messages: number }[];
      expect((await canvasInk(page))['chart-reporters']).toBeGreaterThan(2000);
      const label = await page.locator('#chart-reporters canvas').getAttribute('aria-label');
      expect(label).toContain(`${chart[0]!.org}: ${chart[0]!.messages}`);
      const total = (await api('/api/reports?limit=1')).total;
      await expect(page.locator('section.card h3').filter({ hasText: 'Aggregate reports' }).textContent()).resolves.toBe(`Aggregate reports (${total})`);
      await page.screenshot({ path: `${SHOTS}reports.png` });

      await andWaitForRender(page, () => clickBar(page, 'chart-reporters', 0));
      expect(hashParams().get('org')).toBe(chart[0]!.org);
      const orgs = await tableCells(page, '#reports-table', 'org_name');
      const expected = (await api(`/api/reports?limit=1000&org=${encodeURIComponent(chart[0]!.org)}`)).rows.length;
      expect(orgs.length).toBe(expected);
      expect(new Set(orgs)).toEqual(new Set([chart[0]!.org]));
      await expect(page.locator('.chip').first().textContent()).resolves.toContain(chart[0]!.org);

      const csv = await downloadCsv(page, 'a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.length).toBe(orgs.length);
      const ids = lines.map((l) => l[header!.indexOf('report_id')]);
      const shown = await page.$$eval('#reports-table tbody td[data-col="report_id"] span', (s) => s.map((e) => e.getAttribute('title')));
      expect(ids).toEqual(shown);
    });

    it('Reports: the domain filter and the search change the rows, and stay in the URL', async () => {
      await openView(page, web.url, '#/reports');
      const before = (await tableCells(page, '#reports-table', 'domain')).length;
      await page.selectOption('#filter-domain', 'example.com');
      await andWaitForRender(page, () => page.click('#filters button[type=submit]'));
      expect(hashParams().get('domain')).toBe('example.com');
      const domains = await tableCells(page, '#reports-table', 'domain');
      expect(domains.length).toBeLessThan(before);
      expect(domains.length).toBe((await api('/api/reports?domain=example.com&limit=1000')).rows.length);
      expect(new Set(domains)).toEqual(new Set(['example.com']));
      await page.fill('#report-q', 'fred');
      await andWaitForRender(page, () => page.press('#report-q', 'Enter'));
      expect(hashParams().get('q')).toBe('fred');
      expect(hashParams().get('domain')).toBe('example.com');
      expect(await tableCells(page, '#reports-table', 'org_name')).toEqual(['fred.com']);
      // a shared link opens the same view
      const again = await context.newPage();
      await openView(again, web.url, new URL(page.url()).hash);
      expect(await tableCells(again, '#reports-table', 'org_name')).toEqual(['fred.com']);
      await again.close();
    });

    it('Report detail: metadata, every record, downloads (records CSV = the table)', async () => {
      await openView(page, web.url, '#/reports?q=fred');
      await andWaitForRender(page, () => page.click('#reports-table tbody tr'));
      const id = hashParams().get('id');
      const detail = await api(`/api/reports/${id}`);
      const ips = await tableCells(page, '#records-table', 'source_ip_address');
      expect(ips.length).toBe(detail.records.length);
      expect(ips).toEqual(detail.records.map((r: any) => r.source_ip_address));
      await expect(page.locator('dl.facts').first().textContent()).resolves.toContain('fred.com');
      await page.screenshot({ path: `${SHOTS}report-detail.png` });
      const csv = await downloadCsv(page, 'section.card:has(#records-table) a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.map((l) => l[header!.indexOf('source_ip_address')])).toEqual(ips);
      const counts = await tableCells(page, '#records-table', 'count');
      expect(lines.map((l) => Number(l[header!.indexOf('count')]).toLocaleString('en-US'))).toEqual(counts);
      const [xml] = await Promise.all([page.waitForEvent('download'), page.click('a:text("⤓ XML")')]);
      expect(readFileSync(await xml.path(), 'utf8')).toMatch(/<feedback[ >]/);
    });

    it('Failure reports: a click on a day shows that day; the CSV equals the table', async () => {
      await openView(page, web.url, '#/failures');
      expect((await canvasInk(page))['chart-failures']).toBeGreaterThan(1000);
      const days = (await api('/api/failures/chart')).byDay as { day: string; reports: number }[];
      const all = (await tableCells(page, '#failures-table', 'reported_domain')).length;
      expect(all).toBe(days.reduce((n, d) => n + d.reports, 0));
      await page.screenshot({ path: `${SHOTS}failures.png` });
      await andWaitForRender(page, () => clickBar(page, 'chart-failures', 0));
      expect(hashParams().get('from')).toBe(days[0]!.day);
      expect(hashParams().get('to')).toBe(days[0]!.day);
      expect((await tableCells(page, '#failures-table', 'reported_domain')).length).toBe(days[0]!.reports);
      const csv = await downloadCsv(page, 'a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.length).toBe(days[0]!.reports);
      expect(lines.map((l) => l[header!.indexOf('source_ip_address')] || '—')).toEqual(await tableCells(page, '#failures-table', 'source_ip_address'));
      await andWaitForRender(page, () => page.click('#failures-table tbody tr'));
      await expect(page.locator('main').textContent()).resolves.toContain('Original message headers');
    });

    it('TLS reports: sessions per domain; a click on a bar filters the table to that domain', async () => {
      await openView(page, web.url, '#/tls');
      expect((await canvasInk(page))['chart-tls']).toBeGreaterThan(1000);
      const byDomain = (await api('/api/tls/chart')).byDomain as { domain: string; successful: number; failed: number }[];
      const label = await page.locator('#chart-tls canvas').getAttribute('aria-label');
      expect(label).toContain(`${byDomain[0]!.domain}: ${byDomain[0]!.successful} successful, ${byDomain[0]!.failed} failed`);
      await page.screenshot({ path: `${SHOTS}tls.png` });
      await andWaitForRender(page, () => clickBar(page, 'chart-tls', 0));
      expect(hashParams().get('domain')).toBe(byDomain[0]!.domain);
      const domains = await tableCells(page, '#tls-table', 'policy_domain');
      expect(domains).toContain(byDomain[0]!.domain);
      const ok = (await tableCells(page, '#tls-table', 'successful_session_count')).map((s) => Number(s.replace(/,/g, '')));
      const csv = await downloadCsv(page, 'a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.map((l) => Number(l[header!.indexOf('successful_session_count')]))).toEqual(ok);
    });

    it('Quarantine: reasons chart drill-down, download of the kept bytes, reprocess', async () => {
      await openView(page, web.url, '#/quarantine');
      const reasons = (await api('/api/quarantine/chart')).byReason as { reason: string; inputs: number }[];
      expect((await canvasInk(page))['chart-reasons']).toBeGreaterThan(1000);
      await page.screenshot({ path: `${SHOTS}quarantine.png` });
      await andWaitForRender(page, () => clickBar(page, 'chart-reasons', 0));
      expect(hashParams().get('reason')).toBe(reasons[0]!.reason);
      const shown = await tableCells(page, '#quarantine-table', 'reason');
      expect(shown).toEqual(Array(reasons[0]!.inputs).fill(reasons[0]!.reason));
      const rows = (await api(`/api/quarantine?reason=${reasons[0]!.reason}`)).rows;
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#quarantine-table tbody tr:first-child a:text("Download")')]);
      expect(createHash('sha256').update(readFileSync(await download.path())).digest('hex')).toBe(rows[0].sha256);
      await page.click('#quarantine-table tbody tr:first-child button:text("Reprocess")');
      await page.waitForFunction(() => !document.querySelector('#quarantine-table tbody tr:first-child button')?.textContent?.includes('…'));
      expect(await page.locator('#quarantine-table tbody tr:first-child button').textContent()).toBe('Still unreadable');
    });

    it('Domains: the DNS check panel with findings and fix, "checked … ago", and re-check', async () => {
      await openView(page, web.url, '#/domains?domain=example.com');
      const panel = page.locator('#check-panel');
      await expect(panel.locator('.finding.error').count()).resolves.toBeGreaterThan(0);
      await expect(page.locator('#checked-ago').textContent()).resolves.toMatch(/^checked (just now|\d+ min ago)/);
      await expect(panel.textContent()).resolves.toContain('v=DMARC1; p=none');
      await expect(panel.locator('.fix').count()).resolves.toBeGreaterThan(0);
      await page.screenshot({ path: `${SHOTS}domains.png` });
      const before = dns.queries.length;
      await andWaitForRender(page, () => page.click('#recheck'));
      expect(dns.queries.length).toBeGreaterThan(before);
      await expect(page.locator('#checked-ago').textContent()).resolves.toMatch(/^checked just now/);
      // the list beside the panel shows the newest check
      await expect(page.locator('.domain-list li.current .badge').textContent()).resolves.toMatch(/error/);
    });

    it('is usable on a phone: no horizontal page scroll, navigation reachable', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const p = await phone.newPage();
      await openView(p, web.url, '#/reports');
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await expect(p.locator('nav.sidebar a:text("Quarantine")').isVisible()).resolves.toBe(true);
      await p.screenshot({ path: `${SHOTS}phone-reports.png` });
      await phone.close();
    });

    it('ran without script errors or Content-Security-Policy violations', () => {
      expect(watch.cspViolations).toEqual([]);
      expect(watch.errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
      expect(watch.dialogs).toEqual([]);
    });
  });
