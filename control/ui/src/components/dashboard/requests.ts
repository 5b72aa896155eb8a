// What a widget's requests answer: the series of a timeseries widget, the
// numbers of a query value or top list. A request is either classic (`q`,
// answered by `GET /api/v1/query`) or formula style (`queries` and
// `formulas`, answered by `POST /api/v2/query/timeseries` or `/scalar`);
// the template variables are put in first.
//
// The requests of a widget run in parallel; one that fails gives its
// error (shown in the widget) and the others still draw.

import { isAbort, messageOf } from '../../api';
import {
  queryScalar,
  queryTimeseries,
  queryV1,
  type ConditionalFormat,
  type V1Series,
  type V2Formula,
  type V2Query,
  type WidgetDefinition,
  type WidgetRequest,
} from '../../lib/dashboards-api';
import { parseSimple } from '../../lib/query';
import type { ChartSeries, DisplayType } from '../TimeseriesChart';
import { PALETTE } from '../TimeseriesChart';
import { substitute, type VarValue } from './templating';

/** What a widget's queries need: the window, the variables, a way to
 *  cancel. */
export interface QueryCtx {
  from: number;
  to: number;
  vars: VarValue[];
  signal: AbortSignal;
}

/** The requests of a definition that is a list of them (a few widget
 *  types, like the scatter plot, have an object instead). */
export function requestsOf(def: WidgetDefinition): WidgetRequest[] {
  return Array.isArray(def.requests) ? def.requests.filter((r) => r && typeof r === 'object') : [];
}

/** Datadog's palettes, by the name a request's `style.palette` gives. */
const PALETTES: Record<string, string[]> = {
  dog_classic: PALETTE,
  classic: PALETTE,
  cool: ['#1f77b4', '#17becf', '#2ca02c', '#4e79a7', '#76b7b2', '#3566c9', '#00899b', '#59a14f'],
  warm: ['#e15759', '#f28e2b', '#edc948', '#d2452c', '#ff9d76', '#b6452c', '#e0701b', '#a68200'],
  purple: ['#7b4fd6', '#9c6ade', '#b07aa1', '#6a3d9a', '#c5b0d5', '#8e6cc2'],
  orange: ['#e0701b', '#f28e2b', '#ffbe7d', '#d4580c', '#f5a25d', '#b85a0d'],
  gray: ['#5d6d7e', '#85929e', '#34495e', '#aab7b8', '#707b7c', '#4d5656'],
  grey: ['#5d6d7e', '#85929e', '#34495e', '#aab7b8', '#707b7c', '#4d5656'],
  red: ['#c62828', '#e57373', '#b71c1c', '#ef5350', '#d32f2f'],
  green: ['#2e7d32', '#66bb6a', '#1b5e20', '#43a047', '#81c784'],
  blue: ['#1565c0', '#42a5f5', '#0d47a1', '#1e88e5', '#64b5f6'],
};

function colorFor(palette: string | undefined, i: number): string {
  const p = (palette && PALETTES[palette]) || PALETTE;
  return p[i % p.length];
}

function displayOf(r: WidgetRequest): DisplayType {
  return r.display_type === 'area' || r.display_type === 'bars' ? r.display_type : 'line';
}

/** A classic series' name: its alias (the request's `metadata`), its
 *  group's tags, or its expression. */
function labelV1(r: WidgetRequest, s: V1Series): string {
  const alias = r.metadata?.find((m) => m && m.expression === s.expression)?.alias_name;
  const tags = s.tag_set?.length ? s.tag_set.join(', ') : '';
  if (alias) return tags ? `${alias} · ${tags}` : alias;
  return tags || s.expression;
}

/** The named queries and formulas of a formula request, variables put in. */
function v2Parts(r: WidgetRequest, vars: VarValue[], aggregator?: string): { queries: V2Query[]; formulas: V2Formula[] } {
  const queries = (r.queries ?? []).map((q) => {
    const out: V2Query = { data_source: q.data_source ?? 'metrics', name: q.name, query: substitute(q.query, vars) };
    const agg = q.aggregator ?? aggregator;
    if (agg) out.aggregator = agg;
    return out;
  });
  const formulas = (r.formulas ?? []).map((f) => (f.limit ? { formula: f.formula, limit: f.limit } : { formula: f.formula }));
  return { queries, formulas };
}

export interface TimeseriesData {
  series: ChartSeries[];
  /** One message per failed request. */
  errors: string[];
}

