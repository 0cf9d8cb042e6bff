/**
 * In Chromium: logging in and out when the server needs a login, and reports full of script payloads staying
 * inert text in every view (nothing runs, no element is injected, the payload is shown as written).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAnalytics } from '../../server/http/load-analytics.ts';
import { createWebChecker } from '../../server/http/web-checker.ts';
import { hashPassword } from '../../server/http/auth/password-hash.ts';
import { saveWebUser } from '../../server/store/web-users.ts';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns.ts';
import { fakeFetchPolicy } from '../fixtures/dns/zone.ts';
import { startWebFixture, type WebFixture } from '../http/web-fixture.ts';
import { andWaitForRender, buildTestClient, describeNoBrowser, hasChromium, launchBrowser, openView, waitForView, watchedPage, type PageWatch } from './browser.ts';
import { cachePayloadPtrs, EVIL_DOMAIN, ingestPayloads, PAYLOADS } from './xss-payloads.ts';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

if (!hasChromium) describeNoBrowser('login and XSS');
else
  describe('login and XSS in Chromium', () => {
    let client: { dir: string; remove(): void };
    let browser: Browser;
    beforeAll(async () => {
      [client, browser] = await Promise.all([buildTestClient(), launchBrowser()]);
    });
    afterAll(async () => {
      await browser?.close();
      client?.remove();
    });

    describe('login required', () => {
      let web: WebFixture;
      beforeAll(async () => {
        web = await startWebFixture({ clientDir: client.dir, auth: { required: true } });
        await saveWebUser(web.db.driver, 'admin', await hashPassword('a long admin password'), Math.floor(Date.now() / 1000));
      });
      afterAll(() => web?.close());

      it('shows the login form, refuses a wrong password, logs in and out', async () => {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const { page, watch } = await watchedPage(context);
        await page.goto(`${web.url}/#/reports`);
        await waitForView(page, 'login');
        await expect(page.locator('#login-form').isVisible()).resolves.toBe(true);
        await page.screenshot({ path: `${SHOTS}login.png` });

        await page.fill('#login-user', 'admin');
        await page.fill('#login-password', 'not the password');
        await page.click('#login-form button[type=submit]');
        await page.waitForSelector('#login-error:not([hidden])');
        await expect(page.locator('#login-error').textContent()).resolves.toBe('wrong user name or password');

        await page.fill('#login-password', 'a long admin password');
        await page.click('#login-form button[type=submit]');
        await waitForView(page, 'reports');
        await expect(page.locator('.topbar .user').textContent()).resolves.toContain('admin');
        expect(await page.locator('#reports-table tbody tr').count()).toBeGreaterThan(10);
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === 'dl_session')!;
        expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
        expect(await page.evaluate(() => document.cookie)).not.toContain('dl_session');

        await page.click('#logout');
        await waitForView(page, 'login');
        const status = await page.evaluate(async () => (await fetch('/api/meta')).status);
        expect(status).toBe(401);
        expect(watch.cspViolations).toEqual([]);
        expect(watch.errors.filter((e) => !/status of (401|503)/.test(e))).toEqual([]);
        await context.close();
      });
    });

    describe('report data is text, never markup', () => {
      let web: WebFixture;
      let page: Page;
      let watch: PageWatch;
      let dns: FakeDns;
      beforeAll(async () => {
        dns = await startFakeDns({});
        web = await startWebFixture({
          clientDir: client.dir,
          samples: false,
          analytics: (db) => webAnalytics(db),
          checker: createWebChecker({ servers: [dns.address], timeoutMs: 300, fetchPolicy: fakeFetchPolicy }),
        });
        await cachePayloadPtrs(web.db.driver);
        const outcomes = await ingestPayloads(web.db.reports);
        expect(outcomes).toEqual(['aggregate:stored', 'failure:stored', 'tls:stored', 'aggregate:quarantined:bad-xml']);
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        ({ page, watch } = await watchedPage(context));
        // a payload that ran would set this; the page starts without it
        await context.addInitScript(() => delete (window as unknown as { __xss?: unknown }).__xss);
      });
      afterAll(async () => {
        await web?.close();
        await dns?.stop();
      });

      async function expectInert(where: string, shown: string[] = []): Promise<void> {
        const state = await page.evaluate(() => ({
          xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
          scripts: Array.from(document.querySelectorAll('script')).map((s) => s.getAttribute('src')),
          injected: document.querySelectorAll('img, svg, iframe, object, embed, [onerror], [onload], [srcdoc]').length,
          links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href') ?? '').filter((h) => !h.startsWith('#') && !h.startsWith('/')),
          text: document.body.innerText,
        }));
        expect({ where, xss: state.xss, scripts: state.scripts, injected: state.injected, links: state.links }).toEqual({ where, xss: null, scripts: ['/assets/app.js'], injected: 0, links: [] });
        for (const s of shown) expect(state.text, `${where} shows ${s}`).toContain(s);
        expect(watch.dialogs).toEqual([]);
      }

      it('keeps the payloads inert in the report list, the detail and its downloads', async () => {
        await openView(page, web.url, '#/reports');
        await expectInert('reports', [PAYLOADS[0]!, EVIL_DOMAIN]);
        await page.screenshot({ path: `${SHOTS}xss-reports.png` });
        await andWaitForRender(page, () => page.click('#reports-table tbody tr'));
        await expectInert('report detail', [PAYLOADS[0]!, PAYLOADS[1]!, PAYLOADS[4]!]);
        // the select offers the payload domain as an option's text; choosing it filters without harm
        await openView(page, web.url, '#/reports');
        await page.selectOption('#filter-domain', EVIL_DOMAIN.toLowerCase());
        await andWaitForRender(page, () => page.click('#filters button[type=submit]'));
        await expectInert('reports filtered by the payload domain', [PAYLOADS[0]!]);
        expect(await page.locator('#reports-table tbody tr').count()).toBe(1);
      });

      it('keeps them inert in failure reports, TLS reports, quarantine and domains', async () => {
        await openView(page, web.url, '#/failures');
        await expectInert('failures', [EVIL_DOMAIN]);
        await andWaitForRender(page, () => page.click('#failures-table tbody tr'));
        await expectInert('failure detail', [PAYLOADS[0]!, PAYLOADS[2]!]);
        await openView(page, web.url, '#/tls');
        await expectInert('tls', [PAYLOADS[0]!]);
        await andWaitForRender(page, () => page.click('#tls-table tbody tr'));
        await expectInert('tls detail', [PAYLOADS[3]!, PAYLOADS[1]!]);
        await openView(page, web.url, '#/quarantine');
        await expectInert('quarantine', [PAYLOADS[2]!, 'onerror=']);
        await openView(page, web.url, '#/domains');
        await expectInert('domains', [EVIL_DOMAIN.toLowerCase()]);
      });

      it('keeps them inert in the overview, sources (PTR names, AS names) and DKIM selectors', async () => {
        await openView(page, web.url, '#/overview');
        await expectInert('overview', [EVIL_DOMAIN.toLowerCase()]);
        await openView(page, web.url, `#/overview?domain=${encodeURIComponent(EVIL_DOMAIN.toLowerCase())}`);
        await expectInert('overview of the payload domain');
        await openView(page, web.url, '#/sources');
        await expectInert('sources', [PAYLOADS[1]!, PAYLOADS[3]!]);
        await page.screenshot({ path: `${SHOTS}xss-sources.png` });
        await openView(page, web.url, '#/selectors');
        await expectInert('selectors', [PAYLOADS[0]!]);
        await openView(page, web.url, `#/selectors?selector=${encodeURIComponent(PAYLOADS[0]!)}`);
        await expectInert('selector from the URL', [`selector ${PAYLOADS[0]}`]);
      });

      it('keeps payloads in the URL inert too (a malicious shared link)', async () => {
        await openView(page, web.url, `#/reports?q=${encodeURIComponent(PAYLOADS[1]!)}`);
        await expectInert('search from the URL', [`search: ${PAYLOADS[1]}`]);
        await openView(page, web.url, `#/domains?domain=${encodeURIComponent(PAYLOADS[0]!)}`);
        await expectInert('domain from the URL');
        await openView(page, web.url, `#/report?id=${encodeURIComponent('1"><img src=x onerror=alert(1)>')}`);
        await expectInert('bad id from the URL');
        expect(watch.cspViolations).toEqual([]);
        expect(watch.errors.filter((e) => !/status of (400|404|503)/.test(e))).toEqual([]);
      });
    });
  });
