// A chart of time series (uPlot, on canvas) with a legend that shows each
// series' value at the cursor, or its latest value when the cursor is
// elsewhere. Lines join points across empty buckets of the answer (as
// Datadog draws them); a lone point is drawn as a dot. Dragging across the
// chart selects a time span (`onZoom`); clicking a legend row hides or
// shows its series.
//
// Each series is drawn as a line (the default), an area or bars (Datadog's
// `display_type`). Areas and bars are stacked as Datadog stacks them: the
// areas on each other, the bars on each other, in the order given; the
// legend still shows each series' own value (without a legend, a tooltip
// by the cursor does). Horizontal `thresholds` (a
// monitor's alert and warning levels, a dashboard's markers) are drawn
// across the plot and kept inside the y range.
//
// The uPlot instance is made again only when the set of series (labels
// and how each is drawn) changes; a refresh with the same series (live
// mode) only swaps the data, so the cursor and hidden series stay where
// they are. Nothing is drawn per point in the DOM: the legend has one row
// per series.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatValue } from '../lib/format';
import { formatTime, timeTick } from '../lib/time';
import './TimeseriesChart.css';

/** How a series is drawn (Datadog's `display_type`). */
export type DisplayType = 'line' | 'area' | 'bars';

export interface ChartSeries {
  label: string;
  /** `[time in ms, value]`, as `/api/v1/query`'s `pointlist`. */
  points: [number, number | null][];
  /** Instead of `points`, columns as the v2 API answers them: the times
   *  (ms, ascending; series of one answer share the same array) and the
   *  value at each. Saves a pair per point on large answers. */
  columns?: { times: number[]; values: (number | null)[] };
  /** A line when not given. */
  display?: DisplayType;
  /** A colour of the palette (by position) when not given. */
  color?: string;
}

/** A horizontal line across the plot at `value`. */
export interface Threshold {
  value: number;
  /** Any CSS colour; the danger red when not given. */
  color?: string;
  /** Written at the line's right end. */
  label?: string;
  /** Dashed instead of solid. */
  dashed?: boolean;
}

export interface TimeseriesChartProps {
  series: ChartSeries[];
  /** The x axis spans the queried range, not only where there is data. */
  from: number;
  to: number;
  /** Pixels, or 'fill' to take the height of the box the chart is in (the
   *  chart's canvas box then grows in a flex column; a dashboard widget). */
  height?: number | 'fill';
  onZoom?: (from: number, to: number) => void;
  thresholds?: Threshold[];
  /** 'full' (the explorer's, the default), 'compact' (small rows in a
   *  short scrolling box, the first COMPACT_ROWS until "Show all", for
   *  dashboard widgets) or 'none'. */
  legend?: 'full' | 'compact' | 'none';
  /** Called after each draw of the canvas (the first one shows the data):
   *  dashboards time themselves with it. */
  onDrawn?: () => void;
}

/** Distinct on a white background and for the common colour blindnesses
 *  in the first few; repeats after ten. */
export const PALETTE = ['#3566c9', '#e0701b', '#1b9e5f', '#c2185b', '#7b4fd6', '#00899b', '#a68200', '#5d6d7e', '#d2452c', '#2e7d32'];

export const colorOf = (i: number) => PALETTE[i % PALETTE.length];

/** Selections narrower than this many pixels are clicks, not zooms. */
const MIN_ZOOM_PX = 4;

/** The legend shows a series' nearest point to the cursor within this
 *  fraction of the chart's time span (about 60 px on a laptop): the
 *  answer's buckets are finer than most series' points, so the bucket
 *  under the cursor is often empty, but a point further away than this
 *  is not "the value at the cursor". */
const NEAREST_FRACTION = 0.05;

/** The smallest chart a 'fill' box gets, so a widget made very small
 *  still shows its axes. */
const MIN_FILL_HEIGHT = 60;

/** Rows a compact legend shows before "Show all": its box shows a few
 *  at a time, and a hundred rows in each of ten widgets are a page's
 *  worth of layout and paint before anyone scrolls to them. */
