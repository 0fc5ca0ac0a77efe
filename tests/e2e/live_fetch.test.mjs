// Live fetching in the release build: Chromium -> nginx (the CORS proxy, another origin) ->
// carrier sandbox, for all four carriers, plus faults that keep what was already fetched.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, assertNoCspViolations, sandboxCounts, shots } from './harness.mjs';

// Every test fails if a page broke the Content-Security-Policy.
afterEach(assertNoCspViolations);

const stacks = [];
let browser;
after(async () => {
  await browser?.close();
  for (const s of stacks) await s.stop();
});

async function stack(args = []) {
  const s = await startStack({ sandbox: true, sandboxArgs: ['--today', '2026-11-20', ...args] });
  stacks.push(s);
  browser ??= await launchBrowser();
  return s;
}

const FORMS = {
  thingspace: { id: '490154203237518', from: '2025-11-21', to: '2026-11-20', fields: { 'fetch-key': 'demo-key', 'fetch-key-secret': 'demo-secret', 'fetch-user': 'demo', 'fetch-secret': 'demo' } },
  'vodafone-vrs': { id: '262021234567890', fields: { 'fetch-user': 'demo-client', 'fetch-secret': 'demo-secret' } },
  telecomx: { id: '553ca0f477392ee4106e9526', from: '2026-06', to: '2026-10', fields: { 'fetch-user': 'demo', 'fetch-secret': 'demo' } },
  'control-center': { id: '8901170425801873534', fields: { 'fetch-user': 'demo', 'fetch-secret': 'demo-api-key' } },
};

// Fills the live-fetch form, submits it and waits until the fetch ends; with `cancelAfterMs`,
// presses Cancel that long after the request went out and returns how long the fetch took to
// end after that.
async function fetchLive(page, proxyUrl, carrier, { timeout, cancelAfterMs } = {}) {
  const form = FORMS[carrier];
  // With usage loaded the import area is folded into the data bar: "Add data" opens it.
  if (await page.getByTestId('data-add').isVisible() && (await page.getByTestId('data-add').getAttribute('aria-expanded')) === 'false') {
    await page.getByTestId('data-add').click();
  }
  if (!(await page.getByTestId('fetch-live').evaluate((d) => d.open))) await page.getByTestId('fetch-live').locator('summary').click();
  await page.getByTestId('fetch-carrier').selectOption(carrier);
  await page.getByTestId('fetch-id').fill(form.id);
  if (form.from) await page.getByTestId('fetch-from').fill(form.from);
  if (form.to) await page.getByTestId('fetch-to').fill(form.to);
  for (const [id, value] of Object.entries(form.fields)) await page.getByTestId(id).fill(value);
  await page.getByTestId('fetch-proxy').fill(proxyUrl.replace(/\/$/, ''));
  if (timeout) await page.getByTestId('fetch-timeout').fill(String(timeout));
  await page.getByTestId('fetch-submit').click();
  let cancelledAt;
  if (cancelAfterMs !== undefined) {
    await page.getByTestId('fetch-cancel').waitFor();
    await page.waitForTimeout(cancelAfterMs);
    cancelledAt = Date.now();
    await page.getByTestId('fetch-cancel').click();
  }
  await page.getByTestId('fetch-submit').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('[data-testid="fetch-cancel"]'), null, { timeout: 60_000 });
  return cancelledAt === undefined ? undefined : Date.now() - cancelledAt;
}

