// A monitor's metric drawn with its thresholds (uPlot, on canvas): the
// series of the query, a red line at the alert threshold and an amber one
// at the warning threshold, the side that alerts shaded, recovery
// thresholds dashed. The y axis always takes the thresholds in, so a line
// far from the data is still seen.
//
// The uPlot instance is made again only when the set of series changes;
// new thresholds (typed in the form) only redraw, so typing is smooth.
//
// For tests and tools, the wrapper carries `data-series` (how many are
// drawn) and, once a threshold is drawn, `data-critical-y` /
// `data-warning-y` (its height in canvas pixels).

import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatValue } from '../../lib/format';
import { formatTime, timeTick } from '../../lib/time';
import { STATUS_COLOR } from './common';
import './threshold-chart.css';

export interface ThresholdSeries {
  label: string;
  /** `[time in ms, value]`. */
  points: [number, number | null][];
}

export interface ThresholdLines {
  critical: number | null;
  warning: number | null;
  criticalRecovery: number | null;
  warningRecovery: number | null;
}

export interface ThresholdChartProps {
  series: ThresholdSeries[];
  from: number;
  to: number;
  thresholds: ThresholdLines;
  /** `>`, `>=`, `<`, `<=`, `==`, `!=`: which side is shaded. */
  comparator: string;
  height?: number;
}

/** Series colours: blues and greys, away from the thresholds' red and
 *  amber. */
const SERIES_COLORS = ['#3566c9', '#00899b', '#7b4fd6', '#5d6d7e', '#1b9e5f', '#c2185b', '#2e7d32', '#8d6e63'];

/** Most series listed under the chart (all are drawn). */
const LEGEND_MAX = 12;

export function ThresholdChart({ series, from, to, thresholds, comparator, height = 260 }: ThresholdChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const state = useRef({ from, to, thresholds, comparator });
  state.current = { from, to, thresholds, comparator };

  const data = useMemo(() => align(series), [series]);
  const identity = series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, y: false, points: { size: 6 } },
      scales: {
        x: { time: true, range: () => [state.current.from / 1000, state.current.to / 1000] },
        y: {
          range: (_u, min, max) => {
            const t = state.current.thresholds;
            const vals = [min, max, t.critical, t.warning, t.criticalRecovery, t.warningRecovery, 0].filter(
              (v): v is number => typeof v === 'number' && Number.isFinite(v),
            );
            const lo = Math.min(...vals);
            const hi = Math.max(...vals);
            return uPlot.rangeNum(lo, hi === lo ? lo + 1 : hi, 0.1, true);
          },
        },
      },
      axes: [
        {
          stroke: '#5b6270',
          grid: { stroke: '#eceef2', width: 1 },
          ticks: { stroke: '#d5d9e0', width: 1 },
          space: 64,
          // Ticks closer than a minute need their seconds, whatever the span.
          values: (_u, splits, _ax, _space, incr) =>
            splits.map((t) => (incr < 60 ? formatTime(t * 1000).slice(11) : timeTick(t * 1000, state.current.to - state.current.from))),
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
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 1.5,
          spanGaps: true,
          points: { show: (u: uPlot, si: number) => countNonNull(u.data[si] as (number | null)[]) < 3 },
        })),
      ],
      hooks: {
        drawClear: [(u) => shade(u, state.current.thresholds, state.current.comparator)],
        draw: [(u) => lines(u, state.current.thresholds, wrap.current)],
      },
    };
    const p = new uPlot(opts, data, el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, [identity, height]);

  // New data, range or thresholds: the scales are computed again.
  const tKey = `${thresholds.critical}|${thresholds.warning}|${thresholds.criticalRecovery}|${thresholds.warningRecovery}|${comparator}`;
  useEffect(() => {
    plot.current?.setData(data);
  }, [data, from, to, tKey]);

  const side = comparatorWord(comparator);
  return (
    <div class="tchart" ref={wrap} data-testid="threshold-chart" data-series={series.length}>
      <div class="tchart-canvas" ref={box} />
      <div class="tchart-legend">
        {thresholds.critical !== null && (
          <span class="tl" data-testid="legend-critical" data-value={thresholds.critical}>
            <span class="tl-line" style={{ background: STATUS_COLOR.Alert }} />
            Alert {side} {formatValue(thresholds.critical)}
          </span>
        )}
        {thresholds.warning !== null && (
          <span class="tl" data-testid="legend-warning" data-value={thresholds.warning}>
            <span class="tl-line" style={{ background: STATUS_COLOR.Warn }} />
            Warning {side} {formatValue(thresholds.warning)}
          </span>
        )}
        {thresholds.criticalRecovery !== null && (
          <span class="tl">
            <span class="tl-line dashed" style={{ borderColor: STATUS_COLOR.Alert }} />
            Alert recovers at {formatValue(thresholds.criticalRecovery)}
          </span>
        )}
        {thresholds.warningRecovery !== null && (
          <span class="tl">
            <span class="tl-line dashed" style={{ borderColor: STATUS_COLOR.Warn }} />
            Warning recovers at {formatValue(thresholds.warningRecovery)}
          </span>
        )}
        {series.slice(0, LEGEND_MAX).map((s, i) => {
          const v = lastValue(data[i + 1] as (number | null)[]);
          return (
            <span class="tl series" key={s.label} data-testid="legend-series" data-label={s.label} data-value={v ?? ''}>
              <span class="tl-line" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} />
              <span class="tl-label">{s.label}</span>
              <b>{formatValue(v)}</b>
            </span>
          );
        })}
        {series.length > LEGEND_MAX && <span class="muted small">and {series.length - LEGEND_MAX} more series</span>}
      </div>
    </div>
  );
}

