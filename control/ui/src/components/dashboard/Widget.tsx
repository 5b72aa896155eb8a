// One widget on the grid: its frame (title; in edit mode the drag handle
// and the edit and remove buttons) and its body by type. A group is a
// titled box with its own grid of widgets. A type that does not render
// says so in its box ("not supported yet: <type>") and never breaks the
// page; neither does a widget whose definition is malformed.

import { Component, type ComponentChildren } from 'preact';
import type { Layout, Widget, WidgetDefinition } from '../../lib/dashboards-api';
import { DashContext, type Dash } from './context';
import { GAP, Grid } from './Grid';
import { HeatmapWidget } from './HeatmapWidget';
import { place, rowsOf } from './layout';
import { NoteWidget } from './NoteWidget';
import { QueryValueWidget } from './QueryValueWidget';
import { TimeseriesWidget } from './TimeseriesWidget';
import { ToplistWidget } from './ToplistWidget';
import { WidgetMessage } from './WidgetMessage';

/** The types that draw data (the page waits for each to draw). */
export const DATA_TYPES = new Set(['timeseries', 'query_value', 'toplist', 'heatmap']);

/** Every type that renders. */
export const SUPPORTED = new Set([...DATA_TYPES, 'note', 'free_text', 'group']);

/** A group's title bar and padding, px: its content needs them on top of
 *  its rows. */
const GROUP_CHROME_PX = 34 + 2 * 8;

/** What the page does for the widgets' buttons and drags (edit mode). */
export interface WidgetActions {
  onEdit: (w: Widget) => void;
  onRemove: (w: Widget) => void;
  /** New layouts of the widgets of a group (`group` its key), or of the
   *  dashboard (null). */
  onLayout: (group: string | null, layouts: Map<string, Layout>) => void;
}

/** The key of a widget on its grid: its id (every stored widget has one),
 *  else its position. */
export function keyOf(w: Widget, index: number): string {
  return typeof w?.id === 'number' ? String(w.id) : `at-${index}`;
}

/** The rows a group needs for its widgets, on a grid of `rowPx` rows. */
export function groupRows(def: WidgetDefinition, rowPx: number): number {
  const inner = rowsOf(place(childItems(def)));
  const rowH = rowPx + GAP;
  return Math.max(1, Math.ceil((GROUP_CHROME_PX + inner * rowH) / rowH));
}

function childItems(def: WidgetDefinition) {
  return (Array.isArray(def.widgets) ? def.widgets : []).map((c, i) => ({ key: keyOf(c, i), type: String(c?.definition?.type ?? ''), layout: c?.layout }));
}

export interface WidgetProps {
  widget: Widget;
  wkey: string;
  editing: boolean;
  rowPx: number;
  actions: WidgetActions;
  compacting?: boolean;
}

/** The grid items of a list of widgets. */
export function gridItems(widgets: Widget[], editing: boolean, rowPx: number, actions: WidgetActions, compacting = false) {
  return widgets.map((w, i) => {
    const key = keyOf(w, i);
    const type = String(w?.definition?.type ?? '');
    return {
      key,
      type,
      layout: w?.layout,
      minHeight: type === 'group' ? groupRows(w.definition, rowPx) : undefined,
      content: (
        <Guard key={key} what={type} wkey={key}>
          <WidgetView widget={w} wkey={key} editing={editing} rowPx={rowPx} actions={actions} compacting={compacting} />
        </Guard>
      ),
    };
  });
}

export function WidgetView({ widget, wkey, editing, rowPx, actions, compacting }: WidgetProps) {
  const def = widget?.definition;
  if (!def || typeof def !== 'object') return <Frame title="" type="invalid" editing={editing} widget={widget} actions={actions} body={<WidgetMessage kind="error" text="This widget has no definition" />} />;
  const type = String(def.type);
  const title = typeof def.title === 'string' ? def.title : '';
  if (type === 'group') return <Group widget={widget} wkey={wkey} editing={editing} rowPx={rowPx} actions={actions} compacting={compacting} />;
  return <Frame title={title} type={type} editing={editing} widget={widget} actions={actions} body={<Body def={def} wkey={wkey} />} />;
}