const COMPACT_ROWS = 25;

/** Series up to which the cursor marks each one's value with a dot. */
const MAX_CURSOR_POINTS = 20;

/** Opacity of an area's fill (hex alpha appended to the colour): the
 *  lines of the stack stay readable through it. */
const AREA_ALPHA = '66';

export function TimeseriesChart({ series, from, to, height = 340, onZoom, thresholds, legend = 'full', onDrawn }: TimeseriesChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const range = useRef({ from, to });
  range.current = { from, to };
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  const lines = useRef(thresholds ?? []);
  lines.current = thresholds ?? [];
  const drawn = useRef(onDrawn);
  drawn.current = onDrawn;
  /** The cursor's bucket and, per series, the index of its value shown. */
  const [cursor, setCursor] = useState<{ idx: number; idxs: (number | null)[]; left: number; top: number } | null>(null);
  const [hidden, setHidden] = useState<Set<number>>(new Set());
  const [allRows, setAllRows] = useState(false);
  /** What the plot shows now. */
  const drawnWith = useRef<{ data: uPlot.AlignedData | null; from: number; to: number; thresholds: string }>({ data: null, from: 0, to: 0, thresholds: '' });

  const data = useMemo(() => align(series), [series]);
  const kinds = series.map((s) => s.display ?? 'line');
  const stacked = kinds.some((k) => k !== 'line');
  const kindKey = kinds.join(',');
  const drawnData = useMemo(() => (stacked ? stack(data, kinds) : data), [data, kindKey]);
  const colors = series.map((s, i) => s.color ?? colorOf(i));
  const identity = series.map((s, i) => `${s.label}\u0001${kinds[i]}\u0001${colors[i]}`).join('\u0000');
  const thresholdKey = (thresholds ?? []).map((t) => `${t.value}|${t.color}|${t.label}|${t.dashed}`).join(',');

  // The latest of what the plot draws, for when it is made.
  const latest = useRef({ data: drawnData, from, to, thresholds: thresholdKey });
  latest.current = { data: drawnData, from, to, thresholds: thresholdKey };

  // The plot is made when the box's size is first known: a ResizeObserver
  // reports it after the browser's own layout, where reading the size here
  // would force a layout of the whole page per chart (a dashboard makes
  // ten at once). Later reports resize it.
  useLayoutEffect(() => {
    const el = box.current!;
    let frame = 0;
    let p: uPlot | null = null;
    const bars = uPlot.paths.bars!({ size: [0.8, 48], gap: 0 });
    const opts: uPlot.Options = {
      width: 0,
      height: 0,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        y: false,
        // A dot per series at the cursor is a DOM element per series:
        // worth it for a few lines, not for a hundred.
        points: { size: 7, show: series.length <= MAX_CURSOR_POINTS },
        dataIdx: (u, si, closest) => nearestNonNull(u, si, closest),
      },
      scales: {
        x: { time: true, range: () => [range.current.from / 1000, range.current.to / 1000] },
        // Zero stays in view (as Datadog draws), so a change of 10 to 11
        // does not fill the chart's height; so do the thresholds.
        y: {
          range: (_u, min, max) => {
            let lo = Math.min(0, min ?? 0);
            let hi = Math.max(0, max ?? 1) || 1;
            for (const t of lines.current) {
              lo = Math.min(lo, t.value);
              hi = Math.max(hi, t.value);
            }
            return uPlot.rangeNum(lo, hi, 0.1, true);
          },
        },
      },
      axes: [
        {
          stroke: '#5b6270',
          grid: { stroke: '#eceef2', width: 1 },
          ticks: { stroke: '#d5d9e0', width: 1 },
          values: (_u, splits) => splits.map((t) => timeTick(t * 1000, range.current.to - range.current.from)),
        },
        {
          stroke: '#5b6270',
          size: 56,
          grid: { stroke: '#eceef2', width: 1 },
          ticks: { show: false },
          values: (_u, vals) => vals.map((v) => formatValue(v)),
        },
      ],
      series: [
        {},
        ...series.map((s, i): uPlot.Series => {
          const kind = kinds[i];
          const color = colors[i];
          if (kind === 'bars') return { label: s.label, stroke: color, fill: color, width: 0, paths: bars, points: { show: false } };
          if (kind === 'area') return { label: s.label, stroke: color, fill: color + AREA_ALPHA, width: 1, spanGaps: true };
          return { label: s.label, stroke: color, width: 1.5, spanGaps: true };
        }),
      ],
      bands: stacked ? bandsOf(kinds) : undefined,
      hooks: {
        draw: [
          (u) => {
            drawThresholds(u, lines.current);
            drawn.current?.();
          },
        ],
        setCursor: [
          (u) => {
            cancelAnimationFrame(frame);
            const i = u.cursor.idx;
            const idxs = (u.cursor.idxs ?? []).slice(1).map((x) => x ?? null);
            // Where the tooltip goes (no legend): by the cursor, in the
            // canvas box's pixels.
            const left = (u.cursor.left ?? 0) + u.bbox.left / (window.devicePixelRatio || 1);
            const top = (u.cursor.top ?? 0) + u.bbox.top / (window.devicePixelRatio || 1);
            frame = requestAnimationFrame(() => setCursor(i === null || i === undefined || (u.cursor.left ?? -1) < 0 ? null : { idx: i, idxs, left, top }));
          },
        ],
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width >= MIN_ZOOM_PX && zoom.current) {
              const a = u.posToVal(left, 'x') * 1000;
              const b = u.posToVal(left + width, 'x') * 1000;
              zoom.current(Math.round(a), Math.round(b));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    const ro = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1].contentRect;
      const size = {
        width: Math.max(200, Math.round(box.width)),
        height: height === 'fill' ? Math.max(MIN_FILL_HEIGHT, Math.round(box.height)) : height,
      };
      if (p) {
        if (size.width !== p.width || size.height !== p.height) p.setSize(size);
        return;
      }
      const now = latest.current;
      p = new uPlot({ ...opts, ...size }, now.data, el);
      plot.current = p;
      drawnWith.current = { ...now };
    });
    ro.observe(el);
    setHidden((h) => (h.size ? new Set() : h));
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      p?.destroy();
      plot.current = null;
    };
    // Made again only when the series set or the height changes.
  }, [identity, height]);

  // New data, window or thresholds (the y range and the lines are
  // computed again): drawn again, unless the plot was just made with them.
  useEffect(() => {
    const p = plot.current;
    const w = drawnWith.current;
    if (!p || (w.data === drawnData && w.from === from && w.to === to && w.thresholds === thresholdKey)) return;
    drawnWith.current = { data: drawnData, from, to, thresholds: thresholdKey };
    p.setData(drawnData);
  }, [drawnData, from, to, thresholdKey]);

  function toggle(i: number) {
    const next = new Set(hidden);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setHidden(next);
    plot.current?.setSeries(i + 1, { show: !next.has(i) });
  }

  const times = data[0] as number[];
  const at = cursor && cursor.idx < times.length ? cursor : null;
  const shownRows = legend === 'compact' && !allRows ? COMPACT_ROWS : series.length;

  return (
    <div class={`chart${legend === 'compact' ? ' chart-compact' : ''}${legend === 'none' ? ' chart-tipped' : ''}${height === 'fill' ? ' chart-fill' : ''}`} data-series={series.length}>
      <div class="chart-canvas" ref={box} data-testid="chart" />
      {legend === 'none' && at && <Tooltip at={at} series={series} data={data} colors={colors} hidden={hidden} width={box.current?.clientWidth ?? 0} />}
      {legend !== 'none' && (
        <div class="legend" data-testid="legend">
          <div class="legend-head">
            {at !== null ? (
              <span data-testid="legend-time">{formatTime(times[at.idx] * 1000)}</span>
            ) : (
              <span class="muted">{legend === 'compact' ? 'Latest values' : 'Latest values (move over the chart for the values at a time)'}</span>
            )}
          </div>
          <ul>
            {series.slice(0, shownRows).map((s, i) => {
              const col = data[i + 1] as (number | null)[];
              const j = at ? at.idxs[i] : null;
              const v = at ? (j !== null && j !== undefined ? col[j] : null) : lastValue(col);
              return (
                <li
                  key={s.label}
                  class={`legend-row${hidden.has(i) ? ' off' : ''}`}
                  data-label={s.label}
                  data-value={v ?? ''}
                  title={hidden.has(i) ? 'Show this series' : 'Hide this series'}
                  onClick={() => toggle(i)}
                >
                  <span class="swatch" style={{ background: colors[i] }} />
                  <span class="legend-label">{s.label}</span>
                  <span class="legend-value">{formatValue(v)}</span>
                </li>
              );
            })}
            {shownRows < series.length && (
              <li class="legend-more">
                <button class="link" onClick={() => setAllRows(true)}>
                  Show all {series.length} series
                </button>
              </li>
            )}
          </ul>
        </div>
      )}
    </div>
  );
}

