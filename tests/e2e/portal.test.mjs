// Portal mode (mountUsageViewer with mode: 'portal') in the example operator portal
// (embed/portal.html) against the carrier sandbox: SIMs fetched on mount with getCredentials,
// gauges with projections, the daily chart, roaming, the period choice, refresh, errors in the
// customer's words with the details in usagelens:error, config errors, axe, screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startStack, launchBrowser, shots, sandboxCounts } from './harness.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// The browser's clock and the sandbox's "today" agree, so periods and projections are fixed.
const TODAY = '2026-11-20';
const NOW = new Date(`${TODAY}T12:00:00Z`);

let stack;
let browser;
before(async () => {
  stack = await startStack({ dist: 'dist-embed', sandbox: true, sandboxArgs: ['--today', TODAY] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function openPortal({ width = 1280, height = 900, theme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: theme });
  // The clock starts at NOW and runs (a frozen clock would stop the fetch's retry waits).
  await context.clock.install({ time: NOW });
  await context.clock.resume();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${stack.appUrl}portal.html?theme=${theme}`);
  await page.locator('#usage .ul-portal').waitFor({ timeout: 30_000 });
  return { page, context, errors };
}

const sims = (page) => page.locator('#usage [data-testid="portal-sim"]');

async function allSettled(page) {
  await page.waitForFunction(() => {
    const root = document.getElementById('usage').shadowRoot;
    const cards = [...root.querySelectorAll('[data-testid="portal-sim"]')];
    return cards.length > 0 && cards.every((c) => ['ready', 'failed'].includes(c.dataset.status));
  }, null, { timeout: 30_000 });
}

const events = (page) => page.locator('#events').textContent();

async function seriousViolations(page) {
  // Evaluated rather than added as a <script>: the page allows no inline script.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

test('the portal fetches every SIM on mount and shows the period, gauges, chart and roaming (1280 px, light)', async () => {
  const { page, context, errors } = await openPortal();
  await allSettled(page);
  assert.equal(await sims(page).count(), 2);
  assert.deepEqual(await sims(page).evaluateAll((cards) => cards.map((c) => c.dataset.status)), ['ready', 'ready']);
  assert.equal(await page.locator('#usage [data-testid="portal-period"]').textContent(), '1 Nov 2026 – 30 Nov 2026');
  assert.equal(await page.locator('#usage [data-testid="portal-updated"]').textContent(), 'Updated 20 Nov 2026, 12:00 UTC');
  // Nothing of the analyst's dashboard: no import, fetch forms, filters or records.
  for (const testid of ['load-demo', 'fetch-live', 'fleet-wrap', 'filter-roaming', 'records-table']) {
    assert.equal(await page.locator(`#usage [data-testid="${testid}"]`).count(), 0, testid);
  }
  const van = sims(page).nth(0);
  assert.match(await van.locator('h3').textContent(), /Delivery van 3/);
  // ThingSpace reports no allowance: the portal's plan (5 GB), projected to 30 Nov.
  const data = van.locator('[data-testid="gauge-data"]');
  assert.equal(await data.getAttribute('data-allowance'), '5000000000');
  const used = Number(await data.getAttribute('data-used'));
  const projected = Number(await data.getAttribute('data-projected'));
  assert.ok(used > 0, 'data used');
  // 1 Nov 00:00 to 20 Nov 12:00 (and the seconds the fetch took) is 19.5 of 30 days: the
  // projection is used x 30 / 19.5.
  assert.ok(Math.abs(projected / (used * 30 / 19.5) - 1) < 1e-3, `${projected} vs ${used * 30 / 19.5}`);
  assert.match(await data.textContent(), /At this pace: .* by 30 Nov 2026/);
  assert.equal(await data.locator('[role="meter"]').count(), 1);
  assert.equal(await van.getByTestId('chart').count(), 1, 'ThingSpace has days: the daily chart');
  assert.match(await van.getByTestId('portal-roaming').textContent(), /of your data was used abroad|No data used/);
  // TelecomX reports the allowances itself, per zone; its months have no daily chart.
  const phone = sims(page).nth(1);
  const carrierGauge = phone.locator('[data-testid="gauge-data"]').first();
  assert.ok(Number(await carrierGauge.getAttribute('data-allowance')) > 0, 'a carrier allowance');
  assert.equal(await phone.getByTestId('chart').count(), 0);
  assert.match(await phone.textContent(), /one total, not day by day/);
  const log = await events(page);
  assert.equal((log.match(/usagelens:loaded/g) || []).length, 2, log);
  assert.match(log, /"period":\["2026-11-01","2026-11-20"\]|"period":\["2026-11-01","2026-11-30"\]/);
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: join(shots, 'portal-1280-light.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('at 390 px in dark the portal fits the screen, and axe is clean', async () => {
  const { page, context, errors } = await openPortal({ width: 390, height: 844, theme: 'dark' });
  await allSettled(page);
  assert.equal(await page.locator('#usage .ul-root').getAttribute('data-theme'), 'dark');
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `no horizontal scrolling: ${widths}`);
  // Every control of the viewer lies inside the screen's width.
  const outside = await page.evaluate(() => {
    const root = document.getElementById('usage').shadowRoot;
    return [...root.querySelectorAll('button, select, input, [role="meter"]')]
      .map((e) => e.getBoundingClientRect())
      .filter((r) => r.width > 0 && (r.left < 0 || r.right > window.innerWidth + 0.5)).length;
  });
  assert.equal(outside, 0);
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: join(shots, 'portal-390-dark.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('last period, a custom period and refresh fetch again; a bad custom period is refused', async () => {
  const { page, context } = await openPortal();
  await allSettled(page);
  const before = (await sandboxCounts(stack)).requests;
  await page.locator('#usage [data-testid="portal-choice"]').selectOption('last');
  await page.waitForFunction(() => document.getElementById('events').textContent.includes('"period":["2026-10-01","2026-10-31"]'));
  await allSettled(page);
  assert.equal(await page.locator('#usage [data-testid="portal-period"]').textContent(), '1 Oct 2026 – 31 Oct 2026');
  // A past period is not projected.
  assert.equal(await sims(page).nth(0).locator('[data-testid="gauge-data"]').getAttribute('data-projected'), '');
  await page.locator('#usage [data-testid="portal-choice"]').selectOption('custom');
  await page.locator('#usage [data-testid="portal-first"]').fill('2026-09-10');
  await page.locator('#usage [data-testid="portal-last"]').fill('2026-09-01');
  await page.locator('#usage [data-testid="portal-apply"]').click();
  assert.match(await page.locator('#usage .ul-portal-bar [role="alert"]').textContent(), /last day is before the first day/);
  await page.locator('#usage [data-testid="portal-last"]').fill('2026-09-30');
  await page.locator('#usage [data-testid="portal-apply"]').click();
  await page.waitForFunction(() => document.getElementById('events').textContent.includes('"period":["2026-09-10","2026-09-30"]'));
  await allSettled(page);
  const loadedBefore = ((await events(page)).match(/usagelens:loaded/g) || []).length;
  await page.locator('#usage [data-testid="portal-refresh"]').click();
  await page.waitForFunction((n) => (document.getElementById('events').textContent.match(/usagelens:loaded/g) || []).length >= n + 2, loadedBefore);
  assert.ok((await sandboxCounts(stack)).requests > before, 'the carriers were asked again');
  await context.close();
});

test('errors reach the customer in their words and the host in full; bad configs are refused', async () => {
  const { page, context } = await openPortal();
  await allSettled(page);
  const result = await page.evaluate(async () => {
    const { mountUsageViewer } = await import('./usagelens.js');
    const element = document.createElement('div');
    document.body.append(element);
    const details = [];
    element.addEventListener('usagelens:error', (e) => details.push(e.detail));
    // Nothing listens on port 9: the carrier cannot be reached.
    const handle = mountUsageViewer(element, {
      mode: 'portal',
      proxy: { mode: 'carrier', url: 'http://127.0.0.1:9' },
      subjects: [{ carrier: 'telecomx', id: '5c1b21b5a90b02f846f7bde1' }, { carrier: 'control-center', id: '8988216716970004973' }],
      getCredentials: async (carrier) => {
        if (carrier === 'control-center') throw new Error('session expired');
        return { user: 'demo', secret: 'demo' };
      },
    });
    const deadline = Date.now() + 20000;
    while (details.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const alerts = [...element.shadowRoot.querySelectorAll('[data-testid="portal-error"]')].map((e) => e.textContent);
    handle.unmount();
    return { details, alerts };
  });
  assert.equal(result.details.length, 2);
  const byKind = Object.fromEntries(result.details.map((d) => [d.kind, d]));
  assert.equal(byKind.network.carrier, 'telecomx');
  assert.equal(byKind.network.customerMessage, 'We could not reach your carrier; try again in a minute.');
  assert.match(byKind.network.error, /^TelecomX: /);
  assert.equal(byKind.credentials.carrier, 'control-center');
  assert.match(byKind.credentials.error, /session expired/);
  assert.ok(result.alerts.some((a) => a.startsWith('We could not reach your carrier; try again in a minute.')), result.alerts.join(' | '));
  assert.ok(result.alerts.some((a) => a.includes('Please contact support')), result.alerts.join(' | '));
  assert.ok(result.alerts.every((a) => !/HTTP|\d{3}/.test(a)), 'no codes for the customer');
  const refused = await page.evaluate(async () => {
    const { mountUsageViewer } = await import('./usagelens.js');
    const tryMount = (config) => { try { mountUsageViewer(document.createElement('div'), config).unmount(); return 'mounted'; } catch (e) { return e.message; } };
    return [
      tryMount({ mode: 'portal', getCredentials: () => ({}) }),
      tryMount({ mode: 'portal', subjects: [{ carrier: 'telecomx', id: 'xyz' }], getCredentials: () => ({}) }),
      tryMount({ mode: 'portal', subjects: [{ carrier: 'thingspace', id: '89148000000000000019' }] }),
      tryMount({ mode: 'portal', billingDay: 31, subjects: [{ carrier: 'thingspace', id: '89148000000000000019' }], getCredentials: () => ({}) }),
      tryMount({ mode: 'kiosk' }),
    ];
  });
  assert.match(refused[0], /config\.subjects: portal mode needs at least one subject/);
  assert.match(refused[1], /config\.subjects\[0\]\.id: /);
  assert.match(refused[2], /config\.getCredentials: portal mode needs getCredentials, or credentials for thingspace/);
  assert.match(refused[3], /config\.billingDay: expected a day of the month from 1 to 28/);
  assert.match(refused[4], /config\.mode: "kiosk" is not one of "dashboard", "portal"/);
  const modeChange = await page.evaluate(() => { try { window.portal.update({ mode: 'dashboard' }); return 'no error'; } catch (e) { return e.message; } });
  assert.match(modeChange, /config\.mode: the mode is set when the viewer is mounted/);
  await context.close();
});
