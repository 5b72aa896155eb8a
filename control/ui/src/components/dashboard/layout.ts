// Where each widget goes on the 12-column grid.
//
// - A widget with a `layout` goes there (Datadog's `x`, `y`, `width`,
//   `height` in grid units). A free layout wider than 12 columns (Datadog's
//   "free" dashboards count in finer units) is scaled down to 12.
// - Widgets without one (an ordered dashboard may leave them out) flow in
//   order: left to right at their type's default size, then on the next
//   row, below everything placed.
// - No two widgets overlap: a widget that would cover one placed before it
//   (in order of `y`, then `x`) moves down until it fits. The same rule
//   makes room while a widget is dragged or resized in edit mode: the
//   dragged one stays where the pointer puts it and the others move down;
//   on an ordered dashboard they then move up into the rows left empty
//   (`compact`).
//
// Pure functions, no DOM.

import type { Layout } from '../../lib/dashboards-api';

/** The grid's columns, as Datadog's. */
export const COLUMNS = 12;

/** A widget's size when it has no layout, or when it is added: what
 *  Datadog gives each type by default, in grid units. */
export function defaultSize(type: string): { width: number; height: number } {
  switch (type) {
    case 'query_value':
      return { width: 3, height: 2 };
    case 'note':
    case 'free_text':
      return { width: 4, height: 2 };
    case 'toplist':
      return { width: 4, height: 3 };
    case 'group':
      return { width: 12, height: 4 };
    default:
      return { width: 6, height: 3 };
  }
}

/** An item to place: its key, its type and the layout it asks for. */
export interface Placeable {
  key: string;
  type: string;
  layout?: Layout | null;
  /** Rows it needs at least (a group's content). */
  minHeight?: number;
}

export interface Placed {
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

function valid(l: Layout | null | undefined): l is Layout {
  return !!l && isInt(l.x) && isInt(l.y) && isInt(l.width) && isInt(l.height) && l.width > 0 && l.height > 0;
}

/** Places every item (see the module doc); the result is in the items'
 *  order. */
export function place(items: Placeable[]): Placed[] {
  const widest = Math.max(COLUMNS, ...items.map((i) => (valid(i.layout) ? i.layout.x + i.layout.width : 0)));
  const scale = COLUMNS / widest;
  const asked: Placed[] = [];
  let cursorX = 0;
  let cursorY = 0;
  let rowHeight = 0;
  const laidOut = items.filter((i) => valid(i.layout));
  let bottom = Math.max(0, ...laidOut.map((i) => Math.round((i.layout!.y + i.layout!.height) * scale)));
  for (const it of items) {
    if (valid(it.layout)) {
      const l = it.layout;
      const x = Math.min(COLUMNS - 1, Math.round(l.x * scale));
      const width = Math.max(1, Math.min(COLUMNS - x, Math.round(l.width * scale)));
      asked.push({ key: it.key, x, y: Math.round(l.y * scale), width, height: Math.max(1, Math.round(l.height * scale), it.minHeight ?? 0) });
      continue;
    }
    // Flow: the next free place on the current row, below the laid out.
    const size = defaultSize(it.type);
    const height = Math.max(size.height, it.minHeight ?? 0);
    if (cursorX + size.width > COLUMNS) {
      cursorX = 0;
      cursorY += rowHeight;
      rowHeight = 0;
    }
    if (cursorX === 0 && cursorY < bottom) cursorY = bottom;
    asked.push({ key: it.key, x: cursorX, y: cursorY, width: size.width, height });
    cursorX += size.width;
    rowHeight = Math.max(rowHeight, height);
    bottom = Math.max(bottom, cursorY + height);
  }
  return resolve(asked, null);
}

const overlap = (a: Placed, b: Placed) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** `items` with none overlapping another: `fixed` (when given) stays
 *  where it is and is placed first; every other one, in order of `y` then
 *  `x`, moves down below whatever it would cover. The result is in the
 *  items' order. */
export function resolve(items: Placed[], fixed: string | null): Placed[] {
  const order = items
    .map((it, i) => ({ it, i }))
    .sort((a, b) => {
      if (a.it.key === fixed) return -1;
      if (b.it.key === fixed) return 1;
      return a.it.y - b.it.y || a.it.x - b.it.x || a.i - b.i;
    });
  const done: Placed[] = [];
  const out: Placed[] = new Array(items.length);
  for (const { it, i } of order) {
    const p = { ...it };
    for (;;) {
      const hit = done.find((d) => overlap(d, p));
      if (!hit) break;
      p.y = hit.y + hit.height;
    }
    done.push(p);
    out[i] = p;
  }
  return out;
}

/** `items` (overlapping none) with each moved up as far as it goes
 *  without covering another, in order of `y`: no empty rows are left
 *  above a widget (Datadog's ordered dashboards). `keep` stays where it
 *  is (the widget under the pointer). */
export function compact(items: Placed[], keep: string | null = null): Placed[] {
  const order = items.map((it, i) => ({ it, i })).sort((a, b) => a.it.y - b.it.y || a.it.x - b.it.x);
  const done: Placed[] = items.filter((it) => it.key === keep);
  const out: Placed[] = [...items];
  for (const { it, i } of order) {
    if (it.key === keep) continue;
    const p = { ...it };
    while (p.y > 0 && !done.some((d) => overlap(d, { ...p, y: p.y - 1 }))) p.y--;
    done.push(p);
    out[i] = p;
  }
  return out;
}

/** The rows the placed items take. */
export function rowsOf(items: Placed[]): number {
  return Math.max(0, ...items.map((p) => p.y + p.height));
}

/** Where a new widget of `type` goes: under everything, at the left. */
export function newLayout(type: string, items: Placed[]): Layout {
  const size = defaultSize(type);
  return { x: 0, y: rowsOf(items), ...size };
}

/** A layout moved by whole cells, kept on the grid. */
export function moved(l: Placed, dx: number, dy: number): Placed {
  return { ...l, x: clamp(l.x + dx, 0, COLUMNS - l.width), y: Math.max(0, l.y + dy) };
}

/** A layout resized by whole cells (its top-left corner fixed), at least
 *  one cell and within the grid. */
export function resized(l: Placed, dw: number, dh: number, minHeight = 1): Placed {
  return { ...l, width: clamp(l.width + dw, 1, COLUMNS - l.x), height: Math.max(minHeight, l.height + dh) };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}
