// One dashboard: its widgets on the 12-column grid, the time range, live
// mode and the template variables; and, for users who may change it, edit
// mode (add, edit, remove, move and resize widgets; title, description and
// variables; save).
//
// The address is the view's state (`/dashboards/<id>?range=1d&live=1&
// tpl_var_host=web-1`, or `&from=<ms>&to=<ms>`), so a view can be shared.
//
// Every widget fetches its own queries as soon as it mounts, all in
// parallel, and draws as its answer arrives. When every widget that shows
// data has drawn (or shown its error), the page sets the performance mark
// `dashboard-drawn` (bench/ui-bench/dashboard.mjs reads it) and
// `data-drawn="true"` on the dashboard.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isAbort, messageOf } from '../../api';
import { Modal } from '../../components/dashboard/Modal';
import { CloneDialog } from './CloneDialog';
import { dashboardFor } from './prefetch';
import { TemplateBar, VarsEditor, useDashboardTags } from '../../components/dashboard/TemplateVars';
import { WidgetEditor } from '../../components/dashboard/WidgetEditor';
import { DashContext, type Dash } from '../../components/dashboard/context';
import { Grid } from '../../components/dashboard/Grid';
import { DATA_TYPES, gridItems, keyOf, type WidgetActions } from '../../components/dashboard/Widget';
import { newLayout, place } from '../../components/dashboard/layout';
import { currentValues, metricsOf, paramOf } from '../../components/dashboard/templating';
import { TimeRangePicker } from '../../components/TimeRangePicker';
import { updateDashboard, type Dashboard, type Layout, type TemplateVariable, type Widget, type WidgetDefinition } from '../../lib/dashboards-api';
import { formatTime, rangeFromParams, rangeKey, rangeToParams, resolve, type Range } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import { canEdit, useSession } from '../../session';

/** A grid row's height, px: a widget 3 rows high is about 290 px, what a
 *  timeseries with its legend needs on a laptop screen. */
const ROW_PX = 88;

/** Live mode refreshes at most this often (as the explorer): DogStatsD
 *  writes a bucket every 10 s. */
const LIVE_MIN_MS = 5_000;

/** ... and for long ranges about once per thousandth of the range. */
const LIVE_RANGE_FRACTION = 1_000;

/** The largest widget id the server takes (2^53 - 1, exact in
 *  JavaScript); new widgets get a random one below it. */
const MAX_WIDGET_ID = 2 ** 53 - 1;

type Editing = { widget: Widget | null };