/** Series a tooltip lists, the largest values at the cursor first. */
const TOOLTIP_ROWS = 8;

/** Without a legend: the values at the cursor in a box beside it. */
function Tooltip({ at, series, data, colors, hidden, width }: { at: { idx: number; idxs: (number | null)[]; left: number; top: number }; series: ChartSeries[]; data: uPlot.AlignedData; colors: string[]; hidden: Set<number>; width: number }) {
  const rows: { i: number; v: number }[] = [];
  series.forEach((_, i) => {
    const j = at.idxs[i];
    const v = j !== null && j !== undefined ? (data[i + 1] as (number | null)[])[j] : null;
    if (v !== null && v !== undefined && !hidden.has(i)) rows.push({ i, v });
  });
  if (!rows.length) return null;
  rows.sort((a, b) => b.v - a.v);
  const right = at.left > width / 2;
  return (
    <div class="chart-tip" data-testid="chart-tip" style={{ top: `${Math.max(0, at.top - 20)}px`, ...(right ? { right: `${width - at.left + 14}px` } : { left: `${at.left + 14}px` }) }}>
      <div class="chart-tip-time">{formatTime((data[0] as number[])[at.idx] * 1000)}</div>
      {rows.slice(0, TOOLTIP_ROWS).map(({ i, v }) => (
        <div key={i} class="chart-tip-row" data-label={series[i].label} data-value={v}>
          <span class="swatch" style={{ background: colors[i] }} />
          <span class="legend-label">{series[i].label}</span>
          <span class="legend-value">{formatValue(v)}</span>
        </div>
      ))}
      {rows.length > TOOLTIP_ROWS && <div class="muted">and {rows.length - TOOLTIP_ROWS} more</div>}
    </div>
  );
}

