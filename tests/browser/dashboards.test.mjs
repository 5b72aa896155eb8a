// Dashboards in a real browser: data pushed through the real Python
// `datadog` client for two hosts; a dashboard built in the UI (created, a
// template variable and a timeseries widget added through the forms,
// resized by dragging its corner, a save the server refuses showing its
// message, saved) shows the pushed values in its
// legend after a reload; switching the template variable changes the
// series (and live mode refreshes them); a dashboard exported from Datadog imports and renders its
// widgets (an unsupported type says so); clone and delete from the list; a
// read-only user sees no edit controls; the built-in internals dashboard
// opens.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, hasSignIn, python, screenshot, signIn, startAll, step, until } from './harness.mjs';

/** Two hosts, a point every 30 s over the past 14 minutes, each with its
 *  own constant value. */
const PUSH = `
import sys, time
from datadog import initialize, api
initialize(api_key=sys.argv[1], app_key=sys.argv[2], api_host=sys.argv[3])
now = int(time.time())
for host, value in {"web-1": 11, "web-2": 22}.items():
    points = [(t, value) for t in range(now - 840, now - 29, 30)]
    r = api.Metric.send(metric="dash.cpu", points=points, host=host, tags=["env:browser"])
    assert r.get("status") == "ok", r
`;

const QUERY = 'avg:dash.cpu{$host} by {host}';
const TITLE = 'Browser dashboard';
const WIDGET = 'CPU by host';
const READER = { email: 'reader@localhost', password: 'reader-password-123' };

let env;
let skip = false;
/** The id of the dashboard built in the first test. */
let built = null;

/** The legend rows of the widget titled `title`. */
const rowsOf = (page, title) => page.locator(`[data-testid=widget][data-title="${title}"] [data-testid=legend] .legend-row`);

/** `{label: value}` of the legend rows. */
const legend = (rows) => rows.evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.label, Number(e.dataset.value)])));

/** The values at the cursor, `fraction` across the widget's chart. */
async function valuesAt(page, title, fraction) {
  const widget = page.locator(`[data-testid=widget][data-title="${title}"]`);
  const box = await widget.locator('.u-over').boundingBox();
  assert.ok(box, 'the chart has a plot area');
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  await widget.getByTestId('legend-time').waitFor();
  await page.waitForTimeout(100);
  return legend(rowsOf(page, title));
}

const drawn = (page) => page.locator('[data-testid=dashboard][data-drawn=true]').waitFor({ timeout: 20_000 });

