// The live-fetch and fleet forms: fieldsets (Subject, Period, Credentials, Proxy), no control
// wider than its card at 360, 768, 1280 and 1920 px, carrier-specific fields with the carrier,
// and "Remember these settings" keeping the non-secret settings only.
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

const LIST = ['identifier,carrier', '262026009980864,vodafone-vrs', '5c1b21b5a90b02f846f7bde1,telecomx',
  '89148000000000000019,thingspace', '8988216716970004973,control-center'].join('\n');

async function openForms(page) {
  await page.getByTestId('fetch-live').locator('summary').click();
  await page.getByTestId('fleet-wrap').locator(':scope > summary').click();
  await page.getByTestId('fleet-list').fill(LIST);
  await page.getByTestId('fleet-count').filter({ hasText: '4 subjects ready' }).waitFor();
}

/** Controls whose box leaves their card's content box (card border less padding). */
async function overflowing(page) {
  return page.evaluate(() => {
    const out = [];
    for (const form of document.querySelectorAll('[data-testid="fetch-live"], [data-testid="fleet-wrap"]')) {
      for (const control of form.querySelectorAll('input:not(.ul-visually-hidden), select, textarea, button')) {
        const r = control.getBoundingClientRect();
        if (r.width === 0) continue;
        const card = control.closest('.ul-card') || form;
        const c = card.getBoundingClientRect();
        const s = getComputedStyle(card);
        const left = c.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft);
        const right = c.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight);
        if (r.left < left - 0.5 || r.right > right + 0.5) {
          out.push(`${control.tagName.toLowerCase()}#${control.id || control.dataset.testid || control.dataset.field || ''}: ${Math.round(r.left)}-${Math.round(r.right)} outside ${Math.round(left)}-${Math.round(right)}`);
        }
      }
    }
    return out;
  });
}

for (const width of [360, 768, 1280, 1920]) {
  test(`at ${width} px no control of the fetch forms leaves its card, for every carrier`, async () => {
    const { page, context } = await openApp(browser, stack.appUrl, { viewport: { width, height: 900 } });
    await openForms(page);
    const legends = await page.getByTestId('fetch-live').locator('fieldset > legend').allTextContents();
    assert.deepEqual(legends, ['Subject', 'Period', 'Credentials', 'Proxy']);
    const fleetLegends = await page.getByTestId('fleet-wrap').locator('.ul-fieldset > legend').allTextContents();
    assert.deepEqual(fleetLegends, ['Subject', 'Period', 'Credentials', 'Proxy']);
    for (const carrier of ['vodafone-vrs', 'telecomx', 'thingspace', 'control-center']) {
      await page.getByTestId('fetch-carrier').selectOption(carrier);
      assert.deepEqual(await overflowing(page), [], `${carrier} at ${width} px`);
    }
    if (width === 360 || width === 1280) {
      await page.getByTestId('fetch-live').screenshot({ path: join(shots, `forms-live-${width}.png`) });
    }
    await context.close();
  });
}

test('carrier-specific fields come and go with the carrier', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  await openForms(page);
  const live = page.getByTestId('fetch-live');
  await page.getByTestId('fetch-carrier').selectOption('thingspace');
  assert.equal(await live.locator('#ul-device-kind').count(), 1);
  assert.equal(await page.getByTestId('fetch-key').count(), 1, 'ThingSpace application key');
  assert.equal(await page.getByTestId('fetch-use-token').count(), 0);
  await page.getByTestId('fetch-carrier').selectOption('vodafone-vrs');
  assert.equal(await live.locator('#ul-device-kind').count(), 0);
  assert.equal(await page.getByTestId('fetch-key').count(), 0);
  assert.equal(await page.getByTestId('fetch-use-token').count(), 1, 'Vodafone takes a bearer token');
  assert.match(await page.getByTestId('fieldset-period').first().textContent(), /no period to choose/);
  await page.getByTestId('fetch-carrier').selectOption('telecomx');
  assert.equal(await page.getByTestId('fetch-from').getAttribute('type'), 'month');
  // The fleet form asks for each carrier in the list, ThingSpace with its application key.
  const carriers = await page.locator('.ul-fleet-carrier').evaluateAll((f) => f.map((x) => x.dataset.carrier));
  assert.deepEqual(carriers.sort(), ['control-center', 'telecomx', 'thingspace', 'vodafone-vrs']);
  assert.equal(await page.locator('.ul-fleet-carrier[data-carrier="thingspace"] [data-field="key"]').count(), 1);
  assert.equal(await page.locator('.ul-fleet-carrier[data-carrier="telecomx"] [data-field="key"]').count(), 0);
  await context.close();
});

test('remembered settings come back after a reload; credentials are never stored', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  await openForms(page);
  await page.getByTestId('fetch-carrier').selectOption('control-center');
  await page.getByTestId('fetch-user').fill('user-SECRET-1');
  await page.getByTestId('fetch-secret').fill('key-SECRET-2');
  await page.getByTestId('fetch-proxy').fill('https://proxy.example/usage');
  await page.getByTestId('fetch-timeout').fill('45');
  await page.getByTestId('fleet-concurrency').fill('12');
  await page.getByTestId('fleet-proxy').fill('https://fleet-proxy.example');
  const ts = page.locator('.ul-fleet-carrier[data-carrier="thingspace"]');
  await ts.locator('[data-field="key"]').fill('app-key-SECRET-3');
  await ts.locator('[data-field="key-secret"]').fill('app-secret-SECRET-4');
  await ts.locator('[data-field="user"]').fill('fleet-user-SECRET-5');
  await ts.locator('[data-field="secret"]').fill('fleet-pass-SECRET-6');
  await ts.locator('[data-field="rate"]').fill('7');
  const stored = () => page.evaluate(() => JSON.stringify(Object.fromEntries(Object.entries(localStorage))));
  assert.equal(await stored(), '{}', 'nothing is stored before the user asks');
  await page.getByTestId('fetch-remember').check();
  await page.getByTestId('fleet-remember').check();
  const all = await stored();
  assert.doesNotMatch(all, /SECRET/, `no credential in localStorage: ${all}`);
  assert.match(all, /proxy\.example\/usage/);
  assert.match(all, /fleet-proxy\.example/);
  await page.reload();
  await page.waitForSelector('#usagelens-app main');
  await openForms(page);
  assert.equal(await page.getByTestId('fetch-carrier').inputValue(), 'control-center');
  assert.equal(await page.getByTestId('fetch-proxy').inputValue(), 'https://proxy.example/usage');
  assert.equal(await page.getByTestId('fetch-timeout').inputValue(), '45');
  assert.equal(await page.getByTestId('fetch-user').inputValue(), '', 'credentials are not restored');
  assert.equal(await page.getByTestId('fleet-concurrency').inputValue(), '12');
  assert.equal(await page.getByTestId('fleet-proxy').inputValue(), 'https://fleet-proxy.example');
  assert.equal(await page.locator('.ul-fleet-carrier[data-carrier="thingspace"] [data-field="rate"]').inputValue(), '7');
  assert.equal(await page.locator('.ul-fleet-carrier[data-carrier="thingspace"] [data-field="user"]').inputValue(), '');
  assert.equal(await page.getByTestId('fetch-remember').isChecked(), true);
  // Unticking forgets.
  await page.getByTestId('fetch-remember').uncheck();
  await page.getByTestId('fleet-remember').uncheck();
  assert.equal(await stored(), '{}');
  await context.close();
});