test('each carrier fetched through nginx from the sandbox and charted', async () => {
  const s = await stack();
  const { page, errors, context } = await openApp(browser, s.appUrl);
  let previous = 0;
  for (const carrier of Object.keys(FORMS)) {
    await fetchLive(page, s.proxyUrl, carrier);
    assert.equal(await page.getByTestId('error').count(), 0, `${carrier}: ${await page.getByTestId('error').allInnerTexts()}`);
    const data = Number(await page.getByTestId('kpi-data').getAttribute('data-value'));
    assert.ok(data > previous, `${carrier} added data: ${data} after ${previous}`);
    previous = data;
  }
  await page.getByTestId('chart').waitFor();
  const sources = await page.locator('.ul-source-meta').allInnerTexts();
  assert.equal(sources.length, 4);
  assert.match(sources.join('\n'), /Verizon ThingSpace · imei 490154203237518 · 2920 records/, 'two 500-row pages, four records a row');
  await page.screenshot({ path: join(shots, 'live-fetch.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a page that does not advance stops with a message and keeps the first page', async () => {
  const s = await stack(['--fault', 'no-advance']);
  const { page, context } = await openApp(browser, s.appUrl);
  await fetchLive(page, s.proxyUrl, 'thingspace');
  const error = await page.getByTestId('error').innerText();
  assert.match(error, /did not move forward.*kept/s);
  assert.ok(Number(await page.getByTestId('kpi-data').getAttribute('data-value')) > 0, 'the first page is kept');
  await context.close();
});

test('rate limiting is retried, then reported', async () => {
  const s = await stack(['--fault', '429']);
  const { page, context } = await openApp(browser, s.appUrl);
  await fetchLive(page, s.proxyUrl, 'control-center');
  assert.match(await page.getByTestId('error').innerText(), /rate limit was hit 4 times/);
  await context.close();
});

test('an identifier is validated before anything is sent', async () => {
  const s = await stack();
  const { page, context } = await openApp(browser, s.appUrl);
  await page.getByTestId('fetch-live').locator('summary').click();
  await page.getByTestId('fetch-carrier').selectOption('control-center');
  await page.getByTestId('fetch-id').fill('8901170425801873532');
  assert.match(await page.locator('#ul-ident-error').innerText(), /check digit.*should be 4/);
  await page.getByTestId('fetch-submit').click();
  assert.match(await page.getByTestId('error').innerText(), /check digit/);
  await context.close();
});

for (const [fault, carrier, pattern, options] of [
  ['500', 'control-center', /unknown server error at Control Center.*carrier says: Unknown server error/s, {}],
  ['truncate', 'telecomx', /could not be read/, {}],
  ['expire-token', 'thingspace', /session expired again/, {}],
  ['timeout', 'telecomx', /no answer within 1 s, 3 times/, { timeout: 1 }],
]) {
  test(`fault ${fault}: ${carrier} reports it clearly and the page stays usable`, async () => {
    const s = await stack(['--fault', fault, '--hang-ms', '3000']);
    const { page, errors, context } = await openApp(browser, s.appUrl);
    await page.getByTestId('load-demo').click();
    await page.getByTestId('data-bar-summary').filter({ hasText: '6 sources' }).waitFor();
    await page.waitForFunction(() => !document.querySelector('.ul-header .ul-progress'));
    const before = Number(await page.getByTestId('kpi-data').getAttribute('data-value'));
    await fetchLive(page, s.proxyUrl, carrier, options);
    assert.match(await page.getByTestId('error').innerText(), pattern);
    assert.equal(Number(await page.getByTestId('kpi-data').getAttribute('data-value')), before, 'what was loaded before is kept');
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
    await context.close();
  });
}

test('a pasted token with a character no HTTP header can carry is refused by name, nothing sent', async () => {
  const s = await stack();
  const { page, errors, context } = await openApp(browser, s.appUrl);
  await page.getByTestId('fetch-live').locator('summary').click();
  await page.getByTestId('fetch-carrier').selectOption('vodafone-vrs');
  await page.getByTestId('fetch-id').fill(FORMS['vodafone-vrs'].id);
  await page.getByTestId('fetch-use-token').check();
  // A token copied out of a document with typographic quotes around it.
  await page.getByTestId('fetch-token').fill('\u201calEw85x\u201d');
  await page.getByTestId('fetch-proxy').fill(s.proxyUrl.replace(/\/$/, ''));
  const carrierRequests = async () => (await sandboxCounts(s)).requests;
  const before = await carrierRequests();
  await page.getByTestId('fetch-submit').click();
  assert.match(await page.getByTestId('error').innerText(), /the access token: character 1 is "\u201c" \(U\+201C\), which an HTTP header cannot carry/);
  assert.equal(await carrierRequests(), before, 'nothing reached the carrier');
  // The page goes on: the same form with client credentials instead fetches.
  await page.getByTestId('fetch-use-token').uncheck();
  await fetchLive(page, s.proxyUrl, 'vodafone-vrs');
  assert.equal(await page.getByTestId('error').count(), 0);
  assert.equal(await page.locator('.ul-source').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

// Requests are stopped by `AbortSignal.any` of the user's cancel and `AbortSignal.timeout`;
// browsers without them (Firefox < 124, Safari < 17.4) get a watchdog task per request. Both
// ways, Cancel stops a request the carrier has not answered at once, and a timeout is reported
// as one.
for (const [way, initScript] of [
  ['AbortSignal.any', undefined],
  ['the watchdog (no AbortSignal.any)', () => { delete AbortSignal.any; }],
]) {
  test(`with ${way}, Cancel stops a request in flight at once and a timeout is reported`, async () => {
    const s = await stack(['--fault', 'timeout', '--hang-ms', '20000']);
    const { page, errors, context } = await openApp(browser, s.appUrl, { initScript });
    assert.equal(await page.evaluate(() => typeof AbortSignal.any), initScript ? 'undefined' : 'function');
    const afterCancel = await fetchLive(page, s.proxyUrl, 'control-center', { timeout: 30, cancelAfterMs: 300 });
    assert.ok(afterCancel < 5_000, `the fetch ended ${afterCancel} ms after Cancel, not at once (the carrier hangs 20 s)`);
    assert.match(await page.getByTestId('error').innerText(), /cancelled; the usage read so far is kept/);
    await fetchLive(page, s.proxyUrl, 'telecomx', { timeout: 1 });
    assert.match(await page.getByTestId('error').filter({ hasText: 'TelecomX' }).innerText(), /no answer within 1 s, 3 times/);
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
    await context.close();
  });
}
