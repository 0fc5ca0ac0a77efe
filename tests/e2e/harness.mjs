// Shared end-to-end harness: starts the carrier sandbox and nginx (serving dist/ and the CORS
// proxy) on free loopback ports, and launches Debian's Chromium through playwright-core.
// Every process it starts is stopped by `stop()`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shots = join(root, 'target', 'e2e');
mkdirSync(shots, { recursive: true });

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForPort(port, what, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const open = await new Promise((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port} within 30 s`);
}

/** Starts nginx over dist/ and the carrier proxy (in front of the sandbox when `sandbox` is
 * true, `sandboxArgs` passed to it; `sandboxRelease`: its release build); returns URLs and stop(). */
export async function startStack({ sandbox = false, sandboxArgs = [], dist = 'dist', tls = false, sandboxRelease = false } = {}) {
  if (!existsSync(join(root, dist, 'index.html'))) {
    throw new Error(`${dist}/ is missing: scripts/test.sh builds it (trunk build --release --offline, scripts/build-embed.sh)`);
  }
  const children = [];
  const env = { ...process.env };
  let upstream = 'http://127.0.0.1:9';
  let sandboxUrl = null;
  if (sandbox) {
    const sandboxPort = await freePort();
    // The benchmark runs the release build: the sandbox stands in for a carrier, and its own
    // processing time is not the latency being simulated.
    const profile = sandboxRelease ? 'release' : 'debug';
    const bin = join(root, 'target', profile, 'carrier-sandbox');
    execFileSync('cargo', ['build', '-q', '-p', 'carrier-sandbox', ...(sandboxRelease ? ['--release'] : [])], { cwd: root, stdio: 'inherit' });
    const child = spawn(bin, ['--port', String(sandboxPort), '--quiet', ...sandboxArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    await waitForPort(sandboxPort, 'carrier-sandbox', child);
    upstream = `http://127.0.0.1:${sandboxPort}`;
    sandboxUrl = upstream;
  }
  const appPort = await freePort();
  const proxyPort = await freePort();
  const runDir = mkdtempSync(join(tmpdir(), 'usagelens-nginx-'));
  // tls: the app and the proxy over HTTPS + HTTP/2 with a throwaway self-signed certificate
  // (the browser must be launched with ignoreCertificateErrors).
  const scheme = tls ? 'https' : 'http';
  const tlsEnv = {};
  if (tls) {
    tlsEnv.TLS_CERT = join(runDir, 'usagelens.crt');
    tlsEnv.TLS_KEY = join(runDir, 'usagelens.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', tlsEnv.TLS_KEY, '-out', tlsEnv.TLS_CERT], { stdio: 'ignore' });
  }
  const nginx = spawn(join(root, 'scripts', 'nginx.sh'), [], {
    env: {
      ...env,
      ...tlsEnv,
      APP_PORT: String(appPort),
      PROXY_PORT: String(proxyPort),
      RUN_DIR: runDir,
      DIST_DIR: join(root, dist),
      // nginx resolves upstream hosts when it starts and this machine has no DNS: tests point
      // the proxy at the sandbox, or at a closed loopback port when they need no carrier.
      VODAFONE_UPSTREAM: `${upstream}/vodafone`,
      TELECOMX_UPSTREAM: `${upstream}/telecomx`,
      THINGSPACE_UPSTREAM: `${upstream}/thingspace`,
      CONTROL_CENTER_UPSTREAM: `${upstream}/control-center`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(nginx);
  await waitForPort(appPort, 'nginx', nginx);
  await waitForPort(proxyPort, 'nginx proxy', nginx);
  return {
    // The app's origin proxies the carriers too (no CORS); proxyUrl is the proxy for other origins.
    appUrl: `${scheme}://127.0.0.1:${appPort}/`,
    proxyUrl: `${scheme}://127.0.0.1:${proxyPort}/`,
    sandboxUrl,
    async stop() {
      for (const child of children.reverse()) {
        if (child.exitCode === null) child.kill('SIGTERM');
      }
      await Promise.all(children.map((c) => c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))));
    },
  };
}

/** The sandbox's counts since it started: `{connections, requests}` (see sandbox/README.md). */
export async function sandboxCounts(st) {
  return (await fetch(`${st.sandboxUrl}/_sandbox/connections`)).json();
}

/** Debian's Chromium, with the flags this closed network needs. */
export async function launchBrowser({ ignoreCertificateErrors = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // For a stack started with tls: its certificate is self-signed.
      ...(ignoreCertificateErrors ? ['--ignore-certificate-errors'] : []),
    ],
  });
}

/** Opens the app and waits until it has mounted; collects page errors into `errors`. */
export async function openApp(browser, url, { viewport = { width: 1280, height: 900 }, colorScheme = 'light', ready = '#usagelens-app main', initScript } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  // Runs before the page's own scripts, e.g. to take away an API older browsers lack.
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector(ready, { timeout: 30_000 });
  return { page, context, errors };
}