/** Every series of a timeseries widget's requests. */
export async function timeseriesOf(def: WidgetDefinition, ctx: QueryCtx): Promise<TimeseriesData> {
  const reqs = requestsOf(def);
  const answers = await Promise.all(reqs.map((r) => seriesOfRequest(r, ctx).then((s) => ({ s }), (e) => ({ e }))));
  const series: ChartSeries[] = [];
  const errors: string[] = [];
  answers.forEach((a, i) => {
    if ('e' in a) {
      if (isAbort(a.e)) throw a.e;
      errors.push(reqs.length > 1 ? `Query ${i + 1}: ${messageOf(a.e)}` : messageOf(a.e));
      return;
    }
    const palette = reqs[i].style?.palette;
    // Classic-palette requests continue each other's colours; a request
    // with its own palette starts at its first colour.
    const offset = !palette || palette === 'dog_classic' || palette === 'classic' ? series.length : 0;
    a.s.forEach((s, j) => series.push({ ...s, display: displayOf(reqs[i]), color: colorFor(palette, offset + j) }));
  });
  // Two series with one label would share a legend row's key.
  const seen = new Map<string, number>();
  for (const s of series) {
    const n = seen.get(s.label) ?? 0;
    seen.set(s.label, n + 1);
    if (n) s.label = `${s.label} (${n + 1})`;
  }
  return { series, errors };
}

/** A classic query that is one metric query (`avg:m{s} by {k}` and
 *  methods like `.as_count()`, `.rollup(...)`, `.fill(...)`): the v2 API
 *  answers it too. Functions, arithmetic and lists of queries are not. */
export function isSingleMetricQuery(q: string): boolean {
  const s = parseSimple(q);
  return !!s && s.pre.trim() === '' && /^(\s*\.\w+\([^()]*\))*\s*$/.test(s.post);
}

async function seriesOfRequest(r: WidgetRequest, ctx: QueryCtx): Promise<ChartSeries[]> {
  if (typeof r.q === 'string' && r.q.trim()) {
    const q = substitute(r.q, ctx.vars);
    if (isSingleMetricQuery(q)) {
      // The v2 answer of the same query: one shared time column and a
      // value column per series, about a sixth of the v1 answer's bytes
      // (no timestamp per point), so less to send, parse and collect.
      const a = await queryTimeseries([{ data_source: 'metrics', name: 'q', query: q }], [], ctx.from, ctx.to, ctx.signal);
      const alias = r.metadata?.find((m) => m && m.expression === r.q)?.alias_name;
      const out: ChartSeries[] = [];
      a.series.forEach((s, j) => {
        const vals = a.values[j] ?? [];
        // v2 reports every bucket; a series without any value is left out
        // (as v1 does).
        if (!vals.some((v) => v !== null)) return;
        const tags = s.group_tags?.length ? s.group_tags.join(', ') : '';
        out.push({ label: alias ? (tags ? `${alias} · ${tags}` : alias) : tags || q, points: [], columns: { times: a.times, values: vals } });
      });
      return out;
    }
    const list = await queryV1(q, ctx.from, ctx.to, ctx.signal);
    return list.map((s) => ({ label: labelV1(r, s), points: s.pointlist }));
  }
  if (Array.isArray(r.queries) && r.queries.length) {
    const { queries, formulas } = v2Parts(r, ctx.vars);
    const a = await queryTimeseries(queries, formulas, ctx.from, ctx.to, ctx.signal);
    return a.series.map((s, j) => {
      const f = r.formulas?.[s.query_index];
      const name = f ? f.alias || f.formula : (r.queries![s.query_index]?.name ?? `query${s.query_index + 1}`);
      const tags = s.group_tags?.length ? s.group_tags.join(', ') : '';
      const vals = a.values[j] ?? [];
      return { label: tags ? `${name} · ${tags}` : name, points: a.times.map((t, k) => [t, vals[k] ?? null] as [number, number | null]) };
    });
  }
  throw new Error(unsupportedRequest(r));
}

/** Why a request cannot be drawn. */
function unsupportedRequest(r: WidgetRequest): string {
  for (const k of ['log_query', 'apm_query', 'rum_query', 'process_query', 'network_query', 'event_query', 'security_query', 'audit_query']) {
    if (k in r) return `not supported yet: ${k.replace('_query', '')} queries (only metric queries are)`;
  }
  return 'this request has no metric query (`q`, or `queries` and `formulas`)';
}

// ---- Numbers (query value, top list)

