// Data first: once usage is loaded the import area folds into a one-line bar, and the KPIs and
// chart are on the first screen at 1280 x 900 with the allowances beginning there; at 390 x 844
// the KPIs begin on the first screen. (Issue 20 asks for the whole allowances card at 1280 x 900
// and the whole KPI block at 390 x 844: not met yet with the demo's six sources.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, shots } from './harness.mjs';

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

async function loadDemo(page) {
  await page.getByTestId('load-demo').click();
  await page.getByTestId('data-bar-summary').filter({ hasText: '6 sources' }).waitFor();
  await page.getByTestId('chart').waitFor();
  await page.waitForFunction(() => !document.querySelector('.ul-header .ul-progress'));
}

/** The element's top lies inside the viewport (it begins on the first screen). */
async function beginsInViewport(page, selector) {
  return page.locator(selector).first().evaluate((e) => {
    const r = e.getBoundingClientRect();
    return { box: { top: Math.round(r.top), bottom: Math.round(r.bottom) }, inside: r.height > 0 && r.top >= 0 && r.top < window.innerHeight - 40 };
  });
}

test('at 1280 x 900 the demo puts the KPIs and the chart on the first screen, the allowances begin there', async () => {
  const { page, context, errors } = await openApp(browser, stack.appUrl, { viewport: { width: 1280, height: 900 } });
  await loadDemo(page);
  assert.equal(await page.locator('#ul-import-area').isHidden(), true, 'the import area is folded');
  assert.equal(await page.getByTestId('data-bar').count(), 1);
  for (const selector of ['[data-testid="data-bar"]', '.ul-kpis', '[data-testid="chart"] svg']) {
    const { box, inside } = await inViewport(page, selector);
    assert.ok(inside, `${selector} is on the first screen: ${JSON.stringify(box)}`);
  }
  const allowances = await beginsInViewport(page, '[data-testid="allowances"]');
  assert.ok(allowances.inside, `the allowances begin on the first screen: ${JSON.stringify(allowances.box)}`);
  await page.screenshot({ path: join(shots, 'data-first-1280x900.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('at 390 x 844 the data bar is on the first screen and the KPIs begin there', async () => {
  const { page, context } = await openApp(browser, stack.appUrl, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await loadDemo(page);
  const bar = await inViewport(page, '[data-testid="data-bar"]');
  assert.ok(bar.inside, `the data bar is on the first screen: ${JSON.stringify(bar.box)}`);
  const kpis = await beginsInViewport(page, '.ul-kpis');
  assert.ok(kpis.inside, `the KPIs begin on the first screen: ${JSON.stringify(kpis.box)}`);
  await page.screenshot({ path: join(shots, 'data-first-390x844.png') });
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
