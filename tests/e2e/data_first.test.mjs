// Data first (issue 20): once usage is loaded the import area folds into a one-line bar, and
// with the demo's six sources the KPIs, the chart and the whole allowances card are on the first
// screen at 1280 x 900, and the whole KPI block at 390 x 844. The two first screens are
// screenshotted (target/e2e/first-screen-1280.png, first-screen-390.png), and axe finds nothing
// serious or critical in either layout.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, assertNoCspViolations, shots } from './harness.mjs';

// Every test fails if a page broke the Content-Security-Policy (styles are set through the CSS
// object model, never as inline style attributes).
afterEach(assertNoCspViolations);

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let stack;
let browser;
before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The element's box, and whether all of it lies inside the viewport. */
async function inViewport(page, selector) {
  return page.locator(selector).first().evaluate((e) => {
    const r = e.getBoundingClientRect();
    const box = { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right) };
    return { box, inside: r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth };
  });
}

async function assertOnFirstScreen(page, selectors) {
  for (const selector of selectors) {
    const { box, inside } = await inViewport(page, selector);
    assert.ok(inside, `${selector} is whole on the first screen: ${JSON.stringify(box)}`);
  }
}

async function loadDemo(page) {
  await page.getByTestId('load-demo').click();
  await page.getByTestId('data-bar-summary').filter({ hasText: '6 sources' }).waitFor();
  await page.getByTestId('chart').waitFor();
  await page.getByTestId('allowances').waitFor();
  await page.waitForFunction(() => !document.querySelector('.ul-header .ul-progress'));
}

async function seriousViolations(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

test('at 1280 x 900 the KPIs, the chart and the whole allowances card are on the first screen', async () => {
  const { page, context, errors } = await openApp(browser, stack.appUrl, { viewport: { width: 1280, height: 900 } });
  await loadDemo(page);
  assert.equal(await page.locator('#ul-import-area').isHidden(), true, 'the import area is folded');
  assert.equal(await page.getByTestId('data-bar').count(), 1);
  await assertOnFirstScreen(page, ['[data-testid="data-bar"]', '.ul-kpis', '[data-testid="chart"]', '[data-testid="chart"] svg', '[data-testid="allowances"]']);
  // The allowances sit beside the chart, not under it.
  const chart = await inViewport(page, '[data-testid="chart"]');
  const allowances = await inViewport(page, '[data-testid="allowances"]');
  assert.ok(allowances.box.left >= chart.box.right, `beside the chart: ${JSON.stringify({ chart: chart.box, allowances: allowances.box })}`);
  await page.screenshot({ path: join(shots, 'first-screen-1280.png') });
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('at 390 x 844 the data bar and the whole KPI block are on the first screen', async () => {
  const { page, context, errors } = await openApp(browser, stack.appUrl, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await loadDemo(page);
  await assertOnFirstScreen(page, ['.ul-header', '[data-testid="data-bar"]', '.ul-kpis']);
  for (const kpi of ['kpi-data', 'kpi-voice', 'kpi-sms', 'kpi-mms']) {
    await assertOnFirstScreen(page, [`[data-testid="${kpi}"]`]);
  }
  // The filters are one row that scrolls sideways inside its card; the page itself does not.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  const filters = await page.locator('.ul-filters').evaluate((e) => ({ height: e.getBoundingClientRect().height, scrolls: e.scrollWidth > e.clientWidth }));
  assert.ok(filters.scrolls && filters.height < 100, `one scrolling row of filters: ${JSON.stringify(filters)}`);
  // A filter at the row's end comes into view when the keyboard reaches it.
  await page.locator('#ul-tz').focus();
  const tz = await inViewport(page, '#ul-tz');
  assert.ok(tz.inside, `the last filter scrolls into view on focus: ${JSON.stringify(tz.box)}`);
  await page.locator('#ul-tz').blur();
  await page.evaluate(() => { document.querySelector('.ul-filters').scrollLeft = 0; window.scrollTo(0, 0); });
  await page.screenshot({ path: join(shots, 'first-screen-390.png') });
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the allowances card lists the most used of the latest period first, the rest behind Show all', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  await loadDemo(page);
  const card = page.getByTestId('allowances');
  const total = Number((await page.getByTestId('allowances-summary').innerText()).match(/^\d+/)[0]);
  assert.ok(total > 5, `the demo has more allowances than the card shows at first: ${total}`);
  assert.equal(await card.locator('.ul-allowance').count(), 5);
  const shares = await card.locator('.ul-allowance-pct').allInnerTexts();
  const numbers = shares.map((s) => Number.parseFloat(s));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => b - a), `fullest first: ${shares}`);
  assert.match(await page.getByTestId('allowances-summary').innerText(), /over/, 'the overages are counted');
  const more = page.getByTestId('allowances-all');
  assert.equal(await more.getAttribute('aria-expanded'), 'false');
  assert.equal(await more.innerText(), `Show all ${total}`);
  await more.click();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  assert.equal(await card.locator('.ul-allowance').count(), total);
  await more.click();
  assert.equal(await card.locator('.ul-allowance').count(), 5);
  await context.close();
});

test('Add data opens the import area, Hide folds it, Clear empties the view', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  await loadDemo(page);
  const add = page.getByTestId('data-add');
  assert.equal(await add.getAttribute('aria-expanded'), 'false');
  await add.click();
  assert.equal(await add.getAttribute('aria-expanded'), 'true');
  await page.getByTestId('import-paste').waitFor();
  assert.equal(await page.locator('.ul-source').count(), 6);
  await add.click();
  assert.equal(await page.locator('#ul-import-area').isHidden(), true);
  await page.getByTestId('data-clear').click();
  await page.locator('#ul-empty-title').waitFor();
  assert.equal(await page.getByTestId('data-bar').count(), 0);
  await page.getByTestId('load-demo').waitFor();
  await context.close();
});
