// How fast a dashboard draws: the issue's target is a dashboard of 10
// timeseries widgets × 100 series each over 1 day, drawn within 1 s of
// navigation.
//
// What it does:
//   1. starts the release `whippet serve` (fresh data directory, free ports);
//   2. loads 1 000 series × 1 day at one point every `--step` seconds
//      (default 10: 8.64 M points) through the HTTP intake
//      (`POST /api/v1/series`, gzip, 50 series a request), as 10 shards of
//      100 hosts;
//   3. creates the dashboard through the API: 10 timeseries widgets, widget
//      k drawing `avg:bench.ui.cpu{shard:k} by {host}` (100 series, 288
//      points each at 1 day);
//   4. opens `/dashboards/<id>?range=1d` in headless Chromium `--runs`
//      times (signed in once; the first run fetches the app's scripts, the
//      others have them cached, as a user who comes back) and reads the
//      performance mark `dashboard-drawn`, which the page sets when every
//      widget has drawn: its time is from navigation start;
//   5. prints each run and writes the dated results as Markdown (`--out`,
//      default bench/results/<today>-ui-dashboard.md).
//
// Run (not part of CI):
//   cargo build --release -p whippet
//   (cd tests/browser && npm ci)      # playwright-core, once
//   node bench/ui-bench/dashboard.mjs [--runs 15] [--step 10] [--out FILE]
//   ... --profile FILE.cpuprofile   # one more run under the CPU profiler
//                                   # (open in Chrome's DevTools); prints
//                                   # the functions with the most self time
//
// Needs Debian's Chromium (/usr/bin/chromium, or WHIPPET_CHROMIUM) and
// reuses the browser tests' harness (tests/browser/harness.mjs) for the
// server, the browser and signing in. `WHIPPET_BIN` overrides the binary.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
process.env.WHIPPET_BIN ??= join(ROOT, 'target/release/whippet');
const { Server, launchBrowser, signIn, VIEWPORT, CHROMIUM } = await import('../../tests/browser/harness.mjs');

// ---- Options

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const RUNS = Number(option('runs', '15'));
const STEP_S = Number(option('step', '10'));
const today = new Date().toISOString().slice(0, 10);
const OUT = resolve(option('out', join(ROOT, `bench/results/${today}-ui-dashboard.md`)));
const PROFILE = option('profile', null);

/** The dashboard's shape: the issue's target. */
const WIDGETS = 10;
const SERIES_PER_WIDGET = 100;
const DAY_S = 86_400;

/** Series per intake request: 50 × 8 640 points is about 9 MB of JSON,
 *  1.5 MB gzipped, inside v1's 3.2 MB body and 62 MiB decompressed. */
const SERIES_PER_REQUEST = 50;

/** How long one run may take before it counts as failed. */
const RUN_TIMEOUT_MS = 30_000;

// ---- Data

/** A CPU-like value: a daily wave, a per-host level and noise, one
 *  decimal (what agents send). */
function value(host, t) {
  const wave = Math.sin((2 * Math.PI * t) / DAY_S + host) * 15;
  const noise = Math.sin(t * 0.37 + host * 7.1) * 3;
  return Math.round((40 + (host % 20) + wave + noise) * 10) / 10;
}

