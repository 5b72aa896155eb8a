// A line chart of time series (uPlot, on canvas) with a legend that shows
// each series' value at the cursor, or its latest value when the cursor is
// elsewhere. Lines join points across empty buckets of the answer (as
// Datadog draws them); a lone point is drawn as a dot. Dragging across the chart selects a time span (`onZoom`);
// clicking a legend row hides or shows its series.
//
// The uPlot instance is made again only when the set of series changes; a
// refresh with the same series (live mode) only swaps the data, so the
// cursor and hidden series stay where they are.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatValue } from '../lib/format';
import { formatTime, timeTick } from '../lib/time';

export interface ChartSeries {
  label: string;
  /** `[time in ms, value]`, as `/api/v1/query`'s `pointlist`. */
  points: [number, number | null][];
}

export interface TimeseriesChartProps {
  series: ChartSeries[];
  /** The x axis spans the queried range, not only where there is data. */
  from: number;
  to: number;
  height?: number;
  onZoom?: (from: number, to: number) => void;
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

export function TimeseriesChart({ series, from, to, height = 340, onZoom }: TimeseriesChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const range = useRef({ from, to });
  range.current = { from, to };
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  /** The cursor's bucket and, per series, the index of its value shown. */
  const [cursor, setCursor] = useState<{ idx: number; idxs: (number | null)[] } | null>(null);
  const [hidden, setHidden] = useState<Set<number>>(new Set());

  const data = useMemo(() => align(series), [series]);
  const identity = series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current!;
    let frame = 0;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        y: false,
        points: { size: 7 },
        dataIdx: (u, si, closest) => nearestNonNull(u, si, closest),
      },
      scales: {
        x: { time: true, range: () => [range.current.from / 1000, range.current.to / 1000] },
        // Zero stays in view (as Datadog draws), so a change of 10 to 11
        // does not fill the chart's height.
        y: { range: (_u, min, max) => uPlot.rangeNum(Math.min(0, min ?? 0), Math.max(0, max ?? 1) || 1, 0.1, true) },
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
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colorOf(i),
          width: 1.5,
          spanGaps: true,
        })),
      ],
      hooks: {
        setCursor: [
          (u) => {
            cancelAnimationFrame(frame);
            const i = u.cursor.idx;
            const idxs = (u.cursor.idxs ?? []).slice(1).map((x) => x ?? null);
            frame = requestAnimationFrame(() => setCursor(i === null || i === undefined ? null : { idx: i, idxs }));
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
    const p = new uPlot(opts, data, el);
    plot.current = p;
    setHidden(new Set());
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
    // Made again only when the series set or the height changes.
  }, [identity, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data, from, to]);

  function toggle(i: number) {
    const next = new Set(hidden);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setHidden(next);
    plot.current?.setSeries(i + 1, { show: !next.has(i) });
  }

  const times = data[0] as number[];
  const at = cursor && cursor.idx < times.length ? cursor : null;

  return (
    <div class="chart">
      <div class="chart-canvas" ref={box} data-testid="chart" />
      <div class="legend" data-testid="legend">
        <div class="legend-head">
          {at !== null ? (
            <span data-testid="legend-time">{formatTime(times[at.idx] * 1000)}</span>
          ) : (
            <span class="muted">Latest values (move over the chart for the values at a time)</span>
          )}
        </div>
        <ul>
          {series.map((s, i) => {
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
                <span class="swatch" style={{ background: colorOf(i) }} />
                <span class="legend-label">{s.label}</span>
                <span class="legend-value">{formatValue(v)}</span>
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}

/** uPlot's data: one sorted time column (seconds) shared by every series,
 *  with null where a series has no point. */
function align(series: ChartSeries[]): uPlot.AlignedData {
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
