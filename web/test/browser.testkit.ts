/**
 * Browser-test support: Debian's chromium driven by playwright-core (no browser download), axe-core injected from
 * its npm package, a screenshot per test under test-results/.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CERTHUB_CHROMIUM ?? '/usr/bin/chromium';
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function newPage(browser: Browser, opts: { width?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: opts.width ?? 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/Oslo',
  });
  const page = await context.newPage();
  // Every page collects what the Content-Security-Policy blocked: the console line Chromium prints for each, and
  // the securitypolicyviolation events (an init script runs outside the page's CSP).
  const blocked: string[] = [];
  violations.set(page, blocked);
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) blocked.push(`console: ${msg.text()}`);
  });
  await page.exposeFunction('__certhubCspViolation', (text: string) => blocked.push(`event: ${text}`));
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    window.__certhubCspViolation(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`);
  return { context, page };
}

const violations = new WeakMap<Page, string[]>();

/** What the page's Content-Security-Policy blocked so far (pages from newPage only). */
export function cspViolations(page: Page): string[] {
  return [...(violations.get(page) ?? [])];
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Page code runs in the browser: given as text, so this Node-side module needs no DOM types.
  const hasAxe = await page.evaluate<boolean>("typeof window.axe !== 'undefined'");
  // Evaluated through the DevTools protocol, which the page's CSP does not cover (a <script> tag it would block).
  if (!hasAxe) await page.evaluate(axeSource);
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
  const violations = await page.evaluate<AxeViolation[]>(
    `window.axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(tags)} } }).then((r) =>
       r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  );
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