export default function DashboardView({ id }: { id: string }) {
  const loc = useLocation();
  const params = new URLSearchParams(loc.search);
  const range = rangeFromParams(params);
  const live = params.get('live') === '1' && range.kind === 'relative';
  const me = useSession();
  const mayEdit = canEdit(me);

  const [dash, setDash] = useState<Dashboard | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [dialog, setDialog] = useState<'clone' | 'json' | null>(null);
  const [settings, setSettings] = useState(false);
  const [tick, setTick] = useState(0);
  const [win, setWin] = useState(() => resolve(range));
  const [drawn, setDrawn] = useState(false);
  const [updated, setUpdated] = useState<number | null>(null);
  const tracker = useRef({ expected: new Set<string>(), seen: new Set<string>(), marked: false });

  // The dashboard.
  useEffect(() => {
    const ctl = new AbortController();
    setDash(null);
    setLoadError(null);
    setDraft(null);
    dashboardFor(id, ctl.signal).then(
      (d) => {
        tracker.current = { expected: dataKeys(d.widgets), seen: new Set(), marked: false };
        setDrawn(false);
        setDash(d);
        // A new dashboard opens in edit mode (`?edit=1`, from the list).
        if (params.get('edit') === '1') {
          if (mayEdit && !d.is_read_only) setDraft(withLayouts(d));
          const p = new URLSearchParams(window.location.search);
          p.delete('edit');
          navigate(`/dashboards/${encodeURIComponent(id)}${p.size ? `?${p}` : ''}`, { replace: true });
        }
      },
      (e) => {
        if (!isAbort(e)) setLoadError(messageOf(e));
      },
    );
    return () => ctl.abort();
  }, [id]);

  // The window: again at each range change and each live refresh.
  useEffect(() => {
    setWin(resolve(range));
    setUpdated(Date.now());
  }, [rangeKey(range), tick]);

  useEffect(() => {
    if (!live || range.kind !== 'relative') return;
    const every = Math.max(LIVE_MIN_MS, range.ms / LIVE_RANGE_FRACTION);
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, every);
    return () => clearInterval(t);
  }, [live, rangeKey(range)]);

  // Unsaved edits: the browser asks before the page is left.
  useEffect(() => {
    if (!draft) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [!!draft]);

  const reportDrawn = useCallback((key: string) => {
    const t = tracker.current;
    t.seen.add(key);
    if (!t.marked && [...t.expected].every((k) => t.seen.has(k))) {
      t.marked = true;
      performance.mark('dashboard-drawn');
      setDrawn(true);
    }
  }, []);

  // A dashboard without data widgets is drawn as soon as it shows.
  useEffect(() => {
    if (dash && tracker.current.expected.size === 0) reportDrawn('');
  }, [dash]);

  const shown = draft ?? dash;
  const vars = shown?.template_variables ?? [];
  const values = currentValues(Array.isArray(vars) ? vars : [], params);
  const varsKey = JSON.stringify(values);
  const metrics = useMemo(() => (shown ? metricsOf(shown) : []), [shown]);
  // The dropdowns' values wait until the charts have their data (they
  // would take connections the widgets' queries need), or until editing.
  const tags = useDashboardTags(metrics, drawn || !!draft || !!editing);

  /** Goes to the same dashboard with other parameters. */
  function go(next: { range?: Range; live?: boolean; vars?: Record<string, string> }) {
    const p = new URLSearchParams(window.location.search);
    const r = next.range ?? range;
    rangeToParams(r, p);
    const l = (next.live ?? live) && r.kind === 'relative';
    if (l) p.set('live', '1');
    else p.delete('live');
    for (const [k, v] of Object.entries(next.vars ?? {})) p.set(paramOf(k), v);
    navigate(`/dashboards/${encodeURIComponent(id)}?${p}`);
  }

  const ctx: Dash = useMemo(
    () => ({
      from: win.from,
      to: win.to,
      tick,
      vars: values,
      reportDrawn,
      onZoom: (from: number, to: number) => go({ range: { kind: 'absolute', from, to }, live: false }),
    }),
    [win.from, win.to, tick, varsKey],
  );

  // ---- Edit mode

  function change(f: (d: Dashboard) => Dashboard) {
    setDraft((d) => (d ? f(d) : d));
  }

  const actions: WidgetActions = {
    onEdit: (w) => setEditing({ widget: w }),
    onRemove: (w) => change((d) => ({ ...d, widgets: removeWidget(d.widgets, w) })),
    onLayout: (group, layouts) => change((d) => ({ ...d, widgets: setLayouts(d.widgets, group, layouts) })),
  };

  function apply(def: WidgetDefinition) {
    const target = editing?.widget ?? null;
    setEditing(null);
    change((d) => {
      if (target) return { ...d, widgets: replaceWidget(d.widgets, target, def) };
      const layout = newLayout(def.type, place(d.widgets.map((w, i) => ({ key: keyOf(w, i), type: w.definition?.type ?? '', layout: w.layout }))));
      return { ...d, widgets: [...d.widgets, { id: newId(d.widgets), definition: def, layout }] };
    });
  }

  async function save() {
    if (!draft) return;
    setSaving(true);
    setSaveError(null);
    try {
      const saved = await updateDashboard(id, draft);
      setDash(saved);
      setDraft(null);
    } catch (e) {
      setSaveError(messageOf(e));
    } finally {
      setSaving(false);
    }
  }

  if (loadError) {
    return (
      <section class="page dashboards">
        <p class="crumbs">
          <Link href="/dashboards">Dashboards</Link>
        </p>
        <p class="error banner-box" role="alert">
          Cannot open this dashboard: {loadError}
        </p>
      </section>
    );
  }
  if (!shown) {
    return (
      <section class="page dashboards">
        <p class="crumbs">
          <Link href="/dashboards">Dashboards</Link>
        </p>
        <p class="muted">Loading the dashboard…</p>
      </section>
    );
  }

  const readOnly = !!shown.is_read_only;
  const inEdit = !!draft;
  const widgets = Array.isArray(shown.widgets) ? shown.widgets : [];

  return (
    <section class={`page dashboards dash-view${inEdit ? ' dash-editing' : ''}`}>
      <div class="dash-head">
        <div class="dash-title-box">
          <p class="crumbs">
            <Link href="/dashboards">Dashboards</Link> /
          </p>
          {inEdit ? (
            <input
              class="dash-title-input"
              type="text"
              aria-label="Dashboard title"
              value={draft!.title}
              onInput={(e) => {
                const title = e.currentTarget.value;
                change((d) => ({ ...d, title }));
              }}
            />
          ) : (
            <h1 data-testid="dashboard-title">{shown.title}</h1>
          )}
          {readOnly && (
            <span class="badge" title="Clone it to change it">
              read-only
            </span>
          )}
        </div>
        <div class="dash-actions">
          {inEdit ? (
            <>
              <button onClick={() => setEditing({ widget: null })}>+ Add widget</button>
              <button aria-expanded={settings} onClick={() => setSettings(!settings)} title="The description and the template variables">
                Variables &amp; description
              </button>
              <button
                onClick={() => {
                  setDraft(null);
                  setSaveError(null);
                }}
                disabled={saving}
              >
                Cancel
              </button>
              <button class="primary" onClick={save} disabled={saving || !draft!.title.trim()}>
                {saving ? 'Saving…' : 'Save'}
              </button>
            </>
          ) : (
            <>
              <TimeRangePicker range={range} onChange={(r) => go({ range: r })} live={live} onLive={(l) => go({ live: l })} />
              <button onClick={() => setDialog('json')} title="The dashboard's JSON, as Datadog exports it">
                Export
              </button>
              {mayEdit && (
                <button onClick={() => setDialog('clone')} title="A copy you can change">
                  Clone
                </button>
              )}
              {mayEdit && !readOnly && (
                <button class="primary" onClick={() => setDraft(withLayouts(shown))}>
                  Edit
                </button>
              )}
            </>
          )}
        </div>
      </div>
      {saveError && (
        <p class="error banner-box" role="alert">
          Saving failed: {saveError}
        </p>
      )}
      {inEdit ? (
        settings && (
          <div class="card dash-settings">
            <label class="field dash-desc-field">
              Description
              <textarea
                aria-label="Dashboard description"
                rows={2}
                value={draft!.description ?? ''}
                onInput={(e) => {
                  const description = e.currentTarget.value;
                  change((d) => ({ ...d, description }));
                }}
              />
            </label>
            <VarsEditor vars={Array.isArray(draft!.template_variables) ? draft!.template_variables : []} tags={tags.tags} onChange={(v: TemplateVariable[]) => change((d) => ({ ...d, template_variables: v }))} />
          </div>
        )
      ) : (
        shown.description && <p class="dash-desc muted">{shown.description}</p>
      )}
      <div class="dash-bar">
        <TemplateBar vars={Array.isArray(vars) ? vars : []} values={values} tags={tags.tags} onChange={(name, value) => go({ vars: { [name]: value } })} />
        <span class="status muted" data-testid="dash-status">
          {inEdit
            ? 'Editing: drag a widget by its title to move it, by its corner to resize it.'
            : updated
              ? `Updated ${formatTime(updated).slice(11)}${live ? ' · live' : ''}`
              : ''}
        </span>
      </div>
      <DashContext.Provider value={ctx}>
        <div class="dash" data-testid="dashboard" data-drawn={drawn ? 'true' : 'false'}>
          {widgets.length === 0 ? (
            <div class="card empty-dash">
              <p class="muted">This dashboard has no widgets yet.</p>
              {inEdit ? (
                <button class="primary" onClick={() => setEditing({ widget: null })}>
                  Add a widget
                </button>
              ) : (
                mayEdit && !readOnly && <button onClick={() => setDraft(withLayouts(shown))}>Edit it to add widgets</button>
              )}
            </div>
          ) : (
            <Grid
              items={gridItems(widgets, inEdit, ROW_PX, actions, shown.layout_type === 'ordered')}
              editing={inEdit}
              rowPx={ROW_PX}
              compacting={shown.layout_type === 'ordered'}
              onLayout={(ls) => actions.onLayout(null, ls)}
            />
          )}
        </div>
        {editing && <WidgetEditor initial={editing.widget?.definition ?? null} onApply={apply} onCancel={() => setEditing(null)} />}
      </DashContext.Provider>
      {dialog === 'clone' && <CloneDialog dash={shown} onClose={() => setDialog(null)} />}
      {dialog === 'json' && <JsonDialog dash={shown} onClose={() => setDialog(null)} />}
    </section>
  );
}