/** uPlot's data: one sorted time column (seconds) shared by every series,
 *  with null where a series has no point. */
function align(series: ChartSeries[]): uPlot.AlignedData {
  // Columns of one v2 answer: already aligned.
  const v2Times = series[0]?.columns?.times;
  if (v2Times && series.every((s) => s.columns?.times === v2Times)) {
    return [v2Times.map((t) => t / 1000), ...series.map((s) => s.columns!.values)];
  }
  series = series.map((s) => (s.columns ? { ...s, points: s.columns.times.map((t, i) => [t, s.columns!.values[i] ?? null]) } : s));
  // The series of one answer share their timestamps (a v1 answer mostly):
  // then no merging is needed.
  const first = series[0]?.points ?? [];
  const shared = series.every((s) => s.points.length === first.length && s.points.every((p, i) => p[0] === first[i][0]));
  if (shared && isSorted(first)) {
    return [first.map((p) => p[0] / 1000), ...series.map((s) => s.points.map((p) => p[1]))];
  }
  const set = new Set<number>();
  for (const s of series) for (const [t] of s.points) set.add(t);
  const times = [...set].sort((a, b) => a - b);
  const pos = new Map<number, number>();
  times.forEach((t, i) => pos.set(t, i));
  const cols = series.map((s) => {
    const col: (number | null)[] = new Array(times.length).fill(null);
    for (const [t, v] of s.points) col[pos.get(t)!] = v;
    return col;
  });
  return [times.map((t) => t / 1000), ...cols];
}

