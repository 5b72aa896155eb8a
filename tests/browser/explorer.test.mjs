// Sign-in and the metric explorer in a real browser: data pushed through the
// real Python `datadog` client for two hosts is drawn, and the legend shows
// the pushed values at the cursor; a bad query shows the parser's message at
// its position; the address restores the view; an expired session goes back
// to sign-in and then to where the user was.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasSignIn, python, screenshot, signIn, startAll, step, until } from './harness.mjs';

/** Two hosts, a point every 30 s over the past 14 minutes; each value steps
 *  up in the middle, so the value at the cursor differs from the latest. */
const PUSH = `
import sys, time
from datadog import initialize, api
initialize(api_key=sys.argv[1], app_key=sys.argv[2], api_host=sys.argv[3])
now = int(time.time())
for host, (old, new) in {"web-1": (10, 30), "web-2": (5, 15)}.items():
    points = [(t, old if t < now - 420 else new) for t in range(now - 840, now - 29, 30)]
    r = api.Metric.send(metric="browser.cpu", points=points, host=host, tags=["env:browser"])
    assert r.get("status") == "ok", r
`;

const QUERY = 'avg:browser.cpu{env:browser} by {host}';
const EXPLORER = `/explorer?q=${encodeURIComponent(QUERY)}&range=15m`;

let env;
let skip = false;

