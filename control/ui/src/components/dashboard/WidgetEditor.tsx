// The form that adds or edits a widget: its type, title and queries (the
// explorer's query editor, with autocomplete and the parser's errors at
// their position), how each query is drawn, the type's own settings, and
// a live preview. "Edit as JSON" shows the whole definition for anything
// the form does not cover.
//
// An edit keeps every field of the definition the form does not show
// (styles, markers, formula requests, options of a Datadog export): the
// form changes its fields on a copy of the original.

import { useMemo, useState } from 'preact/hooks';
import { ApiError, isAbort, messageOf } from '../../api';
import { queryV1, type WidgetDefinition, type WidgetRequest } from '../../lib/dashboards-api';
import { placeError, type QueryProblem } from '../../lib/query';
import { QueryEditor } from '../QueryEditor';
import type { DisplayType } from '../TimeseriesChart';
import { DashContext, useDash } from './context';
import { Modal } from './Modal';
import { requestsOf } from './requests';
import { substitute } from './templating';
import { WidgetView, typeName } from './Widget';

/** The types the form builds. */
const TYPES = ['timeseries', 'query_value', 'toplist', 'heatmap', 'note', 'group'];

const DISPLAYS: DisplayType[] = ['line', 'area', 'bars'];

const AGGREGATORS = ['avg', 'sum', 'min', 'max', 'last'];

const BACKGROUNDS = ['white', 'yellow', 'gray', 'blue', 'green', 'orange', 'pink', 'purple', 'red'];

/** Most queries a timeseries widget takes in the form. */
const MAX_QUERIES = 10;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

interface Row {
  q: string;
  display: DisplayType;
}

interface Form {
  type: string;
  title: string;
  rows: Row[];
  aggregator: string;
  precision: string;
  unit: string;
  content: string;
  background: string;
}

/** The classic requests of a definition (`q`), in order. */
const classic = (def: WidgetDefinition | null): WidgetRequest[] => (def ? requestsOf(def).filter((r) => typeof r.q === 'string') : []);

function formOf(def: WidgetDefinition | null): Form {
  const rows = classic(def).map((r) => ({ q: String(r.q), display: (DISPLAYS.includes(r.display_type as DisplayType) ? r.display_type : 'line') as DisplayType }));
  const first = def ? requestsOf(def)[0] : undefined;
  return {
    type: def?.type ?? 'timeseries',
    title: typeof def?.title === 'string' ? def.title : '',
    rows: rows.length ? rows : [{ q: '', display: 'line' }],
    aggregator: typeof first?.aggregator === 'string' ? first.aggregator : 'avg',
    precision: typeof def?.precision === 'number' ? String(def.precision) : '2',
    unit: typeof def?.custom_unit === 'string' ? def.custom_unit : '',
    content: typeof def?.content === 'string' ? def.content : '',
    background: typeof def?.background_color === 'string' ? def.background_color : 'yellow',
  };
}

/** The definition the form describes, on a copy of `initial`. */
function build(f: Form, initial: WidgetDefinition | null): WidgetDefinition {
  const same = initial && initial.type === f.type;
  const def: WidgetDefinition = same ? JSON.parse(JSON.stringify(initial)) : { type: f.type };
  if (f.title.trim()) def.title = f.title.trim();
  else delete def.title;
  const olds = classic(same ? initial : null);
  const others = same ? requestsOf(initial!).filter((r) => typeof r.q !== 'string') : [];
  const rows = f.rows.filter((r) => r.q.trim());
  switch (f.type) {
    case 'timeseries':
      def.requests = [...rows.map((r, i) => ({ ...(olds[i] ?? {}), q: r.q.trim(), display_type: r.display })), ...others];
      if (!same) def.show_legend = true;
      break;
    case 'query_value':
    case 'toplist':
    case 'heatmap': {
      const r = rows[0];
      const req: WidgetRequest | null = r ? { ...(olds[0] ?? {}), q: r.q.trim() } : (others[0] ?? null);
      if (req && f.type === 'query_value') req.aggregator = f.aggregator;
      def.requests = req ? [req] : [];
      if (f.type === 'query_value') {
        const p = Number(f.precision);
        def.precision = Number.isInteger(p) && p >= 0 && p <= 10 ? p : 2;
        if (f.unit.trim()) def.custom_unit = f.unit.trim();
        else delete def.custom_unit;
        if (def.autoscale === undefined) def.autoscale = true;
      }
      break;
    }
    case 'note':
      def.content = f.content;
      def.background_color = f.background;
      delete def.title;
      break;
    case 'group':
      if (!Array.isArray(def.widgets)) def.widgets = [];
      if (!def.layout_type) def.layout_type = 'ordered';
      break;
  }
  return def;
}

