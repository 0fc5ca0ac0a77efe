// The dashboard on the release build: demo data, per-file errors, filters, export, screenshots.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, assertNoCspViolations, shots, root } from './harness.mjs';

// Every test fails if a page broke the Content-Security-Policy.
afterEach(assertNoCspViolations);

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

const kpi = (page, name) => page.getByTestId(`kpi-${name}`).getAttribute('data-value').then(Number);

/** Sums of the demo files as parseUsage reads them, computed in the page. */
async function demoSums(page) {
  return page.evaluate(async () => {
    const index = await (await fetch('demo/index.json')).json();
    const sums = { data: 0, voice: 0, sms: 0, mms: 0 };
    for (const entry of index.files) {
      const text = await (await fetch(`demo/${entry.file}`)).text();
      const result = window.wasmBindings.parseUsage(text, entry.subject ? { subject: entry.subject } : undefined);
      for (const r of result.records) sums[r.service] += r.quantity;
    }
    return sums;
  });
}

test('demo data: KPIs equal the sums of the demo records, chart and table appear', async () => {
  const { page, errors, context } = await openApp(browser, stack.appUrl);
  await page.getByTestId('load-demo').click();
  await page.getByTestId('chart').waitFor();
  await page.getByTestId('records-table').waitFor();
  const sums = await demoSums(page);
  assert.ok(sums.data > 0 && sums.voice > 0 && sums.sms > 0 && sums.mms > 0, JSON.stringify(sums));
  for (const name of ['data', 'voice', 'sms', 'mms']) {
    assert.equal(await kpi(page, name), sums[name], name);
  }
  assert.equal(await page.getByTestId('error').count(), 0);
  await page.screenshot({ path: join(shots, 'dashboard-desktop.png'), fullPage: true });

  // A filter changes the KPIs.
  await page.getByTestId('filter-roaming').selectOption('yes');
  const roamingData = await kpi(page, 'data');
  assert.ok(roamingData > 0 && roamingData < sums.data, `${roamingData} of ${sums.data}`);
  await page.getByTestId('filter-roaming').selectOption('');
  assert.equal(await kpi(page, 'data'), sums.data);

  // Export CSV round-trips to the same totals.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  const header = csv[0].split(',');
  const service = header.indexOf('service');
  const quantity = header.indexOf('quantity');
  let exportedData = 0;
  for (const line of csv.slice(1)) {
    // Quantities and services never contain commas; split on the unquoted ones before them.
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, ''));
    if (cells[service] === 'data') exportedData += Number(cells[quantity]);
  }
  assert.equal(exportedData, sums.data);
  assert.deepEqual(errors, []);
  await context.close();
});

test('each sample file by itself, and a broken file shows its error while the rest load', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  const files = ['vodafone-vrs.json', 'telecomx.json', 'telecomx.csv', 'thingspace.json', 'control-center.json']
    .map((f) => ({ name: f, mimeType: f.endsWith('.csv') ? 'text/csv' : 'application/json', buffer: readFileSync(join(root, 'public/demo', f)) }));
  files.push({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"usageHistory": [1,') });
  await page.getByTestId('import-file').setInputFiles(files);
  await page.getByTestId('error').waitFor();
  await page.getByTestId('chart').waitFor();
  const error = await page.getByTestId('error').innerText();
  assert.match(error, /line 1, column/);
  assert.equal(await page.getByTestId('error').count(), 1);
  assert.ok(await kpi(page, 'data') > 0);
  await context.close();
});

test('paste, mobile width and dark mode', async () => {
  const { page, context } = await openApp(browser, stack.appUrl, { viewport: { width: 360, height: 800 }, colorScheme: 'dark' });
  const body = readFileSync(join(root, 'crates/core/tests/fixtures/thingspace-doc-device.json'), 'utf8');
  await page.getByTestId('import-paste').fill(body);
  await page.getByTestId('import-paste-submit').click();
  await page.getByTestId('chart').waitFor();
  assert.equal(await kpi(page, 'data'), 16384);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px at 360px`);
  await page.screenshot({ path: join(shots, 'dashboard-mobile-dark.png'), fullPage: true });
  await context.close();
});

test('the view is in the URL: reopening it loads the demo with the same filters', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  await page.getByTestId('load-demo').click();
  await page.getByTestId('data-bar-summary').filter({ hasText: '6 sources' }).waitFor();
  await page.getByTestId('filter-roaming').selectOption('yes');
  await page.locator('#ul-group').selectOption('carrier');
  const roamingData = await kpi(page, 'data');
  // The URL is written once the view has been still for a moment.
  await page.waitForURL(/group=carrier/);
  const url = page.url();
  assert.match(url, /source=demo/);
  assert.match(url, /roaming=yes/);
  assert.match(url, /group=carrier/);
  const again = await context.newPage();
  await again.goto(url);
  await again.getByTestId('data-bar-summary').filter({ hasText: '6 sources' }).waitFor();
  await again.waitForFunction(() => !document.querySelector('.ul-header .ul-progress'));
  assert.equal(await kpi(again, 'data'), roamingData);
  assert.equal(await again.getByTestId('filter-roaming').inputValue(), 'yes');
  assert.equal(await again.locator('#ul-group').inputValue(), 'carrier');
  await context.close();
});

test('the chart exports as SVG and PNG', async () => {
  const { page, context } = await openApp(browser, stack.appUrl, { colorScheme: 'dark' });
  await page.getByTestId('load-demo').click();
  await page.getByTestId('data-bar-summary').filter({ hasText: '6 sources' }).waitFor();
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-svg').click()]);
  const svgText = readFileSync(await svg.path(), 'utf8');
  assert.match(svg.suggestedFilename(), /^usagelens-chart-\d{8}\.svg$/);
  assert.match(svgText, /^<svg/);
  assert.match(svgText, /<path[^>]+stroke="rgb\(/, 'theme colours are written into the file');
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
  const bytes = readFileSync(await png.path());
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
  assert.ok(bytes.length > 2000, `${bytes.length} bytes`);
  await context.close();
});
