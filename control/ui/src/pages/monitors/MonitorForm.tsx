// The monitor form, to create (`/monitors/new`, `?clone=<id>` for a copy)
// or edit (`/monitors/<id>/edit`) a metric or query alert: the metric
// query (the shared query editor, with autocomplete), the time
// aggregation and window, the comparator and thresholds, no-data and
// renotify options, the message with its template variables, tags and
// priority. Other types (service check, event alert, composite, ...) are
// written raw: type, query and options as JSON.
//
// While one types:
// - the chart draws the metric query over the window's recent past
//   (`/api/v1/query`, once typing pauses) and the thresholds at once;
// - the definition is checked by the server (`POST
//   /api/v1/monitor/validate`, or `/api/v1/monitor/<id>/validate` when
//   editing) once typing pauses, and its 400 message is shown as it is.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isAbort, messageOf } from '../../api';
import { ErrorBox, StatusBadge, useDebounced } from '../../components/monitors/common';
import { formatValue } from '../../lib/format';
import { ThresholdChart, type ThresholdSeries } from '../../components/monitors/ThresholdChart';
import { QueryEditor } from '../../components/QueryEditor';
import { createMonitor, getMonitor, runQuery, updateMonitor, validateMonitor } from '../../lib/monitors-api';
import { parseSimple, placeError, type QueryProblem } from '../../lib/query';
import { Link, navigate, useLocation } from '../../router';
import { canEdit, useSession } from '../../session';
import {
  COMPARATORS,
  METRIC_TYPES,
  RAW_TYPES,
  TEMPLATE_VARIABLES,
  TIME_AGGREGATIONS,
  WINDOWS,
  definitionOf,
  emptyForm,
  formOf,
  metricMonitorQuery,
  parseMetricQuery,
  predict,
  thresholdsOf,
  windowSeconds,
  type FormState,
  type Predicted,
} from './model';

/** Typing pauses this long before the chart's query and the validation
 *  are sent: one request per pause, not per key stroke. */
const DEBOUNCE_MS = 350;

/** The chart shows this many windows back from now ... */
const PREVIEW_WINDOWS = 12;
/** ... but at least an hour and at most a week. */
const PREVIEW_MIN_MS = 3_600_000;
const PREVIEW_MAX_MS = 7 * 86_400_000;

/** What the server said of the definition. */
type Check = { kind: 'idle' } | { kind: 'checking' } | { kind: 'ok' } | { kind: 'invalid'; message: string } | { kind: 'local'; problems: string[] };