const usesQueries = (type: string) => type === 'timeseries' || type === 'query_value' || type === 'toplist' || type === 'heatmap';

export interface WidgetEditorProps {
  /** The widget's definition, or null for a new one. */
  initial: WidgetDefinition | null;
  onApply: (def: WidgetDefinition) => void;
  onCancel: () => void;
}

export function WidgetEditor({ initial, onApply, onCancel }: WidgetEditorProps) {
  const dash = useDash();
  // What the form edits: the original, or what "Edit as JSON" made of it.
  const [base, setBase] = useState(initial);
  const [form, setForm] = useState<Form>(() => formOf(initial));
  const [problems, setProblems] = useState<(QueryProblem | null)[]>([]);
  const [preview, setPreview] = useState<WidgetDefinition>(() => build(formOf(initial), initial));
  const [json, setJson] = useState<{ text: string; error: string | null } | null>(null);
  const previewCtx = useMemo(() => ({ ...dash, reportDrawn: () => {} }), [dash]);
  const formulas = base ? requestsOf(base).filter((r) => typeof r.q !== 'string').length : 0;

  function update(next: Partial<Form>, refresh = false) {
    const f = { ...form, ...next };
    setForm(f);
    if (refresh) setPreview(build(f, base));
  }

  function setRow(i: number, row: Partial<Row>, refresh = false) {
    update({ rows: form.rows.map((r, j) => (j === i ? { ...r, ...row } : r)) }, refresh);
  }

  /** Runs a query for its errors (placed in its editor) and shows the
   *  preview. */
  async function check(i: number, text: string) {
    const rows = form.rows.map((r, j) => (j === i ? { ...r, q: text } : r));
    const f = { ...form, rows };
    setForm(f);
    setPreview(build(f, base));
    if (!text.trim()) return setProblem(i, null);
    const q = substitute(text, dash.vars);
    try {
      await queryV1(q, dash.from, dash.to);
      setProblem(i, null);
    } catch (e) {
      if (isAbort(e)) return;
      const message = messageOf(e);
      // A position is in the text sent: only placed when it is the text
      // typed (no template variable put in).
      setProblem(i, e instanceof ApiError && e.status === 400 && q === text ? placeError(message, text) : { message, index: null });
    }
  }

  function setProblem(i: number, p: QueryProblem | null) {
    setProblems((ps) => {
      const next = [...ps];
      next[i] = p;
      return next;
    });
  }

  function openJson() {
    setJson({ text: JSON.stringify(build(form, base), null, 2), error: null });
  }

  /** The JSON's definition, or null (with the error shown). */
  function parseJson(): WidgetDefinition | null {
    if (!json) return null;
    try {
      const d = JSON.parse(json.text);
      if (!d || typeof d !== 'object' || Array.isArray(d) || typeof d.type !== 'string' || !d.type) {
        throw new Error('the definition must be an object with a "type"');
      }
      return d as WidgetDefinition;
    } catch (e) {
      setJson({ ...json, error: `Not a widget definition: ${messageOf(e)}` });
      return null;
    }
  }

  function submit(e: Event) {
    e.preventDefault();
    if (json) {
      const d = parseJson();
      if (d) onApply(d);
      return;
    }
    onApply(build(form, base));
  }

  return (
    <Modal title={initial ? `Edit ${typeName(initial.type).toLowerCase()} widget` : 'Add a widget'} onClose={onCancel} wide>
      <form class="widget-editor" onSubmit={submit}>
        {json ? (
          <div class="we-json">
            <label class="field">
              Widget definition (JSON, as Datadog's API takes it)
              <textarea
                aria-label="Widget JSON"
                spellcheck={false}
                rows={18}
                value={json.text}
                onInput={(e) => setJson({ text: e.currentTarget.value, error: null })}
              />
            </label>
            {json.error && (
              <p class="error" role="alert">
                {json.error}
              </p>
            )}
          </div>
        ) : (
          <>
            <div class="we-row">
              <label class="field">
                Type
                <select aria-label="Widget type" value={form.type} onChange={(e) => update({ type: e.currentTarget.value }, true)}>
                  {TYPES.map((t) => (
                    <option key={t} value={t}>
                      {typeName(t)}
                    </option>
                  ))}
                  {!TYPES.includes(form.type) && <option value={form.type}>{typeName(form.type)}</option>}
                </select>
              </label>
              {form.type !== 'note' && (
                <label class="field grow">
                  Title
                  <input type="text" value={form.title} placeholder="What this widget shows" onInput={(e) => update({ title: e.currentTarget.value })} onBlur={() => setPreview(build(form, base))} />
                </label>
              )}
            </div>
            {usesQueries(form.type) && (
              <div class="we-queries">
                <div class="we-label">{form.type === 'timeseries' ? 'Queries' : 'Query'}</div>
                {(form.type === 'timeseries' ? form.rows : form.rows.slice(0, 1)).map((r, i) => (
                  <div class="we-query" key={i}>
                    <QueryEditor
                      letter={LETTERS[i % 26]}
                      value={r.q}
                      onChange={(t) => setRow(i, { q: t })}
                      onRun={(t) => check(i, t)}
                      problem={problems[i] ?? null}
                      onRemove={form.type === 'timeseries' && form.rows.length > 1 ? () => update({ rows: form.rows.filter((_, j) => j !== i) }, true) : undefined}
                    />
                    {form.type === 'timeseries' && (
                      <select aria-label={`Display ${LETTERS[i % 26]}`} title="How this query is drawn" value={r.display} onChange={(e) => setRow(i, { display: e.currentTarget.value as DisplayType }, true)}>
                        {DISPLAYS.map((d) => (
                          <option key={d} value={d}>
                            {d === 'line' ? 'Line' : d === 'area' ? 'Area' : 'Bars'}
                          </option>
                        ))}
                      </select>
                    )}
                  </div>
                ))}
                <div class="we-query-actions">
                  {form.type === 'timeseries' && (
                    <button type="button" onClick={() => update({ rows: [...form.rows, { q: '', display: 'line' }] })} disabled={form.rows.length >= MAX_QUERIES}>
                      + Add query
                    </button>
                  )}
                  <button type="button" onClick={() => form.rows.forEach((r, i) => check(i, r.q))}>
                    Preview
                  </button>
                  <span class="muted">
                    Press Enter in a query to check it. Template variables (<code>$host</code>) work in scopes.
                  </span>
                </div>
                {formulas > 0 && (
                  <p class="muted">
                    This widget also has {formulas} formula request{formulas > 1 ? 's' : ''}, kept as {formulas > 1 ? 'they are' : 'it is'}: edit {formulas > 1 ? 'them' : 'it'} as JSON.
                  </p>
                )}
              </div>
            )}
            {form.type === 'query_value' && (
              <div class="we-row">
                <label class="field">
                  Aggregator
                  <select aria-label="Aggregator" value={form.aggregator} onChange={(e) => update({ aggregator: e.currentTarget.value }, true)}>
                    {AGGREGATORS.map((a) => (
                      <option key={a} value={a}>
                        {a}
                      </option>
                    ))}
                  </select>
                </label>
                <label class="field">
                  Decimals
                  <input type="number" min={0} max={10} value={form.precision} onInput={(e) => update({ precision: e.currentTarget.value }, true)} />
                </label>
                <label class="field">
                  Unit
                  <input type="text" value={form.unit} placeholder="ms, %, req/s" onInput={(e) => update({ unit: e.currentTarget.value }, true)} />
                </label>
              </div>
            )}
            {form.type === 'note' && (
              <div class="we-row">
                <label class="field grow">
                  Text (Markdown: paragraphs, **bold**, [links](https://…), lists)
                  <textarea aria-label="Note text" rows={6} value={form.content} onInput={(e) => update({ content: e.currentTarget.value }, true)} />
                </label>
                <label class="field">
                  Background
                  <select aria-label="Background" value={form.background} onChange={(e) => update({ background: e.currentTarget.value }, true)}>
                    {BACKGROUNDS.map((b) => (
                      <option key={b} value={b}>
                        {b}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
            )}
            {form.type === 'group' && <p class="muted">A group is a titled box. Move widgets into it by editing the dashboard's JSON, or add them to the dashboard and place them around it.</p>}
            <div class="we-preview" data-testid="widget-preview">
              <DashContext.Provider value={previewCtx}>
                <WidgetView widget={{ definition: preview }} wkey="preview" editing={false} rowPx={80} actions={NO_ACTIONS} />
              </DashContext.Provider>
            </div>
          </>
        )}
        <div class="modal-actions">
          {json ? (
            <button
              type="button"
              onClick={() => {
                const d = parseJson();
                if (d) {
                  setBase(d);
                  setForm(formOf(d));
                  setPreview(d);
                  setJson(null);
                }
              }}
            >
              Back to the form
            </button>
          ) : (
            <button type="button" onClick={openJson}>
              Edit as JSON
            </button>
          )}
          <span class="spacer" />
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary">
            {initial ? 'Apply' : 'Add widget'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

const NO_ACTIONS = { onEdit: () => {}, onRemove: () => {}, onLayout: () => {} };
