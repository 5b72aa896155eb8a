// What every widget of a dashboard shares: the time window, the refresh
// count (live mode), the template variables' values, and the hooks back to
// the page (a chart was drawn; a chart was zoomed). Given by the dashboard
// page through `DashContext`, read by widgets with `useDash()`; a widget
// loads its data with `useWidgetData()`.

import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { isAbort, messageOf } from '../../api';
import type { WidgetDefinition } from '../../lib/dashboards-api';
import type { QueryCtx } from './requests';
import type { VarValue } from './templating';

export interface Dash {
  /** The window of the data, in ms. */
  from: number;
  to: number;
  /** Grows by one at each refresh (live mode): the widgets fetch again. */
  tick: number;
  vars: VarValue[];
  /** A widget has drawn its data (or its error, or its "no data"). */
  reportDrawn: (key: string) => void;
  /** A chart was dragged across: show that span. */
  onZoom?: (from: number, to: number) => void;
}

export const DashContext = createContext<Dash>({ from: 0, to: 1, tick: 0, vars: [], reportDrawn: () => {} });

export const useDash = () => useContext(DashContext);

export interface Loaded<T> {
  /** The newest answer; the one before stays while the next loads, so a
   *  refresh does not blank the widget. */
  data: T | null;
  /** The window `data` covers. */
  from: number;
  to: number;
  error: string | null;
  loading: boolean;
}

/** Loads what `fetch` answers for `def` now, and again when the window,
 *  the refresh count, the variables or the definition's requests change. */
export function useWidgetData<T>(def: WidgetDefinition, fetch: (def: WidgetDefinition, ctx: QueryCtx) => Promise<T>): Loaded<T> {
  const dash = useDash();
  const [state, setState] = useState<Loaded<T>>({ data: null, from: dash.from, to: dash.to, error: null, loading: true });
  const defRef = useRef(def);
  defRef.current = def;
  const key = JSON.stringify([def.type, def.requests ?? null, dash.vars]);
  useEffect(() => {
    const ctl = new AbortController();
    const { from, to } = dash;
    setState((s) => ({ ...s, loading: true }));
    fetch(defRef.current, { from, to, vars: dash.vars, signal: ctl.signal }).then(
      (data) => setState({ data, from, to, error: null, loading: false }),
      (e) => {
        if (!isAbort(e)) setState((s) => ({ ...s, error: messageOf(e), loading: false }));
      },
    );
    return () => ctl.abort();
  }, [key, dash.from, dash.to, dash.tick]);
  return state;
}
