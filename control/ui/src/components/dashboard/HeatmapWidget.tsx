// The heatmap widget: time across, value bins up, each cell coloured by how
// many series (or what share of a distribution's samples) fall in it
// (data: heatmap.ts). Drawn on one canvas, one rectangle per non-empty
// cell; moving over it shows the cell's time, value range and weight.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { WidgetDefinition } from '../../lib/dashboards-api';
import { formatValue } from '../../lib/format';
import { formatTime, timeTick } from '../../lib/time';
import { useDash, useWidgetData } from './context';
import { BINS, heatmapOf, type Heatmap } from './heatmap';
import { WidgetMessage } from './WidgetMessage';

/** Room for the axes' labels, CSS pixels. */
const PAD = { left: 56, right: 8, top: 6, bottom: 22 };

/** From few (light yellow) to many (deep purple), as Datadog's heatmaps. */
const RAMP: [number, number, number][] = [
  [254, 240, 199],
  [249, 146, 60],
  [196, 45, 98],
  [74, 32, 140],
];

function colorAt(f: number): string {
  const x = Math.max(0, Math.min(1, f)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const t = x - i;
  const c = RAMP[i].map((a, k) => Math.round(a + (RAMP[i + 1][k] - a) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function HeatmapWidget({ def, wkey }: { def: WidgetDefinition; wkey: string }) {
  const dash = useDash();
  const got = useWidgetData(def, heatmapOf);
  const settled = got.data !== null || !got.loading;

  useEffect(() => {
    if (settled && !got.data) dash.reportDrawn(wkey);
  }, [settled, got.data]);

  if (got.error) return <WidgetMessage kind="error" text={got.error} />;
  if (!settled) return <WidgetMessage kind="loading" />;
  if (!got.data) return <WidgetMessage kind="empty" />;
  return <HeatmapCanvas map={got.data} from={got.from} to={got.to} onDrawn={() => dash.reportDrawn(wkey)} />;
}

interface Hover {
  left: number;
  top: number;
  text: string;
}

function HeatmapCanvas({ map, from, to, onDrawn }: { map: Heatmap; from: number; to: number; onDrawn: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);

  useLayoutEffect(() => {
    const el = box.current!;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const geom = size && {
    x0: PAD.left,
    y0: PAD.top,
    w: Math.max(10, size.w - PAD.left - PAD.right),
    h: Math.max(10, size.h - PAD.top - PAD.bottom),
  };
  const xOf = (t: number) => geom!.x0 + ((t - from) / (to - from)) * geom!.w;

  useEffect(() => {
    if (!size || !geom) return;
    const c = canvas.current!;
    const ratio = window.devicePixelRatio || 1;
    c.width = Math.round(size.w * ratio);
    c.height = Math.round(size.h * ratio);
    c.style.width = `${size.w}px`;
    c.style.height = `${size.h}px`;
    const ctx = c.getContext('2d')!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.w, size.h);
    const cellH = geom.h / BINS;
    for (let i = 0; i < map.times.length; i++) {
      const xa = Math.max(geom.x0, xOf(map.times[i]));
      const xb = Math.min(geom.x0 + geom.w, xOf(map.times[i] + map.interval));
      if (xb <= xa) continue;
      for (let b = 0; b < BINS; b++) {
        const v = map.cells[i * BINS + b];
        if (v <= 0) continue;
        ctx.fillStyle = colorAt(0.08 + 0.92 * (v / map.max));
        const y = geom.y0 + geom.h - (b + 1) * cellH;
        // Cells overlap by a fraction of a pixel: no hairline gaps.
        ctx.fillRect(xa, y, xb - xa + 0.5, cellH + 0.5);
      }
    }
    // Axes: values on the left, times below.
    ctx.fillStyle = '#5b6270';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let k = 0; k <= 4; k++) {
      const b = Math.round((k * BINS) / 4);
      ctx.fillText(formatValue(map.edges[b]), geom.x0 - 6, geom.y0 + geom.h - b * cellH);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const ticks = Math.max(2, Math.min(6, Math.floor(geom.w / 110)));
    for (let k = 0; k <= ticks; k++) {
      const t = from + ((to - from) * k) / ticks;
      const label = timeTick(t, to - from);
      const x = Math.max(geom.x0 + 14, Math.min(geom.x0 + geom.w - 14, xOf(t)));
      ctx.fillText(label, x, geom.y0 + geom.h + 6);
    }
    ctx.strokeStyle = '#d5d9e0';
    ctx.lineWidth = 1;
    ctx.strokeRect(geom.x0 + 0.5, geom.y0 + 0.5, geom.w - 1, geom.h - 1);
    onDrawn();
  }, [map, size?.w, size?.h, from, to]);

  function move(e: PointerEvent) {
    if (!geom) return;
    const r = canvas.current!.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    if (x < geom.x0 || x > geom.x0 + geom.w || y < geom.y0 || y > geom.y0 + geom.h) return setHover(null);
    const t = from + ((x - geom.x0) / geom.w) * (to - from);
    let i = -1;
    for (let k = 0; k < map.times.length; k++) if (map.times[k] <= t && t < map.times[k] + map.interval) i = k;
    const b = Math.min(BINS - 1, Math.floor(((geom.y0 + geom.h - y) / geom.h) * BINS));
    if (i < 0) return setHover(null);
    const v = map.cells[i * BINS + b];
    const what = map.mode === 'distribution' ? `${(v * 100).toFixed(1)} % of values` : `${v} series`;
    setHover({
      left: Math.min(x + 12, (size?.w ?? 300) - 190),
      top: Math.max(0, y - 40),
      text: `${formatTime(map.times[i])} · ${formatValue(map.edges[b])} – ${formatValue(map.edges[b + 1])}: ${what}`,
    });
  }

  return (
    <div class="heatmap" ref={box} data-testid="heatmap" data-mode={map.mode}>
      <canvas ref={canvas} onPointerMove={move} onPointerLeave={() => setHover(null)} />
      {hover && (
        <div class="heatmap-tip" style={{ left: `${hover.left}px`, top: `${hover.top}px` }}>
          {hover.text}
        </div>
      )}
    </div>
  );
}
