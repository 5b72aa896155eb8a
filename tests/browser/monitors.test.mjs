// Monitors, events, hosts and the admin page in a real browser, against a
// server that evaluates monitors every second:
// - the admin creates a monitor in the form: the live chart draws the
//   pushed series and the threshold line while typing, a warning threshold
//   on the wrong side shows the server's 400 message, and it saves;
// - the list shows it, and its status goes to Alert after a high value is
//   pushed (through the real Python `datadog` client); the detail page
//   draws the Alert span on its timeline, mutes, unmutes and schedules a
//   downtime;
// - the admin creates a read-only user and a key in /admin; signed in as
//   that user, the monitor pages have no controls that change anything and
//   a direct POST with the session cookie is refused (403);
// - the events page lists the monitor's transition event; the hosts page
//   lists the pushed hosts with a link to their metrics that works.
//
// The tests run in order and share the server: each one builds on what
// the one before made.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCREENSHOTS, hasSignIn, python, screenshot, signIn, startAll, step, until } from './harness.mjs';

/** Two hosts over the past 10 minutes, a point every 30 s: `browser.load`
 *  (mon-1 at 15, mon-2 at 10) and, for mon-1 only, `system.cpu.user`. */
const PUSH = `
import sys, time
from datadog import initialize, api
initialize(api_key=sys.argv[1], app_key=sys.argv[2], api_host=sys.argv[3])
now = int(time.time())
for host, v in {"mon-1": 15, "mon-2": 10}.items():
    points = [(t, v) for t in range(now - 600, now - 29, 30)]
    r = api.Metric.send(metric="browser.load", points=points, host=host, tags=["env:browser", "team:web"])
    assert r.get("status") == "ok", r
r = api.Metric.send(metric="system.cpu.user", points=[(t, 42) for t in range(now - 600, now - 29, 30)], host="mon-1", tags=["env:browser"])
assert r.get("status") == "ok", r
`;

/** mon-1 jumps to 500 for the last 30 s: its 5-minute average crosses 50. */
const PUSH_HIGH = `
import sys, time
from datadog import initialize, api
initialize(api_key=sys.argv[1], app_key=sys.argv[2], api_host=sys.argv[3])
now = int(time.time())
r = api.Metric.send(metric="browser.load", points=[(now - 20, 500), (now - 10, 500), (now, 500)], host="mon-1", tags=["env:browser", "team:web"])
assert r.get("status") == "ok", r
`;

const METRIC = 'avg:browser.load{env:browser} by {host}';
const NAME = 'Browser load is high';
const VIEWER = { email: 'viewer@localhost', password: 'viewer-password-1' };

let env;
let skip = false;
/** The monitor the form created. */
let monitorId = null;

const rowsOf = (page) => page.locator('[data-testid=monitor-list] tbody tr');

/** A full-page screenshot from the top (the sticky bar would otherwise
 *  be drawn where the page was scrolled to). */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(50);
  await screenshot(page, name);
}