/** The dashboard's JSON, to copy (it imports here and in Datadog). */
function JsonDialog({ dash, onClose }: { dash: Dashboard; onClose: () => void }) {
  const text = JSON.stringify(dash, null, 2);
  const [note, setNote] = useState<string | null>(null);
  return (
    <Modal title="Export dashboard JSON" onClose={onClose} wide>
      <textarea class="json-box" aria-label="Dashboard JSON" readOnly rows={20} value={text} spellcheck={false} />
      <div class="modal-actions">
        <span class="muted">{note}</span>
        <span class="spacer" />
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(text).then(
              () => setNote('Copied'),
              () => setNote('Select the text and copy it'),
            )
          }
        >
          Copy
        </button>
        <button type="button" class="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}

// ---- Widget tree operations (pure)

/** The keys of the widgets that draw data, groups' too. */
function dataKeys(widgets: Widget[] | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (ws: Widget[] | undefined) =>
    (Array.isArray(ws) ? ws : []).forEach((w, i) => {
      const type = w?.definition?.type;
      if (type && DATA_TYPES.has(type)) out.add(keyOf(w, i));
      if (type === 'group') walk(w.definition.widgets);
    });
  walk(widgets);
  return out;
}

/** `d` with every widget (and every group's) at an explicit place: edits
 *  move widgets by their layouts. */
function withLayouts(d: Dashboard): Dashboard {
  const fix = (ws: Widget[]): Widget[] => {
    const placed = place(ws.map((w, i) => ({ key: keyOf(w, i), type: w.definition?.type ?? '', layout: w.layout })));
    return ws.map((w, i) => {
      const p = placed[i];
      const def = w.definition?.type === 'group' && Array.isArray(w.definition.widgets) ? { ...w.definition, widgets: fix(w.definition.widgets) } : w.definition;
      return { ...w, definition: def, layout: { ...(w.layout ?? {}), x: p.x, y: p.y, width: p.width, height: p.height } };
    });
  };
  return { ...d, widgets: fix(Array.isArray(d.widgets) ? d.widgets : []) };
}

/** Applies `f` to every list of widgets (the dashboard's, each group's). */
function mapLists(ws: Widget[], f: (ws: Widget[], group: Widget | null) => Widget[], group: Widget | null = null): Widget[] {
  return f(ws, group).map((w) =>
    w.definition?.type === 'group' && Array.isArray(w.definition.widgets) ? { ...w, definition: { ...w.definition, widgets: mapLists(w.definition.widgets, f, w) } } : w,
  );
}

function removeWidget(ws: Widget[], target: Widget): Widget[] {
  return mapLists(ws, (list) => list.filter((w) => w !== target && !(target.id !== undefined && w.id === target.id)));
}

function replaceWidget(ws: Widget[], target: Widget, def: WidgetDefinition): Widget[] {
  return mapLists(ws, (list) =>
    list.map((w) => {
      if (w !== target && !(target.id !== undefined && w.id === target.id)) return w;
      // A group edited in the form keeps its widgets.
      const widgets = def.type === 'group' && !Array.isArray(def.widgets) ? w.definition.widgets : def.widgets;
      return { ...w, definition: def.type === 'group' ? { ...def, widgets: widgets ?? [] } : def };
    }),
  );
}

function setLayouts(ws: Widget[], group: string | null, layouts: Map<string, Layout>): Widget[] {
  return mapLists(ws, (list, g) => {
    const here = g === null ? null : String(g.id);
    if (here !== group) return list;
    return list.map((w, i) => {
      const l = layouts.get(keyOf(w, i));
      return l ? { ...w, layout: { ...(w.layout ?? {}), ...l } } : w;
    });
  });
}

/** A widget id not used in the dashboard. */
function newId(ws: Widget[]): number {
  const used = new Set<number>();
  mapLists(ws, (list) => {
    list.forEach((w) => typeof w.id === 'number' && used.add(w.id));
    return list;
  });
  for (;;) {
    const id = 1 + Math.floor(Math.random() * (MAX_WIDGET_ID - 1));
    if (!used.has(id)) return id;
  }
}
