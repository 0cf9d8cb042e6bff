/**
 * The analytics views in Chromium, on the demo data: Overview (volume, rates, disposition, per-domain table,
 * readiness), Sources (grouped, classified, approve) and DKIM selectors — charts drawn and labelled with the
 * API's figures, filters and drill-down changing the numbers, CSV downloads equal to the tables.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAnalytics } from '../../server/http/load-analytics.ts';
import { csvRows, startWebFixture, type WebFixture } from '../http/web-fixture.ts';
import {
  andWaitForRender, buildTestClient, canvasInk, clickBar, describeNoBrowser, downloadCsv, hasChromium, launchBrowser, openView, tableCells,
  watchedPage, type PageWatch,
} from './browser.ts';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const num = (s: string) => Number(s.replace(/[^0-9.-]/g, ''));

if (!hasChromium) describeNoBrowser('analytics views');
else
  describe('analytics views in Chromium', () => {
    let client: { dir: string; remove(): void };
    let web: WebFixture;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let watch: PageWatch;

    beforeAll(async () => {
      client = await buildTestClient();
      web = await startWebFixture({
        clientDir: client.dir,
        analytics: (db) => webAnalytics(db),
      });
      browser = await launchBrowser();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      ({ page, watch } = await watchedPage(context));
    });
    afterAll(async () => {
      await browser?.close();
      await web?.close();
      client?.remove();
    });

    const api = async (path: string) => (await web.client().get(path)).json();
    const hashParams = () => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');
    const kpi = async (label: string) => num((await page.locator('.kpi', { hasText: label }).locator('.kpi-value').textContent()) ?? '');

    it('Overview: KPIs and charts carry the API figures; the per-domain table lists every domain', async () => {
      await openView(page, web.url, '#/overview');
      const timeline = (await api('/api/overview/timeline?limit=1000')).rows as { messages: number; dmarc_pass: number }[];
      const total = timeline.reduce((n, r) => n + r.messages, 0);
      expect(total).toBeGreaterThan(1000);
      expect(await kpi('Messages')).toBe(total);
      const ink = await canvasInk(page);
      for (const id of ['chart-volume', 'chart-rates', 'chart-disposition']) expect(ink[id], id).toBeGreaterThan(2000);
      expect(await page.locator('#chart-volume canvas').getAttribute('aria-label')).toContain(`${total.toLocaleString('en-US')} messages`);
      const domains = (await api('/api/overview/domains?limit=1000')).rows as { domain: string; messages: number }[];
      expect(await tableCells(page, '#domains-table', 'domain')).toEqual(domains.map((d) => d.domain));
      expect((await tableCells(page, '#domains-table', 'messages')).map(num)).toEqual(domains.map((d) => d.messages));
      await page.screenshot({ path: `${SHOTS}overview.png` });
    });

    it('Overview: a click on a bar narrows everything to that period; a domain row to that domain', async () => {
      await openView(page, web.url, '#/overview');
      const before = await kpi('Messages');
      const points = JSON.parse((await page.locator('#chart-volume canvas').getAttribute('data-points'))!) as [number, number][];
      const index = points.findIndex((p) => p[0] >= 0);
      await andWaitForRender(page, () => clickBar(page, 'chart-volume', index));
      const from = hashParams().get('from')!;
      const to = hashParams().get('to')!;
      expect(from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const ranged = (await api(`/api/overview/timeline?from=${from}&to=${to}&limit=1000`)).rows as { messages: number }[];
      const after = await kpi('Messages');
      expect(after).toBe(ranged.reduce((n, r) => n + r.messages, 0));
      expect(after).toBeLessThan(before);
      const rows = (await api(`/api/overview/domains?from=${from}&to=${to}`)).rows as { domain: string }[];
      expect(await tableCells(page, '#domains-table', 'domain')).toEqual(rows.map((r) => r.domain));

      await openView(page, web.url, '#/overview');
      await andWaitForRender(page, () => page.click('#domains-table tbody tr:first-child'));
      const domain = hashParams().get('domain')!;
      expect(domain).toBe((await api('/api/overview/domains')).rows[0].domain);
      const one = (await api(`/api/overview/timeline?domain=${domain}&limit=1000`)).rows as { messages: number }[];
      expect(await kpi('Messages')).toBe(one.reduce((n, r) => n + r.messages, 0));
      await expect(page.locator('#readiness .next-step').textContent()).resolves.toMatch(/^Next step: ./);
      await expect(page.locator('#filter-domain').inputValue()).resolves.toBe(domain);
    });

    it('Overview: the domain filter changes the numbers, and the CSV equals the table', async () => {
      await openView(page, web.url, '#/overview');
      const all = await kpi('Messages');
      const second = (await api('/api/overview/domains')).rows[1].domain as string;
      await page.selectOption('#filter-domain', second);
      await andWaitForRender(page, () => page.click('#filters button[type=submit]'));
      expect(await kpi('Messages')).toBeLessThan(all);
      await openView(page, web.url, '#/overview');
      const csv = await downloadCsv(page, 'section:has(#domains-table) a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.map((l) => l[header!.indexOf('domain')])).toEqual(await tableCells(page, '#domains-table', 'domain'));
      expect(lines.map((l) => Number(l[header!.indexOf('messages')]))).toEqual((await tableCells(page, '#domains-table', 'messages')).map(num));
    });

    it('Sources: the verdict chart filters the grouped table; the CSV equals it; approve', async () => {
      await openView(page, web.url, '#/sources');
      const chart = (await api('/api/sources/chart')).byVerdict as { verdict: string; messages: number; sources: number }[];
      expect((await canvasInk(page))['chart-verdicts']).toBeGreaterThan(1000);
      const label = (await page.locator('#chart-verdicts canvas').getAttribute('aria-label'))!;
      for (const v of chart) expect(label).toContain(`: ${v.messages}`);
      await page.screenshot({ path: `${SHOTS}sources.png` });
      // the table shows the 1,000 largest sources (the CSV has all): pick a verdict it shows whole
      const biggest = chart.filter((v) => v.verdict !== 'compliant' && v.sources > 0 && v.sources <= 1000).sort((a, b) => b.messages - a.messages)[0]!;
      const pick = chart.indexOf(biggest);
      await andWaitForRender(page, () => clickBar(page, 'chart-verdicts', pick));
      const verdict = chart[pick]!.verdict;
      expect(hashParams().get('verdict')).toBe(verdict);
      const shown = await page.$$eval('#sources-table tbody tr[data-ip]', (trs) => trs.map((tr) => [tr.getAttribute('data-ip'), tr.getAttribute('data-verdict')]));
      expect(shown.length).toBe(chart[pick]!.sources);
      expect(new Set(shown.map((s) => s[1]))).toEqual(new Set([verdict]));
      // the badge says it in words, not only in colour
      await expect(page.locator('#sources-table tbody tr[data-ip] .badge').first().textContent()).resolves.toMatch(/[A-Za-z]/);
      const csv = await downloadCsv(page, 'a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.length).toBe(shown.length);
      expect(new Set(lines.map((l) => l[header!.indexOf('ip')]))).toEqual(new Set(shown.map((s) => s[0])));
      expect(new Set(lines.map((l) => l[header!.indexOf('verdict')]))).toEqual(new Set([verdict]));

      const many = chart.find((v) => v.sources > 1000);
      if (many) {
        await openView(page, web.url, `#/sources?verdict=${many.verdict}`);
        expect(await page.locator('#sources-table tbody tr[data-ip]').count()).toBe(1000);
        await expect(page.locator('section.card .note').first().textContent()).resolves.toContain(`1,000 largest of ${many.sources.toLocaleString('en-US')}`);
        await openView(page, web.url, `#/sources?verdict=${verdict}`);
      }

      const button = page.locator('#sources-table tbody tr[data-ip] button:text("Approve")').first();
      const ip = await button.locator('xpath=ancestor::tr').getAttribute('data-ip');
      await button.click();
      await page.waitForSelector('#sources-table button:text("Approved ✓")');
      const after = (await api(`/api/sources?q=${encodeURIComponent(ip!)}`)).rows as { ip: string; approved: boolean }[];
      expect(after.filter((r) => r.ip === ip).every((r) => r.approved)).toBe(true);
    });

    it('DKIM selectors: per-selector chart, drill-down to one selector, CSV equals the table', async () => {
      await openView(page, web.url, '#/selectors');
      const rows = (await api('/api/selectors?limit=1000')).rows as { selector: string; messages: number }[];
      expect(rows.length).toBeGreaterThan(0);
      expect((await canvasInk(page))['chart-selectors']).toBeGreaterThan(1000);
      expect((await tableCells(page, '#selectors-table', 'selector')).length).toBe(rows.length);
      await page.screenshot({ path: `${SHOTS}selectors.png` });
      await andWaitForRender(page, () => clickBar(page, 'chart-selectors', 0));
      const selector = hashParams().get('selector')!;
      const top = [...rows].sort((a, b) => b.messages - a.messages)[0]!;
      expect(selector).toBe(top.selector);
      const cells = await tableCells(page, '#selectors-table', 'selector');
      expect(new Set(cells.map((c) => c.toLowerCase()))).toEqual(new Set([selector.toLowerCase()]));
      const csv = await downloadCsv(page, 'a.csv');
      const [header, ...lines] = await csvRows(csv);
      expect(lines.map((l) => l[header!.indexOf('selector')])).toEqual(cells);
      expect(lines.map((l) => Number(l[header!.indexOf('messages')]))).toEqual((await tableCells(page, '#selectors-table', 'messages')).map(num));
    });

    it('Overview on a phone: readable, no sideways scroll', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const p = await phone.newPage();
      await openView(p, web.url, '#/overview');
      expect(await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(1);
      const ink = await canvasInk(p);
      expect(ink['chart-volume']).toBeGreaterThan(1000);
      await p.screenshot({ path: `${SHOTS}phone-overview.png` });
      await phone.close();
    });

    it('ran without script errors or Content-Security-Policy violations', () => {
      expect(watch.cspViolations).toEqual([]);
      expect(watch.errors).toEqual([]);
      expect(watch.dialogs).toEqual([]);
    });
  });
