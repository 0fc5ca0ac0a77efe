// Issue 18, the fetch side, against a tiny carrier written here (node:http) that also serves the
// built app, so the carrier and the app share one origin (as through the app server's own proxy):
// the page's cookies stay home, a redirect is not followed (its target hears nothing), answers
// and pasted text over their limits are refused with their size, and Cancel ends a fleet held
// by a huge Retry-After at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { root, launchBrowser, openApp } from './harness.mjs';

const dist = join(root, 'dist');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png',
  '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json', '.txt': 'text/plain',
};
const CC_ANSWER = readFileSync(join(root, 'crates/core/tests/fixtures/control-center-example.json'));
const MIB = 1024 * 1024;

/** A server on a free loopback port; `handle(req, res)` answers. */
async function listen(handle) {
  const server = createServer(handle);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${server.address().port}`;
  return server;
}

let app; // the app's files and the carrier, one origin
let elsewhere; // where the carrier redirects: must hear nothing
let browser;
let carrier = (req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }).end(CC_ANSWER); };
const heard = { app: [], carrier: [], elsewhere: [] };

before(async () => {
  if (!existsSync(join(dist, 'index.html'))) throw new Error('dist/ is missing: trunk build --release --offline');
  app = await listen((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.startsWith('/control-center/')) {
      heard.carrier.push({ method: req.method, url: req.url, headers: req.headers });
      return carrier(req, res);
    }
    heard.app.push({ url: req.url, headers: req.headers });
    let file = normalize(join(dist, path));
    if (!file.startsWith(dist)) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  elsewhere = await listen((req, res) => {
    heard.elsewhere.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, {
      'Access-Control-Allow-Origin': app.url, 'Access-Control-Allow-Headers': '*',
      'Access-Control-Allow-Methods': 'GET, POST', 'Content-Type': 'application/json',
    }).end(CC_ANSWER);
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  for (const s of [app, elsewhere]) {
    s?.closeAllConnections();
    await new Promise((r) => (s ? s.close(r) : r()));
  }
});

/** Opens the app with a cookie of its origin set (the carrier must never see it). */
async function open() {
  const opened = await openApp(browser, `${app.url}/`);
  await opened.context.addCookies([{ name: 'app_session', value: 'not-for-carriers', url: app.url }]);
  return opened;
}

/** Fetches Control Center's example device through the app's own origin and waits for the end. */
async function fetchControlCenter(page, { timeout } = {}) {
  if (!(await page.getByTestId('fetch-live').evaluate((d) => d.open))) await page.getByTestId('fetch-live').locator('summary').click();
  await page.getByTestId('fetch-carrier').selectOption('control-center');
  await page.getByTestId('fetch-id').fill('8901170425801873534');
  await page.getByTestId('fetch-user').fill('demo');
  await page.getByTestId('fetch-secret').fill('demo-api-key');
  await page.getByTestId('fetch-proxy').fill(app.url);
  if (timeout) await page.getByTestId('fetch-timeout').fill(String(timeout));
  await page.getByTestId('fetch-submit').click();
  await page.getByTestId('fetch-submit').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('[data-testid="fetch-cancel"]'), null, { timeout: 60_000 });
}

test('row 8: the page\'s cookies do not reach a carrier behind a same-origin proxy', async () => {
  const { page, context } = await open();
  heard.carrier.length = 0;
  carrier = (req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }).end(CC_ANSWER); };
  // The cookie is there: the page's own requests carry it.
  await page.evaluate(() => fetch('./index.html'));
  assert.match(heard.app.at(-1).headers.cookie ?? '', /app_session=not-for-carriers/);
  await fetchControlCenter(page);
  assert.equal(await page.getByTestId('error').count(), 0, await page.getByTestId('error').allInnerTexts().then(String));
  assert.equal(heard.carrier.length, 1);
  assert.equal(heard.carrier[0].headers.cookie, undefined, 'no Cookie header went to the carrier');
  await context.close();
});

test('row 9: a redirect is not followed, its target hears nothing, and the app says so', async () => {
  const { page, context, errors } = await open();
  heard.elsewhere.length = 0;
  carrier = (req, res) => { res.writeHead(307, { Location: `${elsewhere.url}${req.url}` }).end(); };
  await fetchControlCenter(page);
  assert.match(await page.getByTestId('error').innerText(), /the answer was a redirect to another address.*does not follow redirects, so the credentials were not sent on/s);
  assert.deepEqual(heard.elsewhere, [], 'the redirect target received nothing');
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('row 7: an answer announcing more than the limit is refused before its body is read', async () => {
  const { page, context } = await open();
  const announced = 70 * MIB;
  carrier = (req, res) => {
    // Announces 70 MiB, sends 1 KiB, then waits: an app reading the whole body waits forever.
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(announced) });
    res.write(Buffer.alloc(1024, 0x20));
  };
  const started = Date.now();
  await fetchControlCenter(page, { timeout: 20 });
  assert.match(await page.getByTestId('error').innerText(), /the answer is 70\.0 MiB \(73400320 bytes\), over the limit of 64 MiB read per answer/);
  assert.ok(Date.now() - started < 10_000, 'refused on the header, not after a timeout');
  app.closeAllConnections();
  await context.close();
});

test('row 7: an answer that streams past the limit is cut off there', async () => {
  const { page, context } = await open();
  let written = 0;
  carrier = (req, res) => {
    // No length announced: 1 MiB chunks until 80 MiB or the client goes away.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = Buffer.alloc(MIB, 0x20);
    const more = () => {
      while (written < 80 * MIB && !res.destroyed) {
        written += MIB;
        if (!res.write(chunk)) return res.once('drain', more);
      }
      res.end();
    };
    res.on('close', () => { written = Infinity; });
    more();
  };
  await fetchControlCenter(page, { timeout: 30 });
  assert.match(await page.getByTestId('error').innerText(), /MiB \(\d+ bytes\) of the answer had arrived when reading stopped, over the limit of 64 MiB read per answer/);
  await context.close();
});

test('row 7: pasted text over the limit is refused with its size, and stays in the box', async () => {
  const { page, context } = await open();
  const size = 17 * MIB;
  await page.getByTestId('import-paste').evaluate((box, size) => {
    box.value = '{' + ' '.repeat(size - 1);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, size);
  await page.getByTestId('import-paste-submit').click();
  assert.match(await page.getByTestId('error').innerText(), /the pasted text is 17\.0 MiB \(17825792 bytes\), over the limit of 16 MiB for pasted text/);
  assert.equal(await page.getByTestId('import-paste').evaluate((box) => box.value.length), size, 'nothing lost');
  await context.close();
});

/** A Control Center ICCID with a valid Luhn check digit, from 18 digits. */
function iccid(body) {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return body + ((10 - (sum % 10)) % 10);
}

test('row 5: Cancel ends a fleet held by Retry-After: 999999 at once', async () => {
  const { page, context } = await open();
  let requests = 0;
  carrier = (req, res) => {
    requests += 1;
    if (requests === 1) {
      return res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '999999' })
        .end('{"errorCode":"tooManyRequests","errorMessage":"API rate limit exceeded."}');
    }
    // The others come back after the 429 taught the limiter its hold.
    setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(CC_ANSWER), 300);
  };
  const list = ['identifier,carrier', ...[1, 2, 3, 4].map((n) => `${iccid(`89011704258018735${n}`)},control-center`)].join('\n');
  await page.locator('[data-testid=fleet-wrap] > summary').click();
  await page.getByTestId('fleet-list').fill(list);
  await page.getByTestId('fleet-count').filter({ hasText: '4 subjects ready' }).waitFor();
  const control = page.locator('fieldset[data-carrier=control-center]');
  await control.locator('[data-field=user]').fill('demo');
  await control.locator('[data-field=secret]').fill('demo-api-key');
  await page.getByTestId('fleet-concurrency').fill('2');
  await page.getByTestId('fleet-proxy').fill(app.url);
  await page.getByTestId('fleet-start').click();
  // By now one subject waits on its own 429, and the one after the subject answered 200 waits
  // on the carrier's hold.
  await page.waitForTimeout(1_500);
  assert.equal(requests, 2);
  const cancelledAt = Date.now();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=fleet-progress]')?.dataset.running === 'false', null, { timeout: 5_000 });
  const took = Date.now() - cancelledAt;
  assert.ok(took < 1_500, `the fleet ended ${took} ms after Cancel`);
  assert.equal(requests, 2, 'nothing more went to the held carrier');
  await context.close();
});
