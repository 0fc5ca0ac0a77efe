// axe-core on the first screen and on the loaded dashboard, light and dark: no serious or
// critical violations.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startStack, launchBrowser, openApp, assertNoCspViolations } from './harness.mjs';

// Every test fails if a page broke the Content-Security-Policy.
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

async function seriousViolations(page) {
  // Evaluated by the DevTools protocol: the app's Content-Security-Policy refuses an inline
  // <script> (addScriptTag), and must.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

for (const colorScheme of ['light', 'dark']) {
  test(`no serious or critical axe violations (${colorScheme})`, async () => {
    const { page, context } = await openApp(browser, stack.appUrl, { colorScheme });
    assert.deepEqual(await seriousViolations(page), [], 'first screen');
    await page.getByTestId('load-demo').click();
    await page.getByTestId('chart').waitFor();
    await page.locator('[data-testid="records-table"] tbody tr').first().click();
    assert.deepEqual(await seriousViolations(page), [], 'dashboard with demo data');
    await context.close();
  });
}