describe('explorer', () => {
  before(async () => {
    env = await startAll();
    if (!(await hasSignIn(env.server))) {
      skip = 'the server has no sign-in API yet (POST /api/ui/login answers 404)';
      return;
    }
    await python(PUSH, [env.server.apiKey, env.server.appKey, env.server.url]);
    const now = Math.floor(Date.now() / 1000);
    await until(async () => {
      const r = await env.server.request('GET', `/api/v1/query?from=${now - 900}&to=${now}&query=${encodeURIComponent(QUERY)}`);
      return r.status === 200 && r.json.series.length === 2;
    }, 'the pushed series to be queryable');
  });

  after(async () => {
    await env?.stop();
  });

  test('sign-in shows a wrong password, opens the deep link; sign-out signs out', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto(EXPLORER);
      await page.waitForURL(/\/signin\?next=/);
      await signIn(page, { password: 'not the password' });
      await page.getByRole('alert').filter({ hasText: 'Wrong e-mail or password' }).waitFor();
      await screenshot(page, 'signin-wrong-password');
      await signIn(page);
      await page.waitForURL((u) => u.pathname === '/explorer' && u.searchParams.get('q') === QUERY);
      await page.getByText('Admin', { exact: true }).first().waitFor();
      assert.equal(await page.getByRole('textbox', { name: 'Query a' }).inputValue(), QUERY);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((u) => u.pathname === '/signin');
      await page.goto(EXPLORER);
      await page.waitForURL(/\/signin\?next=/);
      await page.getByLabel('E-mail').waitFor();
    });
  });

  test('the chart shows the pushed values at the cursor', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto(EXPLORER);
      await signIn(page);
      const rows = page.locator('[data-testid=legend] .legend-row');
      await until(async () => (await rows.count()) === 2, 'two series in the legend');
      assert.deepEqual((await rows.evaluateAll((els) => els.map((e) => e.dataset.label))).sort(), ['host:web-1', 'host:web-2']);

      const box = await page.locator('[data-testid=chart] .u-over').boundingBox();
      assert.ok(box, 'the chart has a plot area');
      // 15 minutes wide: 20% from the left is 12 minutes ago (old values),
      // 85% is about 2 minutes ago (new values).
      const valuesAt = async (fraction) => {
        await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
        await page.getByTestId('legend-time').waitFor();
        await page.waitForTimeout(100);
        return Object.fromEntries(await rows.evaluateAll((els) => els.map((e) => [e.dataset.label, Number(e.dataset.value)])));
      };
      assert.deepEqual(await valuesAt(0.2), { 'host:web-1': 10, 'host:web-2': 5 });
      assert.deepEqual(await valuesAt(0.85), { 'host:web-1': 30, 'host:web-2': 15 });
      // What a person reads: the formatted values.
      assert.match(await rows.filter({ hasText: 'web-1' }).innerText(), /30/);
      await screenshot(page, 'explorer-two-hosts');

      // Dragging across the chart zooms: an absolute range in the address.
      await page.mouse.move(box.x + box.width * 0.3, box.y + 40);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + 40, { steps: 5 });
      await page.mouse.up();
      await page.waitForURL((u) => u.searchParams.has('from') && u.searchParams.has('to'));
      const u = new URL(page.url());
      const span = Number(u.searchParams.get('to')) - Number(u.searchParams.get('from'));
      assert.ok(span > 3.5 * 60_000 && span < 5.5 * 60_000, `zoomed to about 4.5 minutes, got ${span} ms`);
      await until(async () => (await rows.count()) === 2, 'the zoomed chart');
    });
  });

  test('a bad query shows the parser message at its position', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/explorer?range=15m');
      await signIn(page);
      const editor = page.getByRole('textbox', { name: 'Query a' });
      await editor.fill('avg:browser.cpu{host:web-1 by {host}');
      await editor.press('Escape');
      await editor.press('Enter');
      const error = page.locator('.qerror');
      await error.waitFor();
      assert.match(await error.innerText(), /Error parsing query: .*at position 27/);
      // The editor marks the character at the position ("by").
      assert.equal(await page.locator('.qbackdrop mark').innerText(), 'b');
      assert.equal(await editor.getAttribute('aria-invalid'), 'true');
      await screenshot(page, 'explorer-bad-query');
    });
  });

  test('the address restores the query, range and live mode', async (t) => {
    if (skip) return t.skip(skip);
    const first = await env.newPage();
    await step(t, first, env.server, async () => {
      await first.goto('/explorer');
      await signIn(first);
      const editor = first.getByRole('textbox', { name: 'Query a' });
      await editor.fill('avg:browser.cpu{*} by {host}');
      await editor.press('Escape');
      await editor.press('Enter');
      await first.getByRole('button', { name: '4h' }).click();
      await first.getByLabel('Live').check();
      await first.waitForURL((u) => u.searchParams.get('live') === '1');
    });
    const shared = first.url();
    const u = new URL(shared);
    assert.equal(u.searchParams.get('q'), 'avg:browser.cpu{*} by {host}');
    assert.equal(u.searchParams.get('range'), '4h');

    const second = await env.newPage();
    await step(t, second, env.server, async () => {
      await second.goto(shared);
      await signIn(second);
      await second.waitForURL(shared);
      assert.equal(await second.getByRole('textbox', { name: 'Query a' }).inputValue(), 'avg:browser.cpu{*} by {host}');
      assert.equal(await second.getByTestId('range-label').innerText(), 'Past 4 hours');
      assert.ok(await second.getByLabel('Live').isChecked());
      await until(async () => (await second.locator('[data-testid=legend] .legend-row').count()) === 2, 'the restored chart');
      // Live: the chart is fetched again within a few seconds.
      const status = second.getByTestId('status');
      await until(async () => /Updated .* · live/.test(await status.innerText()), 'the first live update');
      const seen = await status.innerText();
      await until(async () => (await status.innerText()) !== seen && /Updated/.test(await status.innerText()), 'a live refresh', 15_000);
    });
  });

  test('several queries share one chart, named a, b', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      const a = 'avg:browser.cpu{host:web-1}';
      const b = 'sum:browser.cpu{*}';
      await page.goto(`/explorer?q=${encodeURIComponent(a)}&q=${encodeURIComponent(b)}&range=15m`);
      await signIn(page);
      const rows = page.locator('[data-testid=legend] .legend-row');
      await until(async () => (await rows.count()) === 2, 'one series per query');
      const latest = Object.fromEntries(await rows.evaluateAll((els) => els.map((e) => [e.dataset.label, Number(e.dataset.value)])));
      assert.deepEqual(latest, { 'a · host:web-1': 30, 'b · sum:browser.cpu{*}': 45 });
      assert.equal(await page.getByRole('textbox', { name: 'Query b' }).inputValue(), b);
      await screenshot(page, 'explorer-two-queries');
    });
  });

  test('autocomplete offers metrics, tag keys and tag values', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/explorer');
      await signIn(page);
      const editor = page.getByRole('textbox', { name: 'Query a' });
      const list = page.getByRole('listbox');
      await editor.click();
      await editor.pressSequentially('avg:browser.c');
      await list.getByRole('option', { name: 'browser.cpu' }).waitFor();
      await editor.press('Enter');
      assert.equal(await editor.inputValue(), 'avg:browser.cpu');
      await editor.pressSequentially('{');
      await list.getByRole('option', { name: 'host:' }).click();
      await list.getByRole('option', { name: 'web-2' }).waitFor();
      await screenshot(page, 'explorer-autocomplete');
      await list.getByRole('option', { name: 'web-1' }).click();
      assert.equal(await editor.inputValue(), 'avg:browser.cpu{host:web-1');
      await editor.pressSequentially('}');
      await editor.press('Escape');
      await editor.press('Enter');
      await page.waitForURL((u) => u.searchParams.get('q') === 'avg:browser.cpu{host:web-1}');
      const rows = page.locator('[data-testid=legend] .legend-row');
      await until(async () => (await rows.count()) === 1, 'one series');
    });
  });

  test('an expired session returns to sign-in, then to the same view', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto(EXPLORER);
      await signIn(page);
      await page.waitForURL((u) => u.pathname === '/explorer');
      await until(async () => (await page.locator('[data-testid=legend] .legend-row').count()) === 2, 'the chart');
      const context = page.context();
      const cookies = await context.cookies();
      assert.ok(cookies.some((c) => c.name === 'whippet_session'), 'a session cookie is set');
      // The server forgets the session; the browser still sends the cookie.
      const out = await context.request.post('/api/ui/logout', { headers: { 'X-Whippet-UI': '1' } });
      assert.equal(out.status(), 204);
      await context.addCookies(cookies);
      await page.getByRole('button', { name: 'Run' }).click();
      await page.waitForURL(/\/signin\?next=/);
      await page.getByText('Your session has ended').waitFor();
      await signIn(page);
      await page.waitForURL((u) => u.pathname === '/explorer' && u.searchParams.get('q') === QUERY);
    });
  });
});