/** A widget's content by type. */
export function Body({ def, wkey }: { def: WidgetDefinition; wkey: string }) {
  switch (def.type) {
    case 'timeseries':
      return <TimeseriesWidget def={def} wkey={wkey} />;
    case 'query_value':
      return <QueryValueWidget def={def} wkey={wkey} />;
    case 'toplist':
      return <ToplistWidget def={def} wkey={wkey} />;
    case 'heatmap':
      return <HeatmapWidget def={def} wkey={wkey} />;
    case 'note':
    case 'free_text':
      return <NoteWidget def={def} />;
    default:
      return <WidgetMessage kind="unsupported" text={`not supported yet: ${def.type}`} />;
  }
}

interface FrameProps {
  title: string;
  type: string;
  editing: boolean;
  widget: Widget;
  actions: WidgetActions;
  body: ComponentChildren;
}

function Frame({ title, type, editing, widget, actions, body }: FrameProps) {
  const bare = type === 'note' || type === 'free_text';
  const name = title || typeName(type);
  return (
    <div class={`widget widget-${type}${bare ? ' widget-bare' : ''}`} data-testid="widget" data-type={type} data-title={title}>
      {(!bare || editing) && (
        <div class="widget-head" data-drag-handle={editing ? '' : undefined} title={editing ? 'Drag to move' : undefined}>
          <span class="widget-title" title={title}>
            {title || (editing ? <span class="muted">{typeName(type)}</span> : '')}
          </span>
          {editing && <Tools name={name} onEdit={() => actions.onEdit(widget)} onRemove={() => actions.onRemove(widget)} />}
        </div>
      )}
      <div class="widget-body">{body}</div>
    </div>
  );
}

function Tools({ name, onEdit, onRemove }: { name: string; onEdit: () => void; onRemove: () => void }) {
  return (
    <span class="widget-tools">
      <button class="icon small" title="Edit this widget" aria-label={`Edit widget ${name}`} onClick={onEdit}>
        ✎
      </button>
      <button class="icon small" title="Remove this widget" aria-label={`Remove widget ${name}`} onClick={onRemove}>
        ×
      </button>
    </span>
  );
}

function Group({ widget, wkey, editing, rowPx, actions, compacting }: WidgetProps) {
  const def = widget.definition;
  const title = typeof def.title === 'string' ? def.title : '';
  const children = Array.isArray(def.widgets) ? def.widgets : [];
  const bg = typeof def.background_color === 'string' ? def.background_color : 'none';
  return (
    <div class={`widget widget-group group-bg-${bg}`} data-testid="widget" data-type="group" data-title={title}>
      <div class="widget-head group-head" data-drag-handle={editing ? '' : undefined}>
        <span class="widget-title">{def.show_title === false ? '' : title}</span>
        {editing && <Tools name={title || 'group'} onEdit={() => actions.onEdit(widget)} onRemove={() => actions.onRemove(widget)} />}
      </div>
      <div class="group-body">
        {children.length === 0 ? (
          <p class="muted group-empty">An empty group.</p>
        ) : (
          <Grid
            items={gridItems(children, editing, rowPx, actions, compacting)}
            editing={editing}
            rowPx={rowPx}
            compacting={compacting}
            onLayout={(ls) => actions.onLayout(wkey, ls)}
          />
        )}
      </div>
    </div>
  );
}

/** A type's name for people: `query_value` → "Query value". */
export function typeName(type: string): string {
  const s = type.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Keeps a widget that throws while rendering (a definition no one
 *  foresaw) from taking the page down: it shows the error in its box. */
class Guard extends Component<{ what: string; wkey: string; children: ComponentChildren }, { error: string | null }> {
  static contextType = DashContext;
  declare context: Dash;
  state = { error: null as string | null };

  static getDerivedStateFromError(e: unknown) {
    return { error: e instanceof Error ? e.message : String(e) };
  }

  componentDidUpdate() {
    // Its error is what it draws: the page does not wait for it.
    if (this.state.error) this.context.reportDrawn(this.props.wkey);
  }

  render() {
    if (this.state.error) {
      return (
        <div class="widget" data-testid="widget" data-type={this.props.what}>
          <div class="widget-body">
            <WidgetMessage kind="error" text={`This ${this.props.what || 'widget'} widget cannot be drawn: ${this.state.error}`} />
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}