describe('dashboards', () => {
  before(async () => {
    // Self-monitoring every second: the internals dashboard has data soon.
    env = await startAll({ WHIPPET_SELF_MONITORING_INTERVAL_SECS: '1' });
    if (!(await hasSignIn(env.server))) {
      skip = 'the server has no sign-in API yet (POST /api/ui/login answers 404)';
      return;
    }
    await python(PUSH, [env.server.apiKey, env.server.appKey, env.server.url]);
    const now = Math.floor(Date.now() / 1000);
    const q = encodeURIComponent('avg:dash.cpu{*} by {host}');
    await until(async () => {
      const r = await env.server.request('GET', `/api/v1/query?from=${now - 900}&to=${now}&query=${q}`);
      return r.status === 200 && r.json.series.length === 2;
    }, 'the pushed series to be queryable');
  });

  after(async () => {
    await env?.stop();
  });

  test('a dashboard built in the UI shows the pushed values after a reload', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/dashboards');
      await signIn(page);
      await page.getByRole('button', { name: 'New dashboard' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Title').fill(TITLE);
      await dialog.getByRole('button', { name: 'Create' }).click();
      await page.waitForURL((u) => /^\/dashboards\/[\w-]+$/.test(u.pathname));
      built = new URL(page.url()).pathname.split('/')[2];
      // A new dashboard opens in edit mode.
      const title = page.getByRole('textbox', { name: 'Dashboard title' });
      assert.equal(await title.inputValue(), TITLE);

      // A template variable $host on the tag key host.
      await page.getByRole('button', { name: 'Variables & description' }).click();
      await page.getByRole('button', { name: '+ Add variable' }).click();
      assert.equal(await page.getByLabel('Variable 1 name').inputValue(), 'host');
      assert.equal(await page.getByLabel('Variable 1 tag key').inputValue(), 'host');

      // A timeseries widget through the form.
      await page.getByRole('button', { name: '+ Add widget' }).click();
      const editor = page.getByRole('dialog');
      assert.equal(await editor.getByLabel('Widget type').inputValue(), 'timeseries');
      await editor.getByLabel('Title').fill(WIDGET);
      const query = editor.getByRole('textbox', { name: 'Query a' });
      await query.fill(QUERY);
      await query.press('Escape');
      await query.press('Enter');
      // The preview draws the query before the widget is added.
      await until(async () => (await editor.locator('[data-testid=legend] .legend-row').count()) === 2, 'the preview');
      await screenshot(page, 'dashboards-widget-editor');
      await editor.getByRole('button', { name: 'Add widget' }).click();
      await editor.waitFor({ state: 'detached' });

      // Resize it by dragging its corner two columns narrower.
      const cell = page.locator('.grid-cell', { has: page.locator(`[data-title="${WIDGET}"]`) });
      assert.equal(await cell.getAttribute('data-layout'), '0,0,6,3');
      const grid = await page.locator('.dash .grid').boundingBox();
      const corner = await cell.locator('.resize-handle').boundingBox();
      const col = (grid.width + 12) / 12;
      await page.mouse.move(corner.x + 8, corner.y + 8);
      await page.mouse.down();
      await page.mouse.move(corner.x + 8 - 2 * col, corner.y + 8, { steps: 6 });
      await page.mouse.up();
      assert.equal(await cell.getAttribute('data-layout'), '0,0,4,3');
      await screenshot(page, 'dashboards-edit-mode');

      // A save the server refuses shows its message, and the edits stay.
      await page.getByRole('button', { name: '+ Add variable' }).click();
      await page.getByLabel('Variable 2 name').fill('host');
      await page.getByRole('button', { name: 'Save' }).click();
      const refused = page.getByRole('alert').filter({ hasText: 'Saving failed' });
      await refused.waitFor();
      assert.match(await refused.innerText(), /template/i);
      await page.getByRole('button', { name: 'Remove variable host' }).last().click();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByTestId('dashboard-title').filter({ hasText: TITLE }).waitFor();
      assert.equal(await refused.count(), 0);

      // What was saved is what a reload shows.
      await page.reload();
      await drawn(page);
      const rows = rowsOf(page, WIDGET);
      await until(async () => (await rows.count()) === 2, 'two series in the legend');
      assert.equal(await page.locator('.grid-cell', { has: page.locator(`[data-title="${WIDGET}"]`) }).getAttribute('data-layout'), '0,0,4,3');
      assert.deepEqual(await legend(rows), { 'host:web-1': 11, 'host:web-2': 22 });
      // The values at the cursor: 5 minutes ago, of the past hour.
      assert.deepEqual(await valuesAt(page, WIDGET, 55 / 60), { 'host:web-1': 11, 'host:web-2': 22 });
      assert.match(await rows.filter({ hasText: 'web-2' }).innerText(), /22/);
      // The performance mark the bench reads.
      assert.equal(await page.evaluate(() => performance.getEntriesByName('dashboard-drawn').length), 1);
      await screenshot(page, 'dashboards-built');
    });
  });

  test('switching a template variable changes the series', async (t) => {
    if (skip || !built) return t.skip(skip || 'no dashboard was built');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto(`/dashboards/${built}`);
      await signIn(page);
      const rows = rowsOf(page, WIDGET);
      await until(async () => (await rows.count()) === 2, 'both hosts');
      const select = page.getByRole('combobox', { name: '$host' });
      // The dropdown offers the host tag's values once the charts drew.
      await until(async () => (await select.locator('option').count()) === 3, 'the values of host');
      await select.selectOption('web-1');
      await page.waitForURL((u) => u.searchParams.get('tpl_var_host') === 'web-1');
      await until(async () => (await rows.count()) === 1, 'one host');
      assert.deepEqual(await legend(rows), { 'host:web-1': 11 });
      await screenshot(page, 'dashboards-template-variable');
      // The address keeps the choice.
      await page.reload();
      await drawn(page);
      assert.equal(await select.inputValue(), 'web-1');
      assert.deepEqual(await legend(rows), { 'host:web-1': 11 });
      // Back to all.
      await select.selectOption('*');
      await until(async () => (await rows.count()) === 2, 'both hosts again');
      // Live: the widgets are fetched again within seconds.
      await page.getByLabel('Live').check();
      await page.waitForURL((u) => u.searchParams.get('live') === '1');
      const status = page.getByTestId('dash-status');
      await until(async () => /Updated .* · live/.test(await status.innerText()), 'live mode');
      const seen = await status.innerText();
      await until(async () => (await status.innerText()) !== seen, 'a live refresh', 15_000);
      assert.equal(await rows.count(), 2);
    });
  });

  test('a dashboard exported from Datadog imports and renders its widgets', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      const exported = JSON.parse(readFileSync(join(ROOT, 'tests/e2e/fixtures/dashboard_export.json'), 'utf8'));
      // One widget type that does not render here.
      exported.widgets.push({
        id: 1111,
        definition: { type: 'hostmap', title: 'Host map', requests: { fill: { q: 'avg:system.cpu.user{*} by {host}' } } },
        layout: { x: 0, y: 10, width: 4, height: 2 },
      });
      await page.goto('/dashboards');
      await signIn(page);
      await page.getByRole('button', { name: 'Import JSON' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('textbox', { name: 'Dashboard JSON' }).fill(JSON.stringify(exported));
      await dialog.getByRole('button', { name: 'Import' }).click();
      await page.waitForURL((u) => /^\/dashboards\/[\w-]+$/.test(u.pathname) && !u.pathname.endsWith(exported.id));
      await page.getByTestId('dashboard-title').filter({ hasText: 'Checkout service (prod)' }).waitFor();
      await drawn(page);
      for (const title of ['CPU by host', 'Error ratio', 'p95 latency', 'Busiest hosts', 'Latency detail', 'Request latency distribution', 'Requests (window)', 'Host map']) {
        const w = page.locator(`[data-testid=widget][data-title="${title}"]`);
        assert.equal(await w.count(), 1, `the widget ${title}`);
        assert.ok(await w.locator('.widget-title').first().isVisible(), `the title of ${title} is visible`);
      }
      // The note's Markdown: bold and a link.
      const note = page.getByTestId('note');
      assert.equal(await note.locator('strong').innerText(), 'payments');
      assert.equal(await note.locator('a').getAttribute('href'), 'https://wiki.example.com/checkout');
      assert.equal(await page.locator('[data-testid=widget][data-title="Host map"] [data-testid=widget-unsupported]').innerText(), 'not supported yet: hostmap');
      // The template variables, with the export's defaults.
      assert.equal(await page.getByRole('combobox', { name: '$env' }).inputValue(), 'prod');
      assert.equal(await page.getByRole('combobox', { name: '$host' }).inputValue(), '*');
      await screenshot(page, 'dashboards-imported');
    });
  });

  test('clone and delete from the list', async (t) => {
    if (skip || !built) return t.skip(skip || 'no dashboard was built');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/dashboards');
      await signIn(page);
      await page.getByRole('link', { name: TITLE, exact: true }).waitFor();
      await screenshot(page, 'dashboards-list');
      await page.getByRole('button', { name: `Clone ${TITLE}` }).click();
      const dialog = page.getByRole('dialog');
      assert.equal(await dialog.getByLabel('Title of the copy').inputValue(), `${TITLE} (copy)`);
      await dialog.getByRole('button', { name: 'Clone' }).click();
      await page.getByTestId('dashboard-title').filter({ hasText: `${TITLE} (copy)` }).waitFor();
      await until(async () => (await rowsOf(page, WIDGET).count()) === 2, 'the copy draws its widget');

      await page.getByRole('link', { name: 'Dashboards' }).first().click();
      await page.getByLabel('Search dashboards').fill('copy');
      const rows = page.locator('.dash-table tbody tr');
      await until(async () => (await rows.count()) === 1, 'the search to keep the copy');
      await page.getByRole('button', { name: `Delete ${TITLE} (copy)` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await until(async () => (await rows.count()) === 0, 'the copy to be gone');
      await page.getByLabel('Search dashboards').fill('');
      await page.getByRole('link', { name: TITLE, exact: true }).waitFor();
    });
  });

  test('a read-only user sees no edit controls', async (t) => {
    if (skip || !built) return t.skip(skip || 'no dashboard was built');
    const admin = await env.newPage();
    await step(t, admin, env.server, async () => {
      await admin.goto('/dashboards');
      await signIn(admin);
      await admin.getByRole('button', { name: 'New dashboard' }).waitFor();
      const r = await admin.context().request.post('/api/ui/users', {
        headers: { 'X-Whippet-UI': '1' },
        data: { ...READER, name: 'Reader', role: 'read_only' },
      });
      assert.equal(r.status(), 201, await r.text());
    });
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/dashboards');
      await signIn(page, READER);
      await page.getByRole('link', { name: TITLE, exact: true }).waitFor();
      for (const name of ['New dashboard', 'Import JSON', `Clone ${TITLE}`, `Delete ${TITLE}`]) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
      }
      await page.getByRole('link', { name: TITLE, exact: true }).click();
      await until(async () => (await rowsOf(page, WIDGET).count()) === 2, 'the chart');
      for (const name of ['Edit', 'Clone', '+ Add widget', 'Save']) {
        assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`);
      }
      assert.equal(await page.locator('.resize-handle').count(), 0);
      // The server refuses anyway.
      const r = await page.context().request.delete(`/api/v1/dashboard/${built}`, { headers: { 'X-Whippet-UI': '1' } });
      assert.equal(r.status(), 403);
      await screenshot(page, 'dashboards-read-only');
    });
  });

  test('the internals dashboard opens', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/dashboards/wpt-int-dsh');
      await signIn(page);
      await page.getByTestId('dashboard-title').filter({ hasText: 'Whippet internals' }).waitFor();
      await drawn(page);
      assert.equal(await page.getByText('read-only', { exact: true }).count(), 1);
      assert.equal(await page.getByRole('button', { name: 'Edit', exact: true }).count(), 0);
      for (const title of ['Points stored by endpoint', 'Rejections by reason', 'Series', 'Query latency (seconds per request) by endpoint', 'DogStatsD']) {
        assert.equal(await page.locator(`[data-testid=widget][data-title="${title}"]`).count(), 1, `the widget ${title}`);
      }
      // The points pushed above are counted by the intake (written by
      // self-monitoring within a second or two).
      await until(async () => {
        if ((await rowsOf(page, 'Points stored by endpoint').count()) > 0) return true;
        await page.waitForTimeout(1000);
        await page.reload();
        await drawn(page);
        return false;
      }, 'the intake counters', 30_000);
      assert.equal(await page.locator('[data-testid=widget-error]').count(), 0, 'no widget failed');
      await screenshot(page, 'dashboards-internals');
    });
  });
});