function isSorted(points: [number, number | null][]): boolean {
  for (let i = 1; i < points.length; i++) if (points[i][0] <= points[i - 1][0]) return false;
  return true;
}

/** The drawn data of stacked series: each area (and each bar) is the sum
 *  of its own value and those of the areas (bars) before it; lines stay
 *  as they are. An empty bucket stays empty and adds nothing. */
function stack(data: uPlot.AlignedData, kinds: DisplayType[]): uPlot.AlignedData {
  const n = data[0].length;
  const sums: Record<string, number[]> = {};
  const out: (number | null)[][] = [];
  kinds.forEach((kind, i) => {
    const col = data[i + 1] as (number | null)[];
    if (kind === 'line') {
      out.push(col);
      return;
    }
    const acc = (sums[kind] ??= new Array(n).fill(0));
    out.push(col.map((v, k) => (v === null || v === undefined ? null : (acc[k] += v))));
  });
  return [data[0], ...out];
}

/** The bands that fill each stacked series down to the one below it in
 *  its stack (uPlot: `series: [upper, lower]`, 1-based). */
function bandsOf(kinds: DisplayType[]): uPlot.Band[] {
  const bands: uPlot.Band[] = [];
  const below: Record<string, number> = {};
  kinds.forEach((kind, i) => {
    if (kind === 'line') return;
    if (below[kind] !== undefined) bands.push({ series: [i + 1, below[kind]] });
    below[kind] = i + 1;
  });
  return bands;
}

/** Draws the thresholds on the plot (uPlot's `draw` hook). */
function drawThresholds(u: uPlot, ts: Threshold[]) {
  if (!ts.length) return;
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const ratio = window.devicePixelRatio || 1;
  ctx.save();
  ctx.font = `${11 * ratio}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  for (const t of ts) {
    const y = Math.round(u.valToPos(t.value, 'y', true));
    if (y < top || y > top + height) continue;
    const color = t.color ?? '#c62828';
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5 * ratio;
    ctx.setLineDash(t.dashed ? [6 * ratio, 4 * ratio] : []);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    if (t.label) {
      ctx.fillStyle = color;
      ctx.fillText(t.label, left + width - 4 * ratio, y - 2 * ratio);
    }
  }
  ctx.restore();
}

/** The index of series `si`'s value nearest to bucket `closest`, within
 *  NEAREST_FRACTION of the time span; `closest` itself when there is none
 *  (the legend then shows no value). */
function nearestNonNull(u: uPlot, si: number, closest: number): number {
  const ys = u.data[si] as (number | null)[] | undefined;
  const xs = u.data[0] as number[];
  if (!ys || ys[closest] !== null) return closest;
  const { min, max } = u.scales.x;
  const reach = ((max ?? 0) - (min ?? 0)) * NEAREST_FRACTION;
  const x = xs[closest];
  for (let d = 1; ; d++) {
    const l = closest - d;
    const r = closest + d;
    const lOk = l >= 0 && x - xs[l] <= reach;
    const rOk = r < xs.length && xs[r] - x <= reach;
    if (!lOk && !rOk) return closest;
    // Of two points, the nearer in time (the left one on a tie).
    const cands = [lOk ? l : -1, rOk ? r : -1].filter((k) => k >= 0 && ys[k] !== null);
    if (cands.length) return cands.sort((a, b) => Math.abs(xs[a] - x) - Math.abs(xs[b] - x))[0];
  }
}

function lastValue(col: (number | null)[]): number | null {
  for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null) return col[i];
  return null;
}