/** A series reduced to one number: Datadog's aggregators (`avg`, `sum`,
 *  `min`, `max`, `last`) and `top()`'s ranks (`mean`, `area`, `l2norm`,
 *  `norm`). Null when the series has no value. */
export function reduce(values: (number | null)[], agg: string): number | null {
  let n = 0;
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let last: number | null = null;
  for (const v of values) {
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    n++;
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
    last = v;
  }
  if (n === 0) return null;
  switch (agg) {
    case 'sum':
    case 'area':
      return sum;
    case 'min':
      return min;
    case 'max':
      return max;
    case 'last':
      return last;
    case 'l2norm':
    case 'norm':
      return Math.sqrt(sq);
    default:
      return sum / n;
  }
}

/** `top(q, N, 'rank', 'dir')` or `topN_rank(q)`: the rank and the order;
 *  null for a query that is not a top. */
export function topOf(q: string): { rank: string; desc: boolean } | null {
  const full = /^\s*(top|bottom)\s*\(.*,\s*\d+\s*,\s*'(\w+)'\s*,\s*'(asc|desc)'\s*\)\s*$/s.exec(q);
  if (full) return { rank: full[2], desc: full[3] === 'desc' };
  const short = /^\s*(top|bottom)\d*(?:_(\w+))?\s*\(/.exec(q);
  if (short) return { rank: short[2] ?? 'mean', desc: short[1] === 'top' };
  return null;
}

export interface Row {
  label: string;
  value: number | null;
}

export interface ScalarData {
  rows: Row[];
  error: string | null;
  /** The order the query gave (a `top()`): kept as is. */
  ordered: boolean;
}

/** The first request of a query value or top list widget as one number
 *  per group (`aggregator`, default avg). */
export async function scalarsOf(def: WidgetDefinition, ctx: QueryCtx): Promise<ScalarData> {
  const r = requestsOf(def)[0];
  if (!r) return { rows: [], error: 'this widget has no request', ordered: false };
  const agg = typeof r.aggregator === 'string' ? r.aggregator : 'avg';
  try {
    if (typeof r.q === 'string' && r.q.trim()) {
      const list = await queryV1(substitute(r.q, ctx.vars), ctx.from, ctx.to, ctx.signal);
      const top = topOf(r.q);
      const rank = top && def.type === 'toplist' ? top.rank : agg;
      return {
        rows: list.map((s) => ({ label: labelV1(r, s), value: reduce(s.pointlist.map((p) => p[1]), rank) })),
        error: null,
        ordered: !!top,
      };
    }
    if (Array.isArray(r.queries) && r.queries.length) {
      const { queries, formulas } = v2Parts(r, ctx.vars, agg);
      const cols = await queryScalar(queries, formulas, ctx.from, ctx.to, ctx.signal);
      const groups = cols.find((c) => c.type === 'group')?.values as string[][] | undefined;
      const nums = cols.filter((c) => c.type === 'number');
      const col = nums[0];
      if (!col) return { rows: [], error: null, ordered: false };
      const f = r.formulas?.[0];
      const name = f ? f.alias || f.formula : col.name;
      const rows = (col.values as (number | null)[]).map((v, i) => ({ label: groups?.[i]?.length ? groups[i].join(', ') : name, value: v }));
      return { rows, error: null, ordered: !!f?.limit };
    }
    return { rows: [], error: unsupportedRequest(r), ordered: false };
  } catch (e) {
    if (isAbort(e)) throw e;
    return { rows: [], error: messageOf(e), ordered: false };
  }
}

/** The one number of several groups' numbers: the aggregator over them
 *  (`sum` adds them; `last` and `avg` average them). */
export function combine(rows: Row[], agg: string): number | null {
  return reduce(
    rows.map((r) => r.value),
    agg === 'last' ? 'avg' : agg,
  );
}

// ---- Conditional formats

/** The palette of the first rule `value` meets, or null. */
export function formatFor(rules: ConditionalFormat[] | undefined, value: number | null): string | null {
  if (value === null || !Array.isArray(rules)) return null;
  for (const r of rules) {
    if (!r || typeof r.value !== 'number') continue;
    const ok =
      r.comparator === '>' ? value > r.value
      : r.comparator === '>=' ? value >= r.value
      : r.comparator === '<' ? value < r.value
      : r.comparator === '<=' ? value <= r.value
      : r.comparator === '=' || r.comparator === '==' ? value === r.value
      : false;
    if (ok) return typeof r.palette === 'string' ? r.palette : null;
  }
  return null;
}
