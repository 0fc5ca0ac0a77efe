// Data first: once usage is loaded the import area folds into a one-line bar, and the KPIs,
// chart and allowances are on the first screen at 1280 x 900 (the KPIs at 390 x 844).
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

test('at 1280 x 900 the demo puts the KPIs, the chart and the allowances on the first screen', async () => {
  const { page, context, errors } = await openApp(browser, stack.appUrl, { viewport: { width: 1280, height: 900 } });
  await loadDemo(page);
  assert.equal(await page.locator('#ul-import-area').isHidden(), true, 'the import area is folded');
  assert.equal(await page.getByTestId('data-bar').count(), 1);
  for (const selector of ['[data-testid="data-bar"]', '.ul-kpis', '[data-testid="chart"] svg', '[data-testid="allowances"]']) {
    const { box, inside } = await inViewport(page, selector);
    assert.ok(inside, `${selector} is on the first screen: ${JSON.stringify(box)}`);
  }
  await page.screenshot({ path: join(shots, 'data-first-1280x900.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('at 390 x 844 the KPIs are on the first screen', async () => {
  const { page, context } = await openApp(browser, stack.appUrl, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await loadDemo(page);
  for (const selector of ['[data-testid="data-bar"]', '.ul-kpis']) {
    const { box, inside } = await inViewport(page, selector);
    assert.ok(inside, `${selector} is on the first screen: ${JSON.stringify(box)}`);
  }
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
  assert.equal(await page.locator('.ul-source').count(), 5);
  await add.click();
  assert.equal(await page.locator('#ul-import-area').isHidden(), true);
  await page.getByTestId('data-clear').click();
  await page.locator('#ul-empty-title').waitFor();
  assert.equal(await page.getByTestId('data-bar').count(), 0);
  await page.getByTestId('load-demo').waitFor();
  await context.close();
});
