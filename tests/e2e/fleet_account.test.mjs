// Fleet from the account: a sandbox account of 5,000 devices (--fleet 5000) listed page by page
// (Control Center, 100 pages of 50), counted, then fetched as cycle-to-date usage with the
// overage flags shown; ThingSpace's listing with a status filter; and a listing cancelled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchBrowser, openApp, sandboxCounts, shots } from './harness.mjs';

let stack;
let browser;
before(async () => {
  stack = await startStack({ sandbox: true, sandboxArgs: ['--fleet', '5000'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Opens the fleet form's account loader for `carrier` with the sandbox's credentials. */
async function openAccount(page, carrier) {
  await page.locator('[data-testid=fleet-wrap] > summary').click();
  await page.locator('[data-testid=fleet-account] summary').click();
  await page.getByTestId('fleet-account-carrier').selectOption(carrier);
  await page.getByTestId('fleet-proxy').fill(stack.proxyUrl);
  const fieldset = page.locator(`fieldset[data-carrier=${carrier}]`);
  if (carrier === 'thingspace') {
    await fieldset.locator('[data-field=key]').fill('demo-key');
    await fieldset.locator('[data-field=key-secret]').fill('demo-secret');
    await fieldset.locator('[data-field=user]').fill('demo');
    await fieldset.locator('[data-field=secret]').fill('demo');
  } else {
    await fieldset.locator('[data-field=user]').fill('demo');
    await fieldset.locator('[data-field=secret]').fill('demo-api-key');
  }
  return fieldset;
}

test('5,000 Control Center devices are listed from the account, counted, and fetched cycle to date', async () => {
  const { page, errors, context } = await openApp(browser, stack.appUrl);
  const control = await openAccount(page, 'control-center');
  const before = await sandboxCounts(stack);
  await page.getByTestId('fleet-account-list').click();
  const found = page.getByTestId('fleet-account-found');
  await found.waitFor({ timeout: 120_000 });
  assert.equal(await found.getAttribute('data-count'), '5000');
  assert.match(await found.textContent(), /5,000 devices found/);
  const after = await sandboxCounts(stack);
  assert.equal(after.requests - before.requests, 100, '100 pages of 50');

  // Cycle to date, from the sandbox account's billing day.
  await control.getByTestId('fleet-cc-endpoint').selectOption('ctd');
  await control.getByTestId('fleet-billing-day').fill('10');
  await page.getByTestId('fleet-concurrency').fill('16');
  await page.getByTestId('fleet-account-fetch').click();
  await page.getByTestId('fleet-count').filter({ hasText: '5000 subjects ready' }).waitFor();
  await page.waitForFunction(() => {
    const p = document.querySelector('[data-testid=fleet-progress]');
    return p && p.dataset.running === 'false' && Number(p.dataset.done) + Number(p.dataset.failed) === 5000;
  }, null, { timeout: 300_000 });
  const progress = page.getByTestId('fleet-progress');
  assert.equal(await progress.getAttribute('data-done'), '5000', await progress.textContent());
  assert.equal(await progress.getAttribute('data-failed'), '0');

  // Heavy users (5 % of the fleet) have reached their overage limit: listed and tagged.
  const overage = page.getByTestId('fleet-overage');
  await overage.waitFor();
  const flagged = Number(await overage.getAttribute('data-count'));
  assert.ok(flagged > 150 && flagged < 350, `${flagged} flagged`);
  assert.match(await overage.locator('summary').textContent(), /reached the overage limit/);
  await page.selectOption('#ul-fleet-top', '25');
  assert.ok(await page.getByTestId('fleet-overage-tag').count() > 0, 'the heaviest users are tagged');
  await page.screenshot({ path: join(shots, 'fleet-account.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('ThingSpace devices are listed with a status filter, and a slow listing can be cancelled', async () => {
  const { page, errors, context } = await openApp(browser, stack.appUrl);
  await openAccount(page, 'thingspace');
  await page.getByTestId('fleet-account-name').fill('0000123456-00001');
  await page.getByTestId('fleet-account-status').selectOption('active');
  await page.getByTestId('fleet-account-list').click();
  const found = page.getByTestId('fleet-account-found');
  await found.waitFor({ timeout: 60_000 });
  const active = Number(await found.getAttribute('data-count'));
  assert.ok(active > 4400 && active < 5000, `${active} active`);
  assert.doesNotMatch(await found.textContent(), /stopped early/);

  // Every page held back: the listing is cancelled after a few, keeping what it found.
  await page.route('**/devices/actions/list', async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    // A request cancelled while held is already handled by the browser: nothing to continue.
    await route.continue().catch(() => {});
  });
  await page.getByTestId('fleet-account-status').selectOption('');
  await page.getByTestId('fleet-account-list').click();
  await page.getByTestId('fleet-account-progress').filter({ hasText: /2 pages read/ }).waitFor({ timeout: 30_000 });
  await page.getByTestId('fleet-account-cancel').click();
  await found.waitFor();
  const kept = Number(await found.getAttribute('data-count'));
  assert.ok(kept >= 1000 && kept < 5000, `${kept} kept`);
  assert.match(await found.textContent(), /stopped early.*cancelled/s);
  // A wrong account name is the carrier's error, shown.
  await page.unrouteAll({ behavior: 'wait' });
  await page.getByTestId('fleet-account-name').fill('someone-else');
  await page.getByTestId('fleet-account-list').click();
  await page.getByTestId('fleet-account-found').filter({ hasText: /account name/ }).waitFor();
  // The browser logs the carrier's 400 for the wrong account; nothing else may go wrong.
  assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
  await context.close();
});

test('one device fetched cycle to date: the KPIs are the answer\'s quantities', async () => {
  const { page, errors, context } = await openApp(browser, stack.appUrl);
  const iccid = '8901170425801873534';
  const answer = await (await fetch(`${stack.sandboxUrl}/control-center/rws/api/v1/devices/${iccid}/ctdUsages`, {
    headers: { Authorization: `Basic ${btoa('demo:demo-api-key')}` },
  })).json();
  if (!(await page.getByTestId('fetch-live').evaluate((d) => d.open))) await page.getByTestId('fetch-live').locator('summary').click();
  await page.getByTestId('fetch-carrier').selectOption('control-center');
  await page.getByTestId('fetch-id').fill(iccid);
  await page.getByTestId('fetch-cc-endpoint').selectOption('ctd');
  await page.getByTestId('fetch-billing-day').fill('10');
  await page.getByTestId('fetch-user').fill('demo');
  await page.getByTestId('fetch-secret').fill('demo-api-key');
  await page.getByTestId('fetch-proxy').fill(stack.proxyUrl.replace(/\/$/, ''));
  await page.getByTestId('fetch-submit').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=kpi-data]')?.dataset.value) > 0, null, { timeout: 30_000 });
  assert.equal(await page.getByTestId('error').count(), 0, (await page.getByTestId('error').allInnerTexts()).join());
  const kpi = (name) => page.getByTestId(`kpi-${name}`).getAttribute('data-value').then(Number);
  assert.equal(await kpi('data'), answer.ctdDataUsage);
  assert.equal(await kpi('voice'), answer.ctdVoiceUsage);
  assert.equal(await kpi('sms'), answer.ctdSMSUsage);
  assert.deepEqual(errors, []);
  await context.close();
});