describe('monitors, events, hosts and admin', () => {
  before(async () => {
    env = await startAll({ WHIPPET_MONITOR_INTERVAL_SECS: '1' });
    if (!(await hasSignIn(env.server))) {
      skip = 'the server has no sign-in API yet';
      return;
    }
    await python(PUSH, [env.server.apiKey, env.server.appKey, env.server.url]);
    const now = Math.floor(Date.now() / 1000);
    await until(async () => {
      const r = await env.server.request('GET', `/api/v1/query?from=${now - 900}&to=${now}&query=${encodeURIComponent(METRIC)}`);
      return r.status === 200 && r.json.series.length === 2;
    }, 'the pushed series to be queryable');
  });

  after(async () => {
    await env?.stop();
  });

  test('the form draws the query and thresholds live, shows the server message, and creates the monitor', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/monitors');
      await signIn(page);
      await page.getByText('No monitor yet').waitFor();
      await shot(page, 'monitor-list-empty');
      await page.getByRole('link', { name: '+ New monitor' }).click();
      await page.waitForURL((u) => u.pathname === '/monitors/new');

      const editor = page.getByRole('textbox', { name: 'Query a' });
      await editor.fill(METRIC);
      await editor.press('Escape');
      // The chart draws both hosts' series once typing pauses.
      const chart = page.getByTestId('threshold-chart');
      await until(async () => (await chart.getAttribute('data-series').catch(() => null)) === '2', 'the live chart with two series');
      const latest = Object.fromEntries(
        await page.getByTestId('legend-series').evaluateAll((els) => els.map((e) => [e.dataset.label, Number(e.dataset.value)])),
      );
      assert.deepEqual(latest, { 'host:mon-1': 15, 'host:mon-2': 10 });

      // Typing the alert threshold draws its line at once.
      const critical = page.getByLabel('Alert threshold');
      await critical.pressSequentially('50');
      await until(async () => (await chart.getAttribute('data-critical-y')) !== null, 'the alert threshold line');
      assert.equal(await page.getByTestId('legend-critical').getAttribute('data-value'), '50');
      // What each host would be now: 15 and 10 are under 50.
      const predicted = page.getByTestId('prediction').locator('[data-label="host:mon-1"]');
      assert.equal(await predicted.getAttribute('data-status'), 'OK');

      // A warning threshold above the alert one with `>`: the server's 400.
      await page.getByLabel('Warning threshold').pressSequentially('60');
      const validation = page.getByTestId('validation-error');
      await validation.waitFor();
      assert.equal(
        await validation.innerText(),
        'Warning threshold (60.0) must be less than the alert threshold (50.0) with > comparison.',
      );
      // Its line is drawn above the alert line (a smaller y on the canvas).
      await until(async () => {
        const y = await chart.evaluate((e) => [Number(e.dataset.warningY), Number(e.dataset.criticalY)]);
        return y[0] > 0 && y[0] < y[1];
      }, 'the warning line above the alert line');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SCREENSHOTS}/monitor-form-bad-thresholds.png` });

      await page.getByLabel('Warning threshold').fill('40');
      await until(async () => (await page.getByTestId('validation').getAttribute('data-state')) === 'ok', 'the server to accept the monitor');
      await page.getByLabel('New group delay in seconds').fill('0');
      await page.getByLabel('Name').fill(NAME);
      await page.getByLabel('Message').fill('Load is {{value}} on {{host.name}} @webhook-none');
      await page.getByLabel('Tags').fill('team:web, browser-test');
      await page.getByLabel('Priority').selectOption('2');
      // The form as a person sees it, top and bottom (its footer stays at
      // the bottom of the window).
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SCREENSHOTS}/monitor-form.png` });
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.screenshot({ path: `${SCREENSHOTS}/monitor-form-bottom.png` });
      await page.getByRole('button', { name: 'Create monitor' }).click();
      await page.waitForURL((u) => /^\/monitors\/\d+$/.test(u.pathname));
      monitorId = Number(new URL(page.url()).pathname.split('/')[2]);
      assert.equal(await page.getByTestId('monitor-name').innerText(), NAME);

      const r = await env.server.request('GET', `/api/v1/monitor/${monitorId}`);
      assert.equal(r.json.query, `avg(last_5m):${METRIC} > 50`);
      assert.deepEqual(r.json.options.thresholds, { critical: 50, warning: 40 });
      assert.deepEqual(r.json.tags, ['team:web', 'browser-test']);
      assert.equal(r.json.priority, 2);
    });
  });

  test('the list shows the monitor, filters it, and its status goes to Alert', async (t) => {
    if (skip || monitorId === null) return t.skip(skip || 'no monitor');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/monitors');
      await signIn(page);
      const row = page.locator(`tr[data-monitor-id="${monitorId}"]`);
      await until(async () => (await row.getAttribute('data-status').catch(() => null)) === 'OK', 'the monitor to be OK');
      assert.match(await row.innerText(), /Browser load is high/);
      assert.match(await row.innerText(), /metric alert/);

      // Filters: a name that matches nothing, then the tag chip.
      await page.getByLabel('Filter by name').fill('nothing like it');
      await page.getByText('No monitor matches these filters.').waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await row.getByRole('button', { name: 'team:web' }).click();
      await page.waitForURL((u) => u.searchParams.get('tag') === 'team:web');
      await row.waitFor();

      await python(PUSH_HIGH, [env.server.apiKey, env.server.appKey, env.server.url]);
      await until(async () => (await row.getAttribute('data-status')) === 'Alert', 'the monitor to go to Alert', 30_000);
      await page.getByRole('button', { name: /Alert\s*1/ }).click();
      await page.waitForURL((u) => u.searchParams.get('status') === 'Alert');
      assert.equal(await rowsOf(page).count(), 1);
      await shot(page, 'monitor-list-alert');
    });
  });

  test('the detail page shows the history timeline, mutes and schedules a downtime', async (t) => {
    if (skip || monitorId === null) return t.skip(skip || 'no monitor');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto(`/monitors/${monitorId}`);
      await signIn(page);
      const timeline = page.getByTestId('timeline');
      await timeline.locator('[data-group="host:mon-1"] .tl-span[data-status="Alert"]').waitFor();
      await timeline.locator('[data-group="host:mon-2"] .tl-span[data-status="OK"]').waitFor();
      assert.equal(await page.locator('[data-testid=groups] tr[data-group="host:mon-1"] [data-status]').getAttribute('data-status'), 'Alert');
      assert.ok((await page.locator('[data-testid=transitions] tbody tr').count()) >= 1);
      // The metric with its thresholds, over the timeline's range.
      assert.equal(await page.getByTestId('threshold-chart').getAttribute('data-series'), '2');
      // The explorer link carries the metric query.
      const href = await page.getByRole('link', { name: 'Open in explorer' }).getAttribute('href');
      assert.equal(new URL(href, env.server.url).searchParams.get('q'), METRIC);

      // Mute every group until unmuted, then unmute.
      await page.getByRole('button', { name: 'Mute…' }).click();
      await page.getByRole('form', { name: 'Mute' }).getByRole('button', { name: 'Mute' }).click();
      const silenced = page.getByTestId('silenced');
      await silenced.getByText('all groups').waitFor();
      let r = await env.server.request('GET', `/api/v1/monitor/${monitorId}`);
      assert.deepEqual(r.json.options.silenced, { '*': null });
      await silenced.getByRole('button', { name: 'Unmute' }).click();
      await silenced.waitFor({ state: 'detached' });

      // A one-off downtime for one host.
      await page.getByRole('button', { name: 'Schedule downtime…' }).click();
      const form = page.getByRole('form', { name: 'Schedule downtime' });
      await form.getByLabel('Scope').fill('host:mon-2');
      await form.getByRole('button', { name: 'Schedule' }).click();
      await page.getByTestId('downtimes').getByText('host:mon-2').waitFor();
      r = await env.server.request('GET', `/api/v1/monitor/${monitorId}/downtimes`);
      assert.deepEqual(
        r.json.map((d) => d.scope),
        [['host:mon-2']],
      );
      await shot(page, 'monitor-detail');
      await page.setViewportSize({ width: 1920, height: 1080 });
      await shot(page, 'monitor-detail-1920');
    });
  });

  test('the form edits a monitor, and writes other types raw', async (t) => {
    if (skip || monitorId === null) return t.skip(skip || 'no monitor');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto(`/monitors/${monitorId}/edit`);
      await signIn(page);
      // The stored monitor read back into the form.
      const editor = page.getByRole('textbox', { name: 'Query a' });
      await until(async () => (await editor.inputValue().catch(() => '')) === METRIC, 'the stored query in the editor');
      assert.equal(await page.getByLabel('Alert threshold').inputValue(), '50');
      assert.equal(await page.getByLabel('Warning threshold').inputValue(), '40');
      assert.equal(await page.getByLabel('Tags').inputValue(), 'team:web, browser-test');
      await page.getByLabel('Name').fill('Browser load is very high');
      await page.getByLabel('Alert recovery').fill('45');
      await until(async () => (await page.getByTestId('validation').getAttribute('data-state')) === 'ok', 'the server to accept the change');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.waitForURL((u) => u.pathname === `/monitors/${monitorId}`);
      await page.getByTestId('monitor-name').filter({ hasText: 'Browser load is very high' }).waitFor();
      const r = await env.server.request('GET', `/api/v1/monitor/${monitorId}`);
      assert.deepEqual(r.json.options.thresholds, { critical: 50, warning: 40, critical_recovery: 45 });
      // Options the form does not show are kept (the downtime is not an
      // option; new_group_delay is).
      assert.equal(r.json.options.new_group_delay, 0);

      // An event alert through the raw form: bad JSON is caught before
      // sending, the server's message for a bad query is shown.
      await page.goto('/monitors/new');
      await page.getByRole('button', { name: 'Other monitor types / raw query' }).click();
      await page.getByLabel('Monitor type').selectOption('event alert');
      await page.getByLabel('Monitor query').fill('events("sources:deploy").rollup("count").last("5m") >');
      await page.getByLabel('Options JSON').fill('{"thresholds": ');
      await page.getByTestId('validation').getByText(/The options are not valid JSON/).waitFor();
      await page.getByLabel('Options JSON').fill('{"thresholds": {"critical": 0}}');
      await page.getByTestId('validation-error').getByText(/parameter 'query' is invalid/).waitFor();
      await page.getByLabel('Monitor query').fill('events("sources:deploy").rollup("count").last("5m") > 0');
      await page.getByLabel('Name').fill('Deploys happen');
      await until(async () => (await page.getByTestId('validation').getAttribute('data-state')) === 'ok', 'the server to accept the event alert');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SCREENSHOTS}/monitor-form-raw.png` });
      await page.getByRole('button', { name: 'Create monitor' }).click();
      await page.waitForURL((u) => /^\/monitors\/\d+$/.test(u.pathname));
      await page.getByTestId('monitor-name').filter({ hasText: 'Deploys happen' }).waitFor();
      assert.match(await page.locator('.summary').innerText(), /event alert/);
    });
  });

  test('the admin creates a read-only user and a key', async (t) => {
    if (skip) return t.skip(skip);
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/admin');
      await signIn(page);
      await page.getByRole('button', { name: '+ Add user' }).click();
      const form = page.getByRole('form', { name: 'New user' });
      await form.getByLabel('E-mail').fill(VIEWER.email);
      await form.getByLabel('Name').fill('Viewer');
      await form.getByLabel('Role').selectOption('read_only');
      await form.getByLabel('Password').fill(VIEWER.password);
      await form.getByRole('button', { name: 'Create user' }).click();
      const row = page.locator(`[data-testid=users] tr[data-email="${VIEWER.email}"]`);
      await row.waitFor();
      assert.equal(await row.getByLabel(`Role of ${VIEWER.email}`).inputValue(), 'read_only');

      // A key: its secret is shown once, and it works with the Datadog API.
      const keyForm = page.getByRole('form', { name: 'New key' });
      await keyForm.getByLabel('Name').fill('browser test');
      await keyForm.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.getByTestId('secret').innerText()).trim();
      assert.match(secret, /^\S{32}$/);
      const ok = await env.server.request('GET', '/api/v1/validate', { keys: [secret, ''], headers: {} });
      assert.equal(ok.status, 200);
      const keyRow = page.locator('[data-testid=keys] tr').filter({ hasText: 'browser test' });
      assert.match(await keyRow.innerText(), new RegExp(`••••${secret.slice(-4)}`));
      await shot(page, 'admin');

      // Revoked after the confirmation: the key no longer works.
      await keyRow.getByRole('button', { name: 'Revoke' }).click();
      await keyRow.getByRole('group').getByRole('button', { name: 'Revoke' }).click();
      await keyRow.waitFor({ state: 'detached' });
      const refused = await env.server.request('GET', '/api/v1/validate', { keys: [secret, ''], headers: {} });
      assert.notEqual(refused.status, 200);

      // Another user: role, disable and enable, a new password, delete.
      await page.getByRole('button', { name: '+ Add user' }).click();
      await form.getByLabel('E-mail').fill('temp@localhost');
      await form.getByLabel('Password').fill('temp-password-1');
      await form.getByRole('button', { name: 'Create user' }).click();
      const temp = page.locator('[data-testid=users] tr[data-email="temp@localhost"]');
      await temp.waitFor();
      await temp.getByLabel('Role of temp@localhost').selectOption('admin');
      await page.getByText('temp@localhost is now Admin.').waitFor();
      await temp.getByRole('button', { name: 'Disable' }).click();
      await temp.getByText('disabled', { exact: true }).waitFor();
      await temp.getByRole('button', { name: 'Enable' }).click();
      await temp.getByText('active', { exact: true }).waitFor();
      await temp.getByRole('button', { name: 'Reset password' }).click();
      const reset = page.getByRole('form', { name: 'New password for temp@localhost' });
      await reset.getByRole('button', { name: 'Generate' }).click();
      assert.equal((await reset.getByLabel('New password for temp@localhost').inputValue()).length, 16);
      await reset.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('New password set for temp@localhost').waitFor();
      await temp.getByRole('button', { name: 'Delete' }).click();
      await temp.getByRole('group').getByRole('button', { name: 'Delete' }).click();
      await temp.waitFor({ state: 'detached' });
      // The admin's own row cannot be disabled or deleted.
      const self = page.locator('[data-testid=users] tr[data-email="admin@localhost"]');
      assert.equal(await self.getByRole('button', { name: 'Delete' }).count(), 0);
      assert.ok(await self.getByLabel('Role of admin@localhost').isDisabled());
    });
  });

  test('a read-only user sees no controls that change anything, and the server refuses a change', async (t) => {
    if (skip || monitorId === null) return t.skip(skip || 'no monitor');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/monitors');
      await signIn(page, VIEWER);
      await page.locator(`tr[data-monitor-id="${monitorId}"]`).waitFor();
      assert.equal(await page.getByRole('link', { name: '+ New monitor' }).count(), 0);
      assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0);

      await page.goto(`/monitors/${monitorId}`);
      await page.getByTestId('timeline').waitFor();
      await page.getByText('Your role is read-only').waitFor();
      for (const name of ['Edit', 'Clone', 'Mute…', 'Schedule downtime…', 'Delete']) {
        assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`);
        assert.equal(await page.getByRole('link', { name, exact: true }).count(), 0, `no ${name} link`);
      }
      assert.equal(await page.getByTestId('downtimes').getByRole('button', { name: 'Cancel' }).count(), 0);
      await shot(page, 'monitor-detail-read-only');

      // The form's address says why there is no form.
      await page.goto(`/monitors/${monitorId}/edit`);
      await page.getByText('Your role is read-only').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Save changes' }).count(), 0);

      // A change sent by hand with the session cookie (and the UI header).
      const answer = await page.evaluate(async (id) => {
        const r = await fetch(`/api/v1/monitor/${id}/mute`, {
          method: 'POST',
          headers: { 'X-Whippet-UI': '1', 'Content-Type': 'application/json' },
          body: '{}',
        });
        return { status: r.status, body: await r.json() };
      }, monitorId);
      assert.equal(answer.status, 403);
      assert.deepEqual(answer.body, { errors: ['Forbidden: a read-only user cannot change anything'] });
    });
  });

  test('the events page lists the monitor transition', async (t) => {
    if (skip || monitorId === null) return t.skip(skip || 'no monitor');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/events');
      await signIn(page);
      const event = page.locator('[data-testid=events] li[data-source="Monitor Alert"][data-alert-type="error"]').first();
      await event.waitFor();
      assert.match(await event.innerText(), /Browser load is high/);
      assert.match(await event.innerText(), /monitor_id:\d+/);
      assert.equal(await event.getByRole('link').first().getAttribute('href'), `/monitors/${monitorId}`);

      // The source filter keeps the monitor's events.
      await page.getByLabel('Source').selectOption('Monitor Alert');
      await page.waitForURL((u) => u.searchParams.get('source') === 'Monitor Alert');
      await event.waitFor();
      await shot(page, 'events');
    });
  });

  test('the hosts page lists the pushed hosts and links to their metrics', async (t) => {
    if (skip) return t.skip(skip);
    if ((await env.server.request('GET', '/api/v1/hosts')).status === 404) return t.skip('the server has no hosts API yet');
    const page = await env.newPage();
    await step(t, page, env.server, async () => {
      await page.goto('/hosts');
      await signIn(page);
      const rows = page.locator('[data-testid=hosts] tbody tr');
      await until(async () => (await rows.count()) === 2, 'two hosts');
      assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.dataset.host)), ['mon-1', 'mon-2']);
      const one = page.locator('tr[data-host="mon-1"]');
      assert.equal(await one.getAttribute('data-up'), 'true');
      assert.match(await one.innerText(), /env:browser/);
      assert.match(await one.getByTestId('last-seen').innerText(), /(s|min) ago$/);

      // Search narrows the list.
      await page.getByLabel('Search hosts').fill('mon-2');
      await until(async () => (await rows.count()) === 1, 'one host found');
      await page.getByLabel('Search hosts').fill('');
      await until(async () => (await rows.count()) === 2, 'both hosts again');
      await shot(page, 'hosts');

      // mon-1 sends system.cpu.user: its link opens it; mon-2 does not.
      const link = (host) => page.locator(`tr[data-host="${host}"]`).getByRole('link', { name: 'Metrics →' });
      await until(
        async () => new URL(await link('mon-2').getAttribute('href'), env.server.url).searchParams.get('q') === 'avg:browser.load{host:mon-2}',
        'the link of mon-2 to its own metric',
      );
      assert.equal(new URL(await link('mon-1').getAttribute('href'), env.server.url).searchParams.get('q'), 'avg:system.cpu.user{host:mon-1}');
      await link('mon-1').click();
      await page.waitForURL((u) => u.pathname === '/explorer');
      const legend = page.locator('[data-testid=legend] .legend-row');
      await until(async () => (await legend.count()) === 1, 'the host metric in the explorer');
      assert.equal(Number(await legend.first().getAttribute('data-value')), 42);
    });
  });
});
