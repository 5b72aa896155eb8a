// The browser-test harness: a real `whippet serve` (fresh data directory,
// free ports, known keys and admin password), Debian's Chromium driven by
// playwright-core, the real Python `datadog` client to push data, and
// screenshots.
//
// Tests are `*.test.mjs` files beside this one, run by Node's test runner
// (`node --test tests/browser/`, from scripts/test). Each file starts its
// own server and browser in `before` and stops them in `after`:
//
//   const env = await startAll();      // { server, browser }
//   const page = await env.newPage();
//   await signIn(page, env.server);
//   ...
//   await env.stop();
//
// `step(t, page, fn)` runs a test's body and keeps a screenshot when it
// fails (target/browser-screenshots/<test name>-FAILED.png).
//
// Never download a browser (`npx playwright install`): the tests use
// /usr/bin/chromium (scripts/test-deps installs Debian's package).

import { spawn, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WHIPPET_BIN = process.env.WHIPPET_BIN || join(ROOT, 'target/debug/whippet');
export const PYTHON = process.env.WHIPPET_E2E_PYTHON || join(ROOT, 'target/e2e-venv/bin/python');
export const CHROMIUM = process.env.WHIPPET_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'target/browser-screenshots');

export const API_KEY = 'browser0api0key00000000000000001';
export const APP_KEY = 'browser0app0key0000000000000000000000001';
export const ADMIN_EMAIL = 'admin@localhost';
export const ADMIN_PASSWORD = 'browser-test-admin-password';

/** The flags Debian's Chromium needs headless in a container, and no
 *  traffic to anywhere but the server under test. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A laptop's screen. */
export const VIEWPORT = { width: 1366, height: 820 };

/** How long the server may take to answer its first request: a debug
 *  build opens its stores and binds its listeners in about a second. */
const READY_TIMEOUT_MS = 60_000;

export function freePort(kind = 'tcp') {
  return new Promise((ok, fail) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.on('error', fail);
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => ok(port));
      });
      return;
    }
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A running `whippet serve`. */
export class Server {
  static async start(extraEnv = {}) {
    if (!existsSync(WHIPPET_BIN)) throw new Error(`no whippet binary at ${WHIPPET_BIN}: run cargo build -p whippet`);
    const s = new Server();
    s.tmp = mkdtempSync(join(tmpdir(), 'whippet-browser-'));
    s.dataDir = join(s.tmp, 'data');
    mkdirSync(s.dataDir);
    s.port = await freePort();
    s.url = `http://127.0.0.1:${s.port}`;
    s.apiKey = API_KEY;
    s.appKey = APP_KEY;
    s.logPath = join(s.tmp, 'server.log');
    const log = openSync(s.logPath, 'w');
    s.proc = spawn(WHIPPET_BIN, ['serve'], {
      env: {
        ...process.env,
        WHIPPET_DATA_DIR: s.dataDir,
        WHIPPET_HTTP_ADDR: `127.0.0.1:${s.port}`,
        WHIPPET_DOGSTATSD_ADDR: `127.0.0.1:${await freePort('udp')}`,
        WHIPPET_API_KEY: API_KEY,
        WHIPPET_APP_KEY: APP_KEY,
        WHIPPET_ADMIN_PASSWORD: ADMIN_PASSWORD,
        WHIPPET_LOG: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', log, log],
    });
    s.exited = new Promise((r) => s.proc.on('exit', (code, signal) => r({ code, signal })));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (s.proc.exitCode !== null) throw new Error(`whippet exited with ${s.proc.exitCode}:\n${s.log()}`);
      try {
        const r = await s.request('GET', '/api/v1/validate');
        if (r.status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`whippet did not become ready:\n${s.log()}`);
      await sleep(100);
    }
    return s;
  }

  log() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** An API call with the Datadog keys (or `keys: null` for none). */
  async request(method, path, { body, headers = {}, keys = [this.apiKey, this.appKey] } = {}) {
    const h = { ...headers };
    if (keys) {
      h['DD-API-KEY'] = keys[0];
      h['DD-APPLICATION-KEY'] = keys[1];
    }
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(this.url + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, json, text };
  }

  /** Stops the server with SIGTERM and removes its data; throws if it did
   *  not exit cleanly. */
  async stop() {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 60_000);
      const { code, signal } = await this.exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`whippet exited with ${code ?? signal}:\n${this.log()}`);
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Whether the server has the sign-in API (the users module). */
export async function hasSignIn(server) {
  const r = await server.request('POST', '/api/ui/login', {
    keys: null,
    body: { email: 'nobody@localhost', password: 'x' },
    headers: { 'X-Whippet-UI': '1' },
  });
  return r.status !== 404;
}

/** Starts Chromium. */
export function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/test-deps (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A server and a browser, and pages on that server. */
export async function startAll(extraEnv = {}) {
  const server = await Server.start(extraEnv);
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.stop();
    throw e;
  }
  const contexts = [];
  return {
    server,
    browser,
    /** A page in a new browser context (its own cookies). Uncaught page
     *  errors and CSP violations are collected in `page.problems`. */
    async newPage() {
      const context = await browser.newContext({ baseURL: server.url, viewport: VIEWPORT });
      contexts.push(context);
      const page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) page.problems.push(`console: ${m.text()}`);
      });
      return page;
    },
    async stop() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close().catch(() => {});
      await server.stop();
    },
  };
}

/** Signs in through the sign-in page (the page must show it). */
export async function signIn(page, { email = ADMIN_EMAIL, password = ADMIN_PASSWORD } = {}) {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const shotPath = (name) => join(SCREENSHOTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);

/** Saves a screenshot as target/browser-screenshots/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = shotPath(name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Runs a test body; on failure keeps a screenshot of `page` and adds the
 *  server's log tail to the error. */
export async function step(t, page, server, fn) {
  // A screenshot of an earlier failed run would be taken for this one's.
  rmSync(shotPath(`${t.name}-FAILED`), { force: true });
  try {
    await fn();
    if (page.problems.length) throw new Error(`the page reported problems:\n${page.problems.join('\n')}`);
  } catch (e) {
    const shot = await screenshot(page, `${t.name}-FAILED`).catch((err) => `(no screenshot: ${err.message})`);
    e.message += `\nscreenshot: ${shot}\nserver log (tail):\n${server.log().split('\n').slice(-30).join('\n')}`;
    throw e;
  }
}

/** Runs Python code with the pinned real clients (target/e2e-venv); `args`
 *  become `sys.argv[1:]`. Resolves to stdout. */
export function python(code, args = []) {
  return new Promise((ok, fail) => {
    execFile(PYTHON, ['-c', code, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`python failed: ${err.message}\n${stderr}`));
      else ok(stdout);
    });
  });
}

/** Polls `f` until it returns a truthy value. */
export async function until(f, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
