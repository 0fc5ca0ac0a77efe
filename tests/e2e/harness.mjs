// Shared end-to-end harness: starts the carrier sandbox and nginx (serving dist/ and the CORS
// proxy) on free loopback ports, and launches Debian's Chromium through playwright-core.
// Every process it starts is stopped by `stop()`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
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
 * true, `sandboxArgs` passed to it; `sandboxRelease`: its release build); returns URLs and stop().
 * `upstreams` overrides carriers' upstreams (e.g. `{ THINGSPACE: 'https://127.0.0.1:4443/thingspace' }`),
 * `proxyCaFile` is the CA bundle the proxy verifies carriers' certificates with (PROXY_CA_FILE),
 * `sandboxHeaders` renders the proxy for the sandbox (PROXY_FOR_SANDBOX: its X-Sandbox-Fault
 * header allowed in CORS; by default when `sandbox` is true). */
export async function startStack({ sandbox = false, sandboxArgs = [], dist = 'dist', tls = false, sandboxRelease = false, upstreams = {}, proxyCaFile, sandboxHeaders = sandbox } = {}) {
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
      ...Object.fromEntries(Object.entries(upstreams).map(([carrier, url]) => [`${carrier}_UPSTREAM`, url])),
      ...(proxyCaFile ? { PROXY_CA_FILE: proxyCaFile } : {}),
      PROXY_FOR_SANDBOX: sandboxHeaders ? '1' : '',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(nginx);
  await waitForPort(appPort, 'nginx', nginx);
  await waitForPort(proxyPort, 'nginx proxy', nginx);
  return {
    // The app's origin proxies the carriers too (no CORS); proxyUrl is the proxy for other origins.
    appUrl: `${scheme}://127.0.0.1:${appPort}/`,
    runDir,
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

// Content-Security-Policy violations seen by any page of this process since the last
// `assertNoCspViolations()`: every test file calls it after each test (afterEach), so a test
// fails when the app or the embedding example did anything the policy refuses.
const cspViolations = [];

/** Throws (failing the test it runs after) if a page broke the Content-Security-Policy. */
export function assertNoCspViolations() {
  const seen = cspViolations.splice(0);
  if (seen.length) throw new Error(`Content-Security-Policy violations:\n${seen.join('\n')}`);
}

/** Makes `context`'s pages report CSP violations (the `securitypolicyviolation` event, and the
 * console's CSP messages) into the list `assertNoCspViolations` checks, and into `errors`. */
async function watchCsp(context, errors) {
  const record = (text) => { cspViolations.push(text); errors.push(text); };
  await context.exposeBinding('__usagelensCspViolation', (_source, text) => record(text));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__usagelensCspViolation(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || location.href}:${e.lineNumber} ${e.sample || ''}`);
    }, true);
  });
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) record(`CSP console message: ${m.text()}`);
  });
}

/** Opens the app and waits until it has mounted; collects page errors (CSP violations
 * included) into `errors`. */
export async function openApp(browser, url, { viewport = { width: 1280, height: 900 }, colorScheme = 'light', ready = '#usagelens-app main', initScript } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  const errors = [];
  await watchCsp(context, errors);
  // Runs before the page's own scripts, e.g. to take away an API older browsers lack.
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector(ready, { timeout: 30_000 });
  return { page, context, errors };
}

/** Throwaway certificates in a new temporary directory, all for 2 days, EC P-256:
 * `ca` (a test CA: `caCert`), `good` (signed by it, for 127.0.0.1), `wrongName` (signed by it, for
 * carrier.example) and `selfSigned` (for 127.0.0.1, signed by itself); each `{ cert, key }` paths. */
export function makeTestCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'usagelens-pki-'));
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name) => { const path = join(dir, `${name}.key`); openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path); return path; };
  const caKey = key('ca');
  const caCert = join(dir, 'ca.crt');
  openssl('req', '-x509', '-new', '-key', caKey, '-days', '2', '-subj', '/CN=usagelens test CA', '-out', caCert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const signed = (name, san) => {
    const leafKey = key(name);
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    const cert = join(dir, `${name}.crt`);
    openssl('req', '-new', '-key', leafKey, '-subj', `/CN=${name}`, '-out', csr);
    writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    openssl('x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert);
    return { cert, key: leafKey };
  };
  const selfKey = key('self-signed');
  const selfCert = join(dir, 'self-signed.crt');
  openssl('req', '-x509', '-new', '-key', selfKey, '-days', '2', '-subj', '/CN=127.0.0.1', '-out', selfCert,
    '-addext', 'subjectAltName=DNS:127.0.0.1,IP:127.0.0.1');
  return {
    caCert,
    good: signed('good', 'DNS:127.0.0.1,IP:127.0.0.1'),
    wrongName: signed('wrong-name', 'DNS:carrier.example'),
    selfSigned: { cert: selfCert, key: selfKey },
  };
}

/** An HTTPS carrier on a free loopback port with the certificate `{ cert, key }`: it passes each
 * request on to `target` (the sandbox's URL) and its answer back, adding a `Set-Cookie`. `requests`
 * holds what it received (`{ method, url, headers }`). */
export async function startTlsUpstream({ cert, key }, target) {
  const requests = [];
  const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    const { host, ...headers } = req.headers;
    const forward = httpRequest(`${target}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode, { ...answer.headers, 'set-cookie': 'carrier-session=from-the-carrier; Path=/' });
      answer.pipe(res);
    });
    forward.on('error', (e) => { res.writeHead(599); res.end(String(e)); });
    req.pipe(forward);
  });
  // The handshakes nginx refuses end in TLS errors here: expected, not worth a log line.
  server.on('tlsClientError', () => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${server.address().port}`,
    requests,
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
