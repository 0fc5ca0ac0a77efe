// The embeddable build (scripts/build-embed.sh) in the example host page: two viewers with
// different configs, events, loadResponses, update, unmount, config errors, and the host's own
// styles left alone.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, assertNoCspViolations, shots } from './harness.mjs';

// Every test fails if a page broke the Content-Security-Policy.
afterEach(assertNoCspViolations);

let stack;
let browser;
before(async () => {
  stack = await startStack({ dist: 'dist-embed', sandbox: true, sandboxArgs: ['--today', '2026-11-20'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

const open = (options = {}) => openApp(browser, stack.appUrl, { ready: '#viewer-right .ul-root', ...options });
const log = (page) => page.locator('#log').innerText();

test('two viewers mount side by side with their own configs; the host keeps its styles', async () => {
  const { page, errors, context } = await open();
  assert.equal(await page.locator('.ul-root').count(), 2);
  const left = page.locator('#viewer-left');
  const right = page.locator('#viewer-right');
  assert.equal(await left.locator('.ul-root').getAttribute('data-theme'), 'light');
  assert.equal(await right.locator('.ul-root').getAttribute('data-theme'), 'dark');
  assert.equal(await left.getByTestId('fetch-live').count(), 0, 'read-only: no live fetch');
  assert.equal(await right.getByTestId('load-demo').count(), 0, 'demo: false');
  const style = await page.locator('#host-button').evaluate((b) => {
    const s = getComputedStyle(b);
    return [s.backgroundColor, s.color, s.fontFamily, s.paddingTop, s.paddingLeft, s.borderRadius, getComputedStyle(document.body).fontFamily, getComputedStyle(document.body).margin];
  });
  assert.deepEqual(style, ['rgb(192, 57, 43)', 'rgb(255, 255, 255)', 'Georgia, serif', '6px', '14px', '3px', 'Georgia, serif', '0px']);
  // The viewer's own header is not restyled by the host's `header` rule.
  assert.notEqual(await left.locator('.ul-header').evaluate((h) => getComputedStyle(h).backgroundColor), 'rgb(45, 59, 31)');
  assert.equal(await page.evaluate(() => document.querySelectorAll('style, link[rel=stylesheet]').length), 1, 'no style added to the host document');
  await page.screenshot({ path: join(shots, 'embed-host.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('events reach the host: loaded, error, filterchange; loadResponses and update work', async () => {
  const { page, context } = await open();
  const left = page.locator('#viewer-left');
  await left.getByTestId('load-demo').click();
  await page.waitForFunction(() => (document.getElementById('log').textContent.match(/left usagelens:loaded/g) || []).length === 6);
  await left.getByTestId('filter-roaming').selectOption('yes');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('left usagelens:filterchange "roaming=yes"'));
  const summary = await page.evaluate(() => window.viewers.right.loadResponses(['{"usageHistory": [', '{"cycleStartDate":"2026-11-10Z","cycleEndDate":"2026-12-09Z","deviceCycleUsageInZones":{"P, 1":[{"zone":"Z","dataUsage":5}]}}']));
  assert.equal(summary[0].records, 0);
  assert.match(summary[0].error, /line 1, column/);
  assert.deepEqual([summary[1].carrier, summary[1].records], ['control-center', 1]);
  assert.match(await log(page), /right usagelens:error \{"source":"response 1"/);
  assert.match(await log(page), /right usagelens:loaded \{"source":"response 2","carrier":"control-center","records":1,"totalRecords":1/);
  await page.evaluate(() => window.viewers.left.update({ theme: 'dark', units: 'binary' }));
  assert.equal(await left.locator('.ul-root').getAttribute('data-theme'), 'dark');
  const bad = await page.evaluate(() => { try { window.viewers.left.update({ colour: 'red' }); return 'no error'; } catch (e) { return e.message; } });
  assert.match(bad, /config\.colour: unknown key; known: theme, units/);
  const badValue = await page.evaluate(() => { try { window.viewers.left.update({ carriers: ['acme'] }); return 'no error'; } catch (e) { return e.message; } });
  assert.match(badValue, /unknown carrier "acme"/);
  await context.close();
});

test('live fetch asks the host for credentials through getCredentials', async () => {
  const { page, context } = await open();
  await page.evaluate((proxy) => window.viewers.right.update({ proxy: { mode: 'carrier', url: proxy } }), stack.proxyUrl.replace(/\/$/, ''));
  const right = page.locator('#viewer-right');
  await right.getByTestId('fetch-live').locator('summary').click();
  assert.equal(await right.getByTestId('fetch-secret').count(), 0, 'no credential fields: the host gives them');
  await right.getByTestId('fetch-from').fill('2026-08-01');
  await right.getByTestId('fetch-to').fill('2026-10-31');
  await right.getByTestId('fetch-submit').click();
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('right usagelens:loaded {"source":"Verizon ThingSpace 490154203237518"'), null, { timeout: 30_000 });
  assert.ok(Number(await right.getByTestId('kpi-data').getAttribute('data-value')) > 0);
  await context.close();
});

test('unmount removes all DOM and listeners; mounting again on the same element works', async () => {
  const { page, context } = await open();
  await page.locator('#unmount-left').click();
  assert.equal(await page.locator('#viewer-left').evaluate((e) => e.childElementCount + e.shadowRoot.childElementCount), 0);
  const after = await page.evaluate(() => { try { window.viewers.left.loadResponses([]); return 'no error'; } catch (e) { return e.message; } });
  assert.match(after, /unmounted/);
  const remounted = await page.evaluate(async () => {
    const { mountUsageViewer } = await import('./usagelens.js');
    const el = document.getElementById('viewer-left');
    const handle = mountUsageViewer(el, { readOnly: true });
    const mounted = el.shadowRoot.querySelectorAll('.ul-root').length;
    handle.unmount();
    return [mounted, el.shadowRoot.childElementCount];
  });
  assert.deepEqual(remounted, [1, 0]);
  const threw = await page.evaluate(async () => {
    const { mountUsageViewer } = await import('./usagelens.js');
    try { mountUsageViewer(document.getElementById('viewer-left'), { theme: 'purple' }); return 'no error'; } catch (e) { return e.message; }
  });
  assert.match(threw, /config\.theme: "purple" is not one of "auto", "light", "dark"/);
  await context.close();
});
