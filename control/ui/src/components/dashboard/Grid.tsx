// The 12-column grid a dashboard (or a group) lays its widgets on
// (placement rules: layout.ts). Columns share the width; rows have a fixed
// height.
//
// In edit mode a widget moves by dragging its header and resizes by
// dragging its bottom-right corner (pointer events, so mouse, pen and touch
// alike). While dragging, the widget snaps to whole cells and the widgets
// it would cover move down out of the way (and, when `compacting`, up into
// rows left empty); letting go hands every new layout to `onLayout`
// (nothing when nothing moved).

import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { Layout } from '../../lib/dashboards-api';
import { COLUMNS, compact, moved, place, resized, resolve, rowsOf, type Placed } from './layout';

/** Space between widgets, px (both ways). */
export const GAP = 12;

export interface GridItem {
  key: string;
  type: string;
  layout?: Layout | null;
  /** Rows it needs at least (a group's content). */
  minHeight?: number;
  content: ComponentChildren;
}

export interface GridProps {
  items: GridItem[];
  editing: boolean;
  /** A row's height, px. */
  rowPx: number;
  /** Moves widgets up into empty rows after a drag (ordered dashboards). */
  compacting?: boolean;
  onLayout?: (layouts: Map<string, Layout>) => void;
}

interface Drag {
  key: string;
  mode: 'move' | 'resize';
  /** Where the pointer went down. */
  px: number;
  py: number;
  /** A cell with its gap, px. */
  colW: number;
  rowH: number;
  start: Placed[];
  preview: Placed[];
}

export function Grid({ items, editing, rowPx, compacting = false, onLayout }: GridProps) {
  const el = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const placed = drag?.preview ?? place(items);
  const byKey = new Map(placed.map((p) => [p.key, p]));
  const rowH = rowPx + GAP;
  const rows = rowsOf(placed);

  function down(e: PointerEvent, key: string) {
    if (!editing || e.button !== 0) return;
    const target = e.target as HTMLElement;
    const cell = e.currentTarget as HTMLElement;
    const resize = target.closest('[data-resize-handle]');
    const handle = target.closest('[data-drag-handle]');
    // The handle must be this cell's own (not a widget's in a group), and
    // a button in the header stays a button.
    const mine = (h: Element | null) => !!h && h.closest('.grid-cell') === cell;
    if (!mine(resize) && (!mine(handle) || target.closest('button, a, input, select, textarea'))) return;
    e.preventDefault();
    e.stopPropagation();
    cell.setPointerCapture(e.pointerId);
    const start = place(items);
    const width = el.current!.clientWidth;
    setDrag({ key, mode: mine(resize) ? 'resize' : 'move', px: e.clientX, py: e.clientY, colW: (width + GAP) / COLUMNS, rowH, start, preview: start });
  }

  function move(e: PointerEvent) {
    if (!drag) return;
    const dx = Math.round((e.clientX - drag.px) / drag.colW);
    const dy = Math.round((e.clientY - drag.py) / drag.rowH);
    const it = drag.start.find((p) => p.key === drag.key)!;
    const minHeight = items.find((i) => i.key === drag.key)?.minHeight ?? 1;
    const next = drag.mode === 'move' ? moved(it, dx, dy) : resized(it, dx, dy, minHeight);
    const cur = drag.preview.find((p) => p.key === drag.key)!;
    if (next.x === cur.x && next.y === cur.y && next.width === cur.width && next.height === cur.height) return;
    const pushed = resolve(drag.start.map((p) => (p.key === drag.key ? next : p)), drag.key);
    setDrag({ ...drag, preview: compacting ? compact(pushed, drag.key) : pushed });
  }

  function up() {
    if (!drag) return;
    const final = compacting ? compact(drag.preview) : drag.preview;
    const changed = final.some((p, i) => {
      const s = drag.start[i];
      return p.x !== s.x || p.y !== s.y || p.width !== s.width || p.height !== s.height;
    });
    setDrag(null);
    if (changed && onLayout) onLayout(new Map(final.map((p) => [p.key, { x: p.x, y: p.y, width: p.width, height: p.height }])));
  }

  return (
    <div
      ref={el}
      class={`grid${editing ? ' grid-editing' : ''}${drag ? ' grid-dragging' : ''}`}
      style={{ height: `${Math.max(0, rows * rowH - GAP)}px` }}
    >
      {items.map((it) => {
        const p = byKey.get(it.key)!;
        return (
          <div
            key={it.key}
            class={`grid-cell${drag?.key === it.key ? ' dragged' : ''}`}
            data-key={it.key}
            data-layout={`${p.x},${p.y},${p.width},${p.height}`}
            style={{
              left: `calc(${p.x} * (100% + ${GAP}px) / ${COLUMNS})`,
              width: `calc(${p.width} * (100% + ${GAP}px) / ${COLUMNS} - ${GAP}px)`,
              top: `${p.y * rowH}px`,
              height: `${p.height * rowH - GAP}px`,
            }}
            onPointerDown={(e) => down(e, it.key)}
            onPointerMove={move}
            onPointerUp={up}
            onPointerCancel={up}
          >
            {it.content}
            {editing && <div class="resize-handle" data-resize-handle title="Drag to resize" aria-hidden="true" />}
          </div>
        );
      })}
    </div>
  );
}