/** `above`, `below`, ... for the legend. */
function comparatorWord(c: string): string {
  return { '>': '>', '>=': '≥', '<': '<', '<=': '≤', '==': '=', '!=': '≠' }[c] ?? c;
}

/** The canvas height of value `v`, or null when off the plot. */
function yOf(u: uPlot, v: number | null): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  const y = u.valToPos(v, 'y', true);
  return Number.isFinite(y) ? y : null;
}

/** Shades the alerting side of the alert threshold red and the band
 *  between warning and alert amber (under the series). */
function shade(u: uPlot, t: ThresholdLines, comparator: string) {
  const above = comparator === '>' || comparator === '>=';
  const below = comparator === '<' || comparator === '<=';
  if (!above && !below) return;
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  const band = (a: number, b: number, color: string) => {
    const y0 = Math.max(top, Math.min(a, b));
    const y1 = Math.min(top + height, Math.max(a, b));
    if (y1 <= y0) return;
    ctx.fillStyle = color;
    ctx.fillRect(left, y0, width, y1 - y0);
  };
  ctx.save();
  const c = yOf(u, t.critical);
  const w = yOf(u, t.warning);
  const edge = above ? top : top + height;
  if (c !== null) band(edge, c, 'rgba(211, 47, 47, 0.07)');
  if (w !== null) band(c ?? edge, w, 'rgba(224, 145, 0, 0.08)');
  ctx.restore();
}

/** Draws the threshold lines over the series and notes their heights on
 *  the wrapper. */
function lines(u: uPlot, t: ThresholdLines, wrapper: HTMLElement | null) {
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  const px = devicePixelRatio || 1;
  const line = (v: number | null, color: string, dashed: boolean, name?: string) => {
    const y = yOf(u, v);
    if (y === null || y < top - 1 || y > top + height + 1) {
      if (name && wrapper) delete wrapper.dataset[name];
      return;
    }
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = (dashed ? 1.25 : 2) * px;
    ctx.setLineDash(dashed ? [6 * px, 4 * px] : []);
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y) + 0.5);
    ctx.lineTo(left + width, Math.round(y) + 0.5);
    ctx.stroke();
    ctx.restore();
    if (name && wrapper) wrapper.dataset[name] = String(Math.round(y));
  };
  line(t.criticalRecovery, STATUS_COLOR.Alert, true);
  line(t.warningRecovery, STATUS_COLOR.Warn, true);
  line(t.warning, STATUS_COLOR.Warn, false, 'warningY');
  line(t.critical, STATUS_COLOR.Alert, false, 'criticalY');
}

/** uPlot's data: one sorted time column (seconds) shared by every series. */
function align(series: ThresholdSeries[]): uPlot.AlignedData {
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

function countNonNull(col: (number | null)[] | undefined): number {
  let n = 0;
  for (const v of col ?? []) if (v !== null && v !== undefined) n++;
  return n;
}

function lastValue(col: (number | null)[] | undefined): number | null {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null && col[i] !== undefined) return col[i];
  return null;
}
