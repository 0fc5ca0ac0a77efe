// The chart with monthly (TelecomX) and daily (ThingSpace) sources loaded together: the interval
// selector, month totals kept out of the day bars (drawn as spans in their own band), the
// crosshair tooltip, brush-to-zoom and "Reset zoom".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, shots, root } from './harness.mjs';

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

const files = ['telecomx.json', 'telecomx.csv', 'thingspace.json'];

/** The demo files' data records as parseUsage reads them: per-day sums of the daily records,
 * per-period sums of the monthly ones, per-month sums of both. */
async function expected(page) {
  return page.evaluate(async (files) => {
    const days = {}, periods = {}, months = {};
    for (const file of files) {
      const text = await (await fetch(`demo/${file}`)).text();
      for (const r of window.wasmBindings.parseUsage(text).records) {
        if (r.service !== 'data') continue;
        months[r.start.slice(0, 7)] = (months[r.start.slice(0, 7)] ?? 0) + r.quantity;
        if (r.granularity === 'month' || r.granularity === 'cycle') {
          const key = `${r.start}/${r.end}`;
          periods[key] = (periods[key] ?? 0) + r.quantity;
        } else {
          days[r.start.slice(0, 10)] = (days[r.start.slice(0, 10)] ?? 0) + r.quantity;
        }
      }
    }
    return { days, periods, months };
  }, files);
}

test('monthly and daily sources: intervals, period band, tooltip, brush zoom', async () => {
  const { page, errors, context } = await openApp(browser, stack.appUrl);
  await page.getByTestId('import-file').setInputFiles(files.map((f) => ({
    name: f, mimeType: f.endsWith('.csv') ? 'text/csv' : 'application/json', buffer: readFileSync(join(root, 'public/demo', f)),
  })));
  // The import area folds into the data bar once something is loaded (data first).
  await page.getByTestId('data-bar-summary').filter({ hasText: `${files.length} sources` }).waitFor();
  await page.getByTestId('chart').waitFor();
  await page.locator('#ul-group').selectOption('carrier');
  const want = await expected(page);
  const monthTotals = Object.values(want.periods);
  assert.ok(Object.keys(want.days).length > 20 && monthTotals.length >= 2, JSON.stringify(want));
  const maxDay = Math.max(...Object.values(want.days));
  // The test can fail: drawn as bars on their first day, some month would top the days.
  assert.ok(Math.max(...monthTotals) > maxDay, `months ${monthTotals} vs days up to ${maxDay}`);

  const chart = page.getByTestId('chart');
  const barsMax = () => page.locator('[data-testid=chart] .ul-bars').getAttribute('data-max').then(Number);
  const periodTotals = async () => (await page.getByTestId('chart-period').evaluateAll((els) => els.map((e) => [e.dataset.granularity, Number(e.dataset.total)]))).sort((a, b) => a[1] - b[1]);

  // Default: the finest granularity (days); months are spans in the band, not bars.
  assert.equal(await page.getByTestId('chart-interval').inputValue(), 'day');
  assert.equal(await chart.getAttribute('data-interval'), 'day');
  assert.equal(await barsMax(), maxDay, 'the tallest bar is the busiest day');
  assert.deepEqual(await periodTotals(), monthTotals.map((t) => ['month', t]).sort((a, b) => a[1] - b[1]));
  assert.match(await page.getByTestId('chart-period-note').innerText(), /Monthly totals cannot be split into days/);

  // Crosshair tooltip over a day a month starts on: every series that day with the total, and
  // the month's total named as such.
  const firstPeriod = page.getByTestId('chart-period').first();
  const box = await firstPeriod.locator('rect').boundingBox();
  const plot = await page.locator('[data-testid=chart] .ul-hit').boundingBox();
  await page.mouse.move(box.x + 2, plot.y + plot.height / 2);
  const tooltip = page.getByTestId('chart-tooltip');
  await tooltip.waitFor();
  const tip = await tooltip.innerText();
  assert.match(tip, /Total/);
  assert.match(tip, /monthly total/);
  assert.doesNotMatch(tip.split('Total')[0], /TelecomX/, 'TelecomX is no bar on a day');
  await page.screenshot({ path: join(shots, 'chart-mixed.png'), fullPage: false, clip: await chart.boundingBox() });

  // Month: days and months are both whole months, so all are bars and the band is gone.
  await page.getByTestId('chart-interval').selectOption('month');
  await page.waitForFunction(() => document.querySelector('[data-testid=chart]').dataset.interval === 'month');
  assert.equal(await page.getByTestId('chart-period').count(), 0);
  assert.equal(await page.getByTestId('chart-period-note').count(), 0);
  assert.equal(await barsMax(), Math.max(...Object.values(want.months)));
  await page.screenshot({ path: join(shots, 'chart-mixed-month.png'), fullPage: false, clip: await chart.boundingBox() });

  // Week: the band again, the bars hold at most seven days.
  await page.getByTestId('chart-interval').selectOption('week');
  await page.waitForFunction(() => document.querySelector('[data-testid=chart]').dataset.interval === 'week');
  assert.equal(await page.getByTestId('chart-period').count(), monthTotals.length);
  assert.ok(await barsMax() <= 7 * maxDay);
  assert.ok(await barsMax() < Math.max(...monthTotals));

  // Brush: dragging over the left third of the plot sets From/To; "Reset zoom" restores them.
  await page.getByTestId('chart-interval').selectOption('day');
  await page.waitForFunction(() => document.querySelector('[data-testid=chart]').dataset.interval === 'day');
  assert.equal(await page.locator('#ul-from').inputValue(), '');
  const y = plot.y + plot.height / 2;
  await page.mouse.move(plot.x + plot.width * 0.1, y);
  await page.mouse.down();
  await page.mouse.move(plot.x + plot.width * 0.25, y, { steps: 5 });
  await page.getByTestId('chart-brush').waitFor();
  await page.mouse.up();
  await page.getByTestId('chart-reset-zoom').waitFor();
  const from = await page.locator('#ul-from').inputValue();
  const to = await page.locator('#ul-to').inputValue();
  assert.match(from, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(to > from, `${from} .. ${to}`);
  await page.getByTestId('chart-reset-zoom').click();
  await page.getByTestId('chart-reset-zoom').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#ul-from').inputValue(), '');
  assert.equal(await page.locator('#ul-to').inputValue(), '');
  assert.deepEqual(errors, []);
  await context.close();
});
