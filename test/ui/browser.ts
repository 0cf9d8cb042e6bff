/**
 * Debian's Chromium driven by playwright-core. When /usr/bin/chromium is missing the browser suites are skipped
 * with a loud warning — or fail when CI=true, so CI never passes without having run them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
export { buildTestClient } from '../helpers/test-client.ts';

export const CHROMIUM = process.env.DMARC_LENS_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** registers a skipped (or, with CI=true, failing) test in place of a browser suite that cannot run */
export function describeNoBrowser(suite: string): void {
  const lines = [
    `SKIPPED: the browser tests "${suite}" — no Chromium at ${CHROMIUM}.`,
    'Install it with: apt-get install -y chromium   (or set DMARC_LENS_CHROMIUM to a Chromium binary).',
    'With CI=true this is a test failure.',
  ];
  const banner = '!'.repeat(100);
  console.warn(`\n${banner}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${banner}\n`);
  describe(`browser (${suite})`, () => {
    if (process.env.CI === 'true') it('has Chromium to run against (required when CI=true)', () => { throw new Error(lines.join('\n')); });
    else it.skip('needs Chromium (see the warning above)', () => {});
  });
}

export interface PageWatch {
  errors: string[];
  cspViolations: string[];
  dialogs: string[];
}

/** a page that records script errors, CSP violations and dialogs (any of them fails the tests that check) */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; watch: PageWatch }> {
  const page = await context.newPage();
  const watch: PageWatch = { errors: [], cspViolations: [], dialogs: [] };
  page.on('pageerror', (e) => watch.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) watch.cspViolations.push(m.text());
    else if (m.type() === 'error') watch.errors.push(m.text());
  });
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, watch };
}

/** opens a hash route and waits until the view has drawn (body[data-ready="1"] with that view) */
export async function openView(page: Page, base: string, hash: string): Promise<void> {
  const view = hash.replace(/^#\/?/, '').split('?')[0] || 'overview';
  // a fresh load each time (a hash-only change would keep the previous view's "ready" flag for a moment)
  if (page.url() !== 'about:blank') await page.goto('about:blank');
  await page.goto(`${base}/${hash}`);
  await waitForView(page, view);
}

export async function waitForView(page: Page, view: string): Promise<void> {
  await page.waitForFunction((v) => document.body.dataset.ready === '1' && document.body.dataset.view === v, view, { timeout: 15_000 });
}

/** runs `action` (a click that changes the route) and waits until the view it leads to has been drawn */
export async function andWaitForRender(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = Number((await page.evaluate(() => document.body.dataset.render)) ?? 0);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.render) > n && document.body.dataset.ready === '1', before, { timeout: 15_000 });
}

/** painted (non-transparent) pixels of every canvas on the page, by element id of its card */
export async function canvasInk(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    document.querySelectorAll('canvas').forEach((c, i) => {
      const card = c.closest('figure');
      const ctx = c.getContext('2d');
      if (!ctx || c.width === 0 || c.height === 0) return;
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let p = 3; p < data.length; p += 4) if (data[p]! > 0) n++;
      out[card?.id || `canvas-${i}`] = n;
    });
    return out;
  });
}

/** the text of each cell of a table's body, by data-col */
export async function tableCells(page: Page, selector: string, col: string): Promise<string[]> {
  return page.$$eval(`${selector} tbody td[data-col="${col}"]`, (tds) => tds.map((td) => (td.textContent ?? '').trim()));
}

/** clicks a CSV link and returns the downloaded text */
export async function downloadCsv(page: Page, linkSelector: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(linkSelector)]);
  const path = await download.path();
  return readFileSync(path, 'utf8');
}

/** clicks the n-th bar (category) of the chart in the card with this id, as a user would */
export async function clickBar(page: Page, cardId: string, index: number): Promise<void> {
  const canvas = page.locator(`#${cardId} canvas`);
  const points = JSON.parse((await canvas.getAttribute('data-points')) ?? '[]') as [number, number][];
  const p = points[index];
  if (!p || p[0] < 0) throw new Error(`#${cardId} has no drawn bar ${index} (${points.length} categories)`);
  await canvas.click({ position: { x: p[0], y: p[1] } });
}