async function load(server) {
  const now = Math.floor(Date.now() / 1000 / STEP_S) * STEP_S;
  const from = now - DAY_S;
  const hosts = WIDGETS * SERIES_PER_WIDGET;
  let points = 0;
  const started = Date.now();
  for (let first = 0; first < hosts; first += SERIES_PER_REQUEST) {
    const series = [];
    for (let h = first; h < Math.min(hosts, first + SERIES_PER_REQUEST); h++) {
      const pts = [];
      for (let t = from; t <= now; t += STEP_S) pts.push([t, value(h, t)]);
      points += pts.length;
      series.push({
        metric: 'bench.ui.cpu',
        type: 'gauge',
        host: `h${String(h).padStart(4, '0')}`,
        tags: [`shard:${Math.floor(h / SERIES_PER_WIDGET)}`, 'env:bench'],
        points: pts,
      });
    }
    const body = gzipSync(JSON.stringify({ series }));
    const r = await fetch(`${server.url}/api/v1/series`, {
      method: 'POST',
      headers: { 'DD-API-KEY': server.apiKey, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body,
    });
    if (r.status !== 202) throw new Error(`intake answered ${r.status}: ${await r.text()}`);
  }
  const secs = (Date.now() - started) / 1000;
  return { points, hosts, secs };
}

async function createDashboard(server) {
  const widgets = [];
  for (let k = 0; k < WIDGETS; k++) {
    widgets.push({
      definition: {
        type: 'timeseries',
        title: `Shard ${k}: CPU by host`,
        show_legend: true,
        requests: [{ q: `avg:bench.ui.cpu{shard:${k}} by {host}`, display_type: 'line' }],
      },
      layout: { x: (k % 2) * 6, y: Math.floor(k / 2) * 3, width: 6, height: 3 },
    });
  }
  const r = await server.request('POST', '/api/v1/dashboard', {
    body: { title: 'UI bench: 10 × 100 series', layout_type: 'ordered', reflow_type: 'fixed', widgets },
  });
  if (r.status !== 200) throw new Error(`creating the dashboard: ${r.status} ${r.text}`);
  return r.json.id;
}

// ---- Measuring

/** One navigation: the mark's time and what led to it. */
async function run(context, path) {
  const page = await context.newPage();
  try {
    await page.goto(path, { waitUntil: 'commit' });
    await page.waitForFunction(() => performance.getEntriesByName('dashboard-drawn').length > 0, null, { timeout: RUN_TIMEOUT_MS, polling: 50 });
    return await page.evaluate(() => {
      const drawn = performance.getEntriesByName('dashboard-drawn')[0].startTime;
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const queries = res.filter((r) => /\/api\/v[12]\/query/.test(r.name));
      const scripts = res.filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js'));
      const series = [...document.querySelectorAll('[data-testid=chart]')].reduce((n, c) => n + Number(c.parentElement.dataset.series || 0), 0);
      return {
        drawn,
        html: nav ? nav.responseEnd : null,
        scriptsEnd: scripts.length ? Math.max(...scripts.map((s) => s.responseEnd)) : null,
        firstQueryStart: queries.length ? Math.min(...queries.map((q) => q.startTime)) : null,
        lastQueryEnd: queries.length ? Math.max(...queries.map((q) => q.responseEnd)) : null,
        queries: queries.length,
        queryBytes: queries.reduce((a, q) => a + (q.encodedBodySize || 0), 0),
        series,
      };
    });
  } finally {
    await page.close();
  }
}

/** One more navigation under the CPU profiler (Chrome DevTools
 *  Protocol): writes the profile and prints where the self time went. */
async function profile(context, path, file) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.goto(path, { waitUntil: 'commit' });
  await page.waitForFunction(() => performance.getEntriesByName('dashboard-drawn').length > 0, null, { timeout: RUN_TIMEOUT_MS, polling: 50 });
  const { profile: prof } = await cdp.send('Profiler.stop');
  await page.close();
  writeFileSync(file, JSON.stringify(prof));
  const self = new Map();
  const dt = prof.timeDeltas ?? [];
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  (prof.samples ?? []).forEach((id, i) => {
    const n = byId.get(id);
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  console.log(`profile written to ${file}; self time (ms):`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${v.toFixed(1).padStart(7)}  ${k}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => (x === null || x === undefined ? '–' : `${Math.round(x)}`);

// ---- Main

const server = await Server.start();
let browser;
try {
  console.log(`whippet ${process.env.WHIPPET_BIN} on ${server.url}`);
  const data = await load(server);
  console.log(`loaded ${data.points.toLocaleString('en')} points (${data.hosts} series, step ${STEP_S} s) in ${data.secs.toFixed(1)} s`);
  const id = await createDashboard(server);
  const path = `/dashboards/${id}?range=1d`;

  browser = await launchBrowser();
  const context = await browser.newContext({ baseURL: server.url, viewport: VIEWPORT });
  const first = await context.newPage();
  await first.goto('/signin');
  await signIn(first);
  await first.waitForURL((u) => !u.pathname.startsWith('/signin'));
  await first.close();

  const loadBefore = loadavg()[0];
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run(context, path);
    if (r.series !== WIDGETS * SERIES_PER_WIDGET) throw new Error(`run ${i + 1}: ${r.series} series drawn, expected ${WIDGETS * SERIES_PER_WIDGET}`);
    results.push(r);
    console.log(
      `run ${String(i + 1).padStart(2)}: drawn ${ms(r.drawn)} ms (html ${ms(r.html)}, scripts ${ms(r.scriptsEnd)}, queries ${ms(r.firstQueryStart)}–${ms(r.lastQueryEnd)} ms, ${r.queries} queries, ${(r.queryBytes / 1e6).toFixed(1)} MB)`,
    );
  }

  if (PROFILE) await profile(context, path, resolve(PROFILE));

  const drawn = results.map((r) => r.drawn);
  const warm = drawn.slice(1);
  const chromium = execFileSync(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const summary = { median: median(drawn), max: Math.max(...drawn), first: drawn[0], warmMedian: warm.length ? median(warm) : null };
  console.log(`median ${ms(summary.median)} ms, max ${ms(summary.max)} ms (first run ${ms(summary.first)} ms)`);

  const md = `# UI: a dashboard of 10 timeseries × 100 series over 1 day (${today})

Made by \`node bench/ui-bench/dashboard.mjs --runs ${RUNS} --step ${STEP_S}\` (how it works: the script's header).

**Target** (issue 7): drawn within 1 s of navigation. **Result: median ${ms(summary.median)} ms, max ${ms(summary.max)} ms** from navigation start to the \`dashboard-drawn\` mark (every widget drawn) over ${RUNS} navigations; the first, which also fetched the app's scripts, took ${ms(summary.first)} ms.

| | |
|---|---|
| Machine | ${cpus().length} × ${cpu}; load average (1 min, this bench's own server and browser included) ${loadBefore.toFixed(2)} before the runs, ${loadavg()[0].toFixed(2)} after; other work may share the machine |
| Browser | ${chromium}, headless, ${VIEWPORT.width}×${VIEWPORT.height} |
| Server | \`whippet serve\`, release build, fresh data directory |
| Data | ${data.hosts} series × 1 day at ${STEP_S} s = ${data.points.toLocaleString('en')} points, loaded through \`POST /api/v1/series\` in ${data.secs.toFixed(1)} s |
| Dashboard | ${WIDGETS} timeseries widgets (6 × 3 cells), each \`avg:bench.ui.cpu{shard:k} by {host}\`: ${SERIES_PER_WIDGET} series × 288 points (300 s buckets), ${WIDGETS * SERIES_PER_WIDGET} series in all |

## Runs

Times in ms from navigation start (Navigation Timing): the HTML received, the
last script received, the widgets' query calls (first start – last
answer), and the mark; the answers' sizes as sent (gzip is not used by the server).

| run | HTML | scripts | queries | drawn | answers |
|---|---|---|---|---|---|
${results.map((r, i) => `| ${i + 1} | ${ms(r.html)} | ${ms(r.scriptsEnd)} | ${ms(r.firstQueryStart)} – ${ms(r.lastQueryEnd)} | **${ms(r.drawn)}** | ${r.queries} × ${(r.queryBytes / r.queries / 1e3).toFixed(0)} kB |`).join('\n')}

## Where the time goes

Navigation to the first query is the app (HTML, scripts, the session check
\`/api/ui/me\`, the dashboard's JSON); the queries run in parallel (Chromium
opens 6 connections to a host, so 10 queries go in two waves) and each widget
draws when its answer arrives; the mark follows the last draw.
`;
  writeFileSync(OUT, md);
  console.log(`wrote ${OUT}`);
} finally {
  await browser?.close().catch(() => {});
  await server.stop();
}
