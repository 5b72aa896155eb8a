// The data of a heatmap widget: per time bucket, how the values spread
// over value bins.
//
// - For a distribution metric, the spread of its samples: the query's
//   metric and scope asked for its minimum, percentiles and maximum
//   (`min:`, `p10:`, ..., `max:` in one `/api/v1/query`); the share of the
//   samples between two neighbouring percentiles (10 % between p10 and
//   p20) is spread evenly over the bins between their values.
// - For any other metric (the percentile query is refused: not a
//   distribution), the spread of its series: the query as written
//   (`avg:m{*} by {host}`), each series' value at a time counting one in
//   its bin, as Datadog's heatmap of a grouped query.
//
// Pure functions but for `heatmapOf`, which queries.

import { isAbort } from '../../api';
import { queryV1, type WidgetDefinition } from '../../lib/dashboards-api';
import { parseSimple } from '../../lib/query';
import { requestsOf, type QueryCtx } from './requests';
import { substitute } from './templating';

/** The percentiles asked of a distribution, with its min (0) and max
 *  (100): finer where the tail is, where latency questions are. */
const PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 100];

/** Value bins: enough to see a shape in a widget about 200 px high,
 *  few enough that each is several pixels. */
export const BINS = 24;

export interface Heatmap {
  mode: 'distribution' | 'series';
  /** Bucket start times, ms, ascending. */
  times: number[];
  /** BINS + 1 increasing bin edges (values). */
  edges: number[];
  log: boolean;
  /** `times.length × BINS` weights, time-major: series counted, or the
   *  share of samples (0..1). */
  cells: Float64Array;
  max: number;
  /** A cell's width in ms. */
  interval: number;
}

/** The query of a distribution's percentiles for `q`'s metric and scope,
 *  or null when `q` is not a plain metric query. */
export function percentileQuery(q: string): string | null {
  const s = parseSimple(q);
  if (!s || s.pre.trim() !== '') return null;
  return PERCENTILES.map((p) => `${aggrOf(p)}:${s.metric}{${s.scope}}`).join(', ');
}

/** The space aggregator of a percentile (`min` for 0, `max` for 100). */
const aggrOf = (p: number) => (p === 0 ? 'min' : p === 100 ? 'max' : `p${p}`);

/** A heatmap widget's data (see the module doc); null when there is no
 *  value in the window. */
export async function heatmapOf(def: WidgetDefinition, ctx: QueryCtx): Promise<Heatmap | null> {
  const r = requestsOf(def)[0];
  if (!r || typeof r.q !== 'string' || !r.q.trim()) throw new Error('not supported yet: a heatmap needs a classic query (`q`)');
  const q = substitute(r.q, ctx.vars);
  const log = (def.yaxis as { scale?: string } | undefined)?.scale === 'log';
  const pq = percentileQuery(q);
  const [dist, plain] = await Promise.all([
    pq ? queryV1(pq, ctx.from, ctx.to, ctx.signal).catch((e) => (isAbort(e) ? Promise.reject(e) : null)) : Promise.resolve(null),
    queryV1(q, ctx.from, ctx.to, ctx.signal),
  ]);
  if (dist && dist.length > 0) {
    const byAggr = new Map(dist.map((s) => [s.aggr, s.pointlist]));
    return fromPercentiles(
      PERCENTILES.map((p) => byAggr.get(aggrOf(p)) ?? []),
      log,
    );
  }
  return fromSeries(
    plain.map((s) => s.pointlist),
    log,
  );
}

type Points = [number, number | null][];

/** The times with a value, ascending, and the width of a cell: the
 *  average step between them (the answer's buckets can be finer than the
 *  points, whose cells would then be stripes with gaps). */