export function MonitorForm({ id }: { id?: number }) {
  const me = useSession();
  const loc = useLocation();
  const cloneOf = id === undefined ? Number(new URLSearchParams(loc.search).get('clone')) || null : null;
  const [form, setForm] = useState<FormState | null>(id === undefined && cloneOf === null ? emptyForm() : null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [tried, setTried] = useState(false);

  useEffect(() => {
    const source = id ?? cloneOf;
    if (source === null) return;
    const ctl = new AbortController();
    getMonitor(source, ctl.signal).then(
      (m) => {
        const f = formOf(m);
        if (cloneOf !== null) f.name = `Copy of ${f.name}`;
        setForm(f);
      },
      (e) => !isAbort(e) && setLoadError(messageOf(e)),
    );
    return () => ctl.abort();
  }, [id, cloneOf]);

  const title = id !== undefined ? 'Edit monitor' : 'New monitor';
  if (!canEdit(me)) {
    return (
      <section class="page">
        <h1>{title}</h1>
        <p class="notice-box">Your role is read-only: you can look at monitors but not create or change them.</p>
        <Link href={id !== undefined ? `/monitors/${id}` : '/monitors'}>Back</Link>
      </section>
    );
  }
  if (loadError) {
    return (
      <section class="page">
        <h1>{title}</h1>
        <ErrorBox message={`The monitor could not be read: ${loadError}`} />
        <Link href="/monitors">Back to the monitors</Link>
      </section>
    );
  }
  if (!form) {
    return (
      <section class="page">
        <h1>{title}</h1>
        <p class="muted">Loading…</p>
      </section>
    );
  }

  async function save(e: Event) {
    e.preventDefault();
    if (!form) return;
    setTried(true);
    const { def, problems } = definitionOf(form);
    if (!def) return setSaveError(problems.join(' '));
    setSaving(true);
    setSaveError(null);
    try {
      const m = id !== undefined ? await updateMonitor(id, def) : await createMonitor(def);
      navigate(`/monitors/${m.id}`);
    } catch (err) {
      setSaveError(messageOf(err));
      setSaving(false);
    }
  }

  return (
    <FormBody
      id={id}
      title={title}
      form={form}
      setForm={setForm}
      onSubmit={save}
      saving={saving}
      saveError={saveError}
      showNameProblem={tried}
    />
  );
}

interface BodyProps {
  id?: number;
  title: string;
  form: FormState;
  setForm: (f: FormState) => void;
  onSubmit: (e: Event) => void;
  saving: boolean;
  saveError: string | null;
  showNameProblem: boolean;
}

function FormBody({ id, title, form, setForm, onSubmit, saving, saveError, showNameProblem }: BodyProps) {
  const set = (patch: Partial<FormState>) => setForm({ ...form, ...patch });
  const check = useValidation(form, id);
  const thresholds = thresholdsOf(form);
  const message = useRef<HTMLTextAreaElement>(null);
  const groupKeys = parseSimple(form.metric)?.by ?? [];

  // The chart's query: the form's metric, or the raw query's metric part.
  const raw = form.mode === 'raw' && METRIC_TYPES.includes(form.type) ? parseMetricQuery(form.rawQuery) : null;
  const chartMetric = form.mode === 'metric' ? form.metric : (raw?.metric ?? '');
  const chartWindow = form.mode === 'metric' ? form.window : (raw?.window ?? '5m');
  const rawThreshold = raw ? Number(raw.threshold) : null;
  const chartThresholds = form.mode === 'metric' ? thresholds : { critical: rawThreshold, warning: null, criticalRecovery: null, warningRecovery: null };
  const chartComparator = form.mode === 'metric' ? form.comparator : (raw?.comparator ?? '>');
  const preview = usePreview(chartMetric, chartWindow);

  function insertVariable(text: string) {
    const a = message.current;
    const at = a ? (a.selectionStart ?? form.message.length) : form.message.length;
    const end = a ? (a.selectionEnd ?? at) : at;
    const next = form.message.slice(0, at) + text + form.message.slice(end);
    set({ message: next });
    requestAnimationFrame(() => {
      a?.focus();
      a?.setSelectionRange(at + text.length, at + text.length);
    });
  }

  function toRaw() {
    const { def } = definitionOf(form, 'unnamed');
    set({ mode: 'raw', rawQuery: def?.query ?? metricMonitorQuery(form), rawOptions: JSON.stringify(def?.options ?? {}, null, 2) });
  }

  function toMetric() {
    const p = parseMetricQuery(form.rawQuery);
    let options: Record<string, unknown> = {};
    try {
      options = JSON.parse(form.rawOptions || '{}');
    } catch {
      // Unreadable options: the form starts from its own.
    }
    const type = METRIC_TYPES.includes(form.type) ? form.type : 'metric alert';
    const f = formOf({ name: form.name, type, query: p ? form.rawQuery : '', message: form.message, tags: [], priority: null, options });
    setForm({ ...f, mode: 'metric', tags: form.tags, priority: form.priority });
  }

  const nameMissing = showNameProblem && !form.name.trim();

  return (
    <form class="page monitor-form" onSubmit={onSubmit} novalidate>
      <div class="page-head">
        <h1>{title}</h1>
        <div class="actions">
          <Link href={id !== undefined ? `/monitors/${id}` : '/monitors'}>Cancel</Link>
        </div>
      </div>

      <div class="card">
        <div class="section-head">
          <h2>
            <span class="step">1</span>
            {form.mode === 'metric' ? 'Define the metric and when to alert' : 'Write the monitor query'}
          </h2>
          {form.mode === 'metric' ? (
            <button type="button" class="link" onClick={toRaw} title="Service checks, event alerts, composites, or any query by hand">
              Other monitor types / raw query
            </button>
          ) : (
            <button type="button" class="link" onClick={toMetric}>
              Back to the metric form
            </button>
          )}
        </div>

        {form.mode === 'metric' ? (
          <>
            <div class="field">
              <span>Metric query</span>
              <QueryEditor
                letter="a"
                value={form.metric}
                onChange={(t) => set({ metric: t })}
                onRun={(t) => set({ metric: t })}
                problem={form.metric.trim() === preview.query ? preview.problem : null}
              />
            </div>
            <div class="sentence">
              <span>Evaluate the</span>
              <select aria-label="Time aggregation" value={form.aggregation} onChange={(e) => set({ aggregation: e.currentTarget.value })}>
                {TIME_AGGREGATIONS.map((a) => (
                  <option key={a} value={a}>
                    {a === 'avg' ? 'average' : a === 'sum' ? 'sum' : a === 'min' ? 'minimum' : 'maximum'}
                  </option>
                ))}
              </select>
              <span>of the query over the last</span>
              <select aria-label="Evaluation window" value={form.window} onChange={(e) => set({ window: e.currentTarget.value })}>
                {(WINDOWS.includes(form.window) ? WINDOWS : [form.window, ...WINDOWS]).map((w) => (
                  <option key={w} value={w}>
                    {describeWindow(w)}
                  </option>
                ))}
              </select>
              <span>and alert when it is</span>
              <select aria-label="Comparator" value={form.comparator} onChange={(e) => set({ comparator: e.currentTarget.value })}>
                {COMPARATORS.map((c) => (
                  <option key={c.op} value={c.op}>
                    {c.label}
                  </option>
                ))}
              </select>
              <span>the thresholds:</span>
            </div>
            <div class="thresholds">
              <label class="field threshold critical">
                <span>Alert threshold</span>
                <input type="text" inputMode="decimal" class="mono" required value={form.critical} onInput={(e) => set({ critical: e.currentTarget.value })} />
              </label>
              <label class="field threshold warning">
                <span>Warning threshold</span>
                <input type="text" inputMode="decimal" class="mono" placeholder="optional" value={form.warning} onInput={(e) => set({ warning: e.currentTarget.value })} />
              </label>
              <label class="field threshold">
                <span>Alert recovery</span>
                <input
                  type="text"
                  inputMode="decimal"
                  class="mono"
                  placeholder="optional"
                  value={form.criticalRecovery}
                  onInput={(e) => set({ criticalRecovery: e.currentTarget.value })}
                />
              </label>
              <label class="field threshold">
                <span>Warning recovery</span>
                <input
                  type="text"
                  inputMode="decimal"
                  class="mono"
                  placeholder="optional"
                  value={form.warningRecovery}
                  onInput={(e) => set({ warningRecovery: e.currentTarget.value })}
                />
              </label>
              <label class="field type-field">
                <span>Type</span>
                <select value={form.type} onChange={(e) => set({ type: e.currentTarget.value })} title="A query alert may combine several metrics with arithmetic">
                  {METRIC_TYPES.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          </>
        ) : (
          <div class="raw-grid">
            <label class="field">
              <span>Type</span>
              <select aria-label="Monitor type" value={form.type} onChange={(e) => set({ type: e.currentTarget.value })}>
                {RAW_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
            <label class="field wide">
              <span>Query</span>
              <textarea
                class="plain mono"
                rows={2}
                spellcheck={false}
                aria-label="Monitor query"
                placeholder={RAW_PLACEHOLDER[form.type] ?? ''}
                value={form.rawQuery}
                onInput={(e) => set({ rawQuery: e.currentTarget.value })}
              />
              <span class="hint">{RAW_PLACEHOLDER[form.type] ? `For example ${RAW_PLACEHOLDER[form.type]}` : ''}</span>
            </label>
            <label class="field wide">
              <span>Options (JSON)</span>
              <textarea
                class="plain mono"
                rows={6}
                spellcheck={false}
                aria-label="Options JSON"
                value={form.rawOptions}
                onInput={(e) => set({ rawOptions: e.currentTarget.value })}
              />
              <span class="hint">
                For example <code>{'{"thresholds": {"critical": 1, "warning": 1}, "notify_no_data": true}'}</code>
              </span>
            </label>
          </div>
        )}

        {chartMetric.trim() ? (
          <div class="preview">
            <div class="preview-head muted small">
              {preview.loading ? 'Loading…' : `The query over the past ${describeSpan(preview.to - preview.from)}, with the thresholds`}
            </div>
            {preview.series.length > 0 ? (
              <>
                <ThresholdChart series={preview.series} from={preview.from} to={preview.to} thresholds={chartThresholds} comparator={chartComparator} />
                {form.mode === 'metric' && (
                  <Prediction
                    list={predict(preview.series, form.aggregation, windowSeconds(form.window), form.comparator, thresholds, preview.to)}
                    what={`${form.aggregation} over the last ${describeWindow(form.window)}`}
                  />
                )}
              </>
            ) : (
              <p class="empty preview-empty">
                {preview.problem ? 'The query did not run: see its error above.' : preview.loading ? 'Loading…' : 'No data for this query in this time.'}
              </p>
            )}
          </div>
        ) : (
          form.mode === 'metric' && <p class="empty preview-empty">Type a metric query to see it drawn here with the thresholds.</p>
        )}
      </div>

      {form.mode === 'metric' && (
        <div class="card">
          <h2>
            <span class="step">2</span>Notifications
          </h2>
          <div class="options-grid">
            <div class="field">
              <label class="check">
                <input type="checkbox" checked={form.notifyNoData} onChange={(e) => set({ notifyNoData: e.currentTarget.checked })} />
                Notify when data is missing for
              </label>
              <div class="inline">
                <input
                  type="number"
                  min={1}
                  class="short"
                  aria-label="No-data timeframe in minutes"
                  disabled={!form.notifyNoData}
                  value={form.noDataTimeframe}
                  onInput={(e) => set({ noDataTimeframe: e.currentTarget.value })}
                />
                <span class="muted">minutes</span>
              </div>
            </div>
            <div class="field">
              <span>Notify again while it stays in alert, every</span>
              <div class="inline">
                <input
                  type="number"
                  min={0}
                  class="short"
                  aria-label="Renotify interval in minutes"
                  placeholder="never"
                  value={form.renotify}
                  onInput={(e) => set({ renotify: e.currentTarget.value })}
                />
                <span class="muted">minutes (empty: never)</span>
              </div>
            </div>
            {groupKeys.length > 0 && (
              <div class="field">
                <span>Wait before evaluating a new group for</span>
                <div class="inline">
                  <input
                    type="number"
                    min={0}
                    class="short"
                    aria-label="New group delay in seconds"
                    placeholder="60"
                    value={form.newGroupDelay}
                    onInput={(e) => set({ newGroupDelay: e.currentTarget.value })}
                  />
                  <span class="muted">seconds (a new {groupKeys.join(', ')} may start noisy)</span>
                </div>
              </div>
            )}
          </div>
        </div>
      )}

      <div class="card">
        <h2>
          <span class="step">{form.mode === 'metric' ? 3 : 2}</span>Name and message
        </h2>
        <div class="details-grid">
          <label class="field wide">
            <span>Name</span>
            <input
              type="text"
              aria-invalid={nameMissing ? 'true' : undefined}
              class={nameMissing ? 'invalid' : undefined}
              placeholder="CPU is high on {{host.name}}"
              value={form.name}
              onInput={(e) => set({ name: e.currentTarget.value })}
            />
          </label>
          <label class="field wide">
            <span>Message</span>
            <textarea
              ref={message}
              class="plain"
              rows={5}
              placeholder={'{{#is_alert}}CPU at {{value}} (threshold {{threshold}}).{{/is_alert}} @webhook-ops'}
              value={form.message}
              onInput={(e) => set({ message: e.currentTarget.value })}
            />
          </label>
          <div class="variables wide" aria-label="Template variables">
            <span class="muted small">Insert:</span>
            {[...groupKeys.map((k) => ({ text: `{{${k}.name}}`, what: `the group's ${k}` })), ...TEMPLATE_VARIABLES].map((v) => (
              <button type="button" key={v.text} class="var-chip" title={v.what} onClick={() => insertVariable(v.text.replace('…', ''))}>
                {v.text}
              </button>
            ))}
          </div>
          <label class="field">
            <span>Tags</span>
            <input type="text" class="mono" placeholder="team:db, service:api" value={form.tags} onInput={(e) => set({ tags: e.currentTarget.value })} />
          </label>
          <label class="field">
            <span>Priority</span>
            <select value={form.priority} onChange={(e) => set({ priority: e.currentTarget.value })}>
              <option value="">None</option>
              {[1, 2, 3, 4, 5].map((p) => (
                <option key={p} value={String(p)}>
                  P{p}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>

      <div class="form-footer">
        <div class="check-result" data-testid="validation" data-state={check.kind} role="status">
          <CheckLine check={check} />
        </div>
        {saveError && (
          <div class="error-box save-error" role="alert">
            {saveError}
          </div>
        )}
        <div class="footer-actions">
          <Link href={id !== undefined ? `/monitors/${id}` : '/monitors'} class="button">
            Cancel
          </Link>
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Saving…' : id !== undefined ? 'Save changes' : 'Create monitor'}
          </button>
        </div>
      </div>
    </form>
  );
}

/** Most groups the prediction lists. */
const PREDICTED_MAX = 8;

/** The status each group would have now, by the form's thresholds. */
function Prediction({ list, what }: { list: Predicted[]; what: string }) {
  const order = { Alert: 0, Warn: 1, 'No Data': 2, OK: 3 };
  const sorted = [...list].sort((a, b) => order[a.status] - order[b.status] || a.label.localeCompare(b.label));
  return (
    <div class="prediction" data-testid="prediction">
      <span class="muted small">Now ({what}):</span>
      {sorted.slice(0, PREDICTED_MAX).map((p) => (
        <span key={p.label} class="predicted" data-label={p.label} data-status={p.status}>
          <span class="predicted-label">{p.label}</span> <b>{formatValue(p.value)}</b> <StatusBadge status={p.status} small />
        </span>
      ))}
      {sorted.length > PREDICTED_MAX && <span class="muted small">and {sorted.length - PREDICTED_MAX} more</span>}
    </div>
  );
}

function CheckLine({ check }: { check: Check }) {
  switch (check.kind) {
    case 'idle':
      return null;
    case 'checking':
      return <span class="muted">Checking…</span>;
    case 'ok':
      return <span class="check-ok">✓ The server accepts this monitor.</span>;
    case 'local':
      return <span class="muted">{check.problems.join(' ')}</span>;
    case 'invalid':
      return (
        <span class="check-bad" data-testid="validation-error">
          {check.message}
        </span>
      );
  }
}

/** Validates the form's definition with the server whenever typing
 *  pauses. An empty name is not reported here (it is on save). */
function useValidation(form: FormState, id?: number): Check {
  const { def, problems } = definitionOf(form, '(name)');
  const key = useDebounced(def ? JSON.stringify(def) : `local:${problems.join(' ')}`, DEBOUNCE_MS);
  const [check, setCheck] = useState<Check>({ kind: 'idle' });
  useEffect(() => {
    if (key.startsWith('local:')) {
      setCheck(key === 'local:' ? { kind: 'idle' } : { kind: 'local', problems: [key.slice(6)] });
      return;
    }
    let live = true;
    setCheck({ kind: 'checking' });
    validateMonitor(JSON.parse(key), id).then(
      () => live && setCheck({ kind: 'ok' }),
      (e) => live && setCheck({ kind: 'invalid', message: messageOf(e) }),
    );
    return () => {
      live = false;
    };
  }, [key, id]);
  return check;
}

interface Preview {
  /** The query these series answer. */
  query: string;
  series: ThresholdSeries[];
  from: number;
  to: number;
  problem: QueryProblem | null;
  loading: boolean;
}

/** The metric query over the window's recent past, fetched when typing
 *  pauses. */
function usePreview(metric: string, window: string): Preview {
  const q = useDebounced(metric.trim(), DEBOUNCE_MS);
  const span = Math.min(PREVIEW_MAX_MS, Math.max(PREVIEW_MIN_MS, windowSeconds(window) * 1000 * PREVIEW_WINDOWS));
  const [p, setP] = useState<Preview>({ query: '', series: [], from: Date.now() - span, to: Date.now(), problem: null, loading: false });
  useEffect(() => {
    if (!q) {
      setP((old) => ({ ...old, query: '', series: [], problem: null, loading: false }));
      return;
    }
    const ctl = new AbortController();
    const to = Date.now();
    const from = to - span;
    setP((old) => ({ ...old, loading: true }));
    runQuery(q, from, to, ctl.signal).then(
      (series) =>
        setP({
          query: q,
          series: series.map((s) => ({ label: s.tag_set?.length ? s.tag_set.join(', ') : s.scope && s.scope !== '*' ? s.scope : s.expression, points: s.pointlist })),
          from,
          to,
          problem: null,
          loading: false,
        }),
      (e) => {
        if (isAbort(e)) return;
        const message = messageOf(e);
        setP({ query: q, series: [], from, to, loading: false, problem: e instanceof ApiError && e.status === 400 ? placeError(message, q) : { message, index: null } });
      },
    );
    return () => ctl.abort();
  }, [q, span]);
  return p;
}

const RAW_PLACEHOLDER: Record<string, string> = {
  'service check': '"datadog.agent.up".over("*").by("host").last(2).count_by_status()',
  'event alert': 'events("sources:deploy priority:all").rollup("count").last("5m") > 0',
  'event-v2 alert': 'events("source:deploy").rollup("count").last("5m") > 0',
  composite: '1 && 2',
  'log alert': 'logs("status:error").index("*").rollup("count").last("5m") > 10',
  'metric alert': 'avg(last_5m):avg:system.cpu.user{*} > 80',
  'query alert': 'avg(last_5m):sum:a{*} / sum:b{*} > 0.5',
};

const UNIT_WORD: Record<string, string> = { m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month' };

/** `5m` → `5 minutes`. */
export function describeWindow(w: string): string {
  const m = /^(\d+)(mo|[mhdw])$/.exec(w);
  if (!m) return w;
  const n = Number(m[1]);
  return `${n} ${UNIT_WORD[m[2]]}${n === 1 ? '' : 's'}`;
}

function describeSpan(ms: number): string {
  if (ms % 86_400_000 === 0) return describeWindow(`${ms / 86_400_000}d`);
  if (ms % 3_600_000 === 0) return describeWindow(`${ms / 3_600_000}h`);
  return describeWindow(`${Math.round(ms / 60_000)}m`);
}
