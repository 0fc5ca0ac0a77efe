// The release build, served by nginx, mounts its first screen and exposes parseUsage.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import http2 from 'node:http2';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
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

test('the first screen mounts and is screenshotted', async () => {
  const { page, errors, context } = await openApp(browser, stack.appUrl);
  await page.getByTestId('load-demo').waitFor();
  await page.screenshot({ path: join(shots, 'first-screen.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('window.wasmBindings.parseUsage reads a body and throws a located error', async () => {
  const { page, context } = await openApp(browser, stack.appUrl);
  const body = readFileSync(join(root, 'crates/core/tests/fixtures/control-center-example.json'), 'utf8');
  const result = await page.evaluate((text) => {
    const r = window.wasmBindings.parseUsage(text);
    return { carrier: r.carrier, n: r.records.length, data: r.records.filter((x) => x.service === 'data').reduce((a, x) => a + x.quantity, 0) };
  }, body);
  assert.deepEqual(result, { carrier: 'control-center', n: 15, data: 3670016 });
  const message = await page.evaluate(() => {
    try { window.wasmBindings.parseUsage('{"usageHistory": [,]}'); return 'no error'; } catch (e) { return `${e instanceof Error}: ${e.message}`; }
  });
  assert.match(message, /^true: .*line 1, column/);
  await context.close();
});

test('the app goes out as its brotli or zopfli copies, hashed files cached for good and index.html checked again', async () => {
  const get = (path, encoding) => new Promise((resolve, reject) => {
    // node:http does not decompress, so the body is what went over the wire.
    http.get(new URL(path, stack.appUrl), { headers: { 'Accept-Encoding': encoding } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
  // Trunk's hash is a u64 in hex without leading zeros: 16 digits, or fewer one build in sixteen.
  const wasm = readdirSync(join(root, 'dist')).find((f) => /-[0-9a-f]{1,16}_bg\.wasm$/.test(f));
  assert.ok(wasm, 'a hashed wasm in dist/');
  const original = readFileSync(join(root, 'dist', wasm));
  const gzipped = await get(wasm, 'gzip');
  assert.equal(gzipped.headers['content-encoding'], 'gzip');
  assert.equal(gzipped.headers['content-type'], 'application/wasm');
  assert.match(gzipped.headers['cache-control'], /immutable/);
  assert.deepEqual(gzipped.body, readFileSync(join(root, 'dist', `${wasm}.gz`)), 'the precompressed copy, not nginx compressing on the fly');
  assert.ok(gunzipSync(gzipped.body).equals(original));
  // zopfli's, which beats the best zlib does.
  const gzip9 = gzipSync(original, { level: 9 }).length;
  assert.ok(gzipped.body.length < gzip9 * 0.98, `${gzipped.body.length} bytes gzipped, gzip -9 makes ${gzip9}`);
  // Browsers that take brotli get the .br copy, a fifth smaller again.
  const brotli = await get(wasm, 'gzip, deflate, br');
  assert.equal(brotli.headers['content-encoding'], 'br');
  assert.match(brotli.headers['cache-control'], /immutable/);
  assert.deepEqual(brotli.body, readFileSync(join(root, 'dist', `${wasm}.br`)));
  assert.ok(brotliDecompressSync(brotli.body).equals(original));
  assert.ok(brotli.body.length < gzipped.body.length * 0.85, `${brotli.body.length} bytes in brotli, ${gzipped.body.length} gzipped`);
  for (const encoding of ['gzip', 'br']) {
    const index = await get('./', encoding);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.equal(index.headers['content-encoding'], encoding);
  }
});

test('the carrier proxy answers preflights for allowed origins only', async () => {
  const preflight = (origin) => fetch(`${stack.proxyUrl}thingspace/api/m2m/v1/devices/usage/actions/list`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,vz-m2m-token' },
  });
  const allowed = await preflight(stack.appUrl.replace(/\/$/, ''));
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), stack.appUrl.replace(/\/$/, ''));
  assert.match(allowed.headers.get('access-control-allow-headers'), /VZ-M2M-Token/);
  const other = await preflight('http://evil.example');
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('the proxy keeps an HTTP/2 connection open for a whole fleet of requests', async () => {
  // nginx closes a connection after 1000 requests by default; Chromium then fails a few of the
  // requests in flight. Preflights are answered by nginx itself, so no carrier is needed.
  const tlsStack = await startStack({ tls: true });
  const client = http2.connect(tlsStack.proxyUrl, { rejectUnauthorized: false });
  try {
    let goaway = null;
    client.on('goaway', (code, lastStreamId) => { goaway ??= { code, lastStreamId }; });
    const origin = tlsStack.appUrl.replace(/\/$/, '');
    const preflight = (n) => new Promise((resolve, reject) => {
      const req = client.request({
        ':method': 'OPTIONS', ':path': `/control-center/rws/api/v1/devices/${n}/usageInZone`,
        origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization',
      });
      req.on('response', (headers) => resolve(headers[':status']));
      req.on('error', reject);
      req.resume();
      req.end();
    });
    const statuses = new Map();
    for (let batch = 0; batch < 15; batch++) {
      for (const status of await Promise.all(Array.from({ length: 100 }, (_, i) => preflight(batch * 100 + i)))) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    assert.deepEqual([...statuses], [[204, 1500]]);
    assert.equal(goaway, null, `the proxy closed the connection: ${JSON.stringify(goaway)}`);
  } finally {
    client.close();
    await tlsStack.stop();
  }
});