function timesOf(lists: Points[]): { times: number[]; interval: number; index: Map<number, number> } {
  const set = new Set<number>();
  for (const l of lists) for (const [t, v] of l) if (v !== null && Number.isFinite(v)) set.add(t);
  const times = [...set].sort((a, b) => a - b);
  const interval = times.length > 1 ? (times[times.length - 1] - times[0]) / (times.length - 1) : 60_000;
  const index = new Map(times.map((t, i) => [t, i]));
  return { times, interval, index };
}

/** Bin edges over [lo, hi] (logarithmic when `log` and lo > 0). */
function edgesOf(lo: number, hi: number, log: boolean): { edges: number[]; log: boolean } {
  if (hi <= lo) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const useLog = log && lo > 0;
  const a = useLog ? Math.log10(lo) : lo;
  const b = useLog ? Math.log10(hi) : hi;
  const edges = Array.from({ length: BINS + 1 }, (_, i) => {
    const x = a + ((b - a) * i) / BINS;
    return useLog ? 10 ** x : x;
  });
  return { edges, log: useLog };
}

/** The bin of `v` (clamped into the range). */
function binOf(v: number, edges: number[], log: boolean): number {
  const a = log ? Math.log10(edges[0]) : edges[0];
  const b = log ? Math.log10(edges[BINS]) : edges[BINS];
  const x = log ? Math.log10(Math.max(v, edges[0])) : v;
  return Math.max(0, Math.min(BINS - 1, Math.floor(((x - a) / (b - a)) * BINS)));
}

function range(lists: Points[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lists) {
    for (const [, v] of l) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Each series' value counts one in its bin. */
export function fromSeries(lists: Points[], log: boolean): Heatmap | null {
  const r = range(lists);
  if (!r) return null;
  const { times, interval, index } = timesOf(lists);
  const { edges, log: useLog } = edgesOf(r[0], r[1], log);
  const cells = new Float64Array(times.length * BINS);
  for (const l of lists) {
    for (const [t, v] of l) {
      if (v === null || !Number.isFinite(v)) continue;
      cells[index.get(t)! * BINS + binOf(v, edges, useLog)] += 1;
    }
  }
  return { mode: 'series', times, edges, log: useLog, cells, max: maxOf(cells), interval };
}

/** `lists[k]` is the series of PERCENTILES[k]; the share of samples
 *  between two neighbours is spread over the bins between them. */
export function fromPercentiles(lists: Points[], log: boolean): Heatmap | null {
  const r = range(lists);
  if (!r) return null;
  const { times, interval, index } = timesOf(lists);
  const { edges, log: useLog } = edgesOf(r[0], r[1], log);
  const f = (v: number) => (useLog ? Math.log10(Math.max(v, edges[0])) : v);
  const cells = new Float64Array(times.length * BINS);
  const at = lists.map((l) => new Map(l.map(([t, v]) => [t, v])));
  for (const t of times) {
    const row = index.get(t)! * BINS;
    const qs = at.map((m) => m.get(t) ?? null);
    for (let k = 0; k + 1 < qs.length; k++) {
      const lo = qs[k];
      const hi = qs[k + 1];
      if (lo === null || hi === null) continue;
      const share = (PERCENTILES[k + 1] - PERCENTILES[k]) / 100;
      const a = f(Math.min(lo, hi));
      const b = f(Math.max(lo, hi));
      const first = binOf(Math.min(lo, hi), edges, useLog);
      const last = binOf(Math.max(lo, hi), edges, useLog);
      if (first === last || b <= a) {
        cells[row + first] += share;
        continue;
      }
      for (let bin = first; bin <= last; bin++) {
        const e0 = f(edges[bin]);
        const e1 = f(edges[bin + 1]);
        const overlap = Math.min(b, e1) - Math.max(a, e0);
        if (overlap > 0) cells[row + bin] += (share * overlap) / (b - a);
      }
    }
  }
  return { mode: 'distribution', times, edges, log: useLog, cells, max: maxOf(cells), interval };
}

function maxOf(cells: Float64Array): number {
  let m = 0;
  for (const c of cells) if (c > m) m = c;
  return m;
}
