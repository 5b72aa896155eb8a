// The top list widget: one bar per group of its first request, longest
// first (or in the order a `top()` gave), with its value; a bar takes the
// colour of the first conditional format its value meets.

import { useEffect } from 'preact/hooks';
import type { WidgetDefinition } from '../../lib/dashboards-api';
import { useDash, useWidgetData } from './context';
import { formatNumber } from './format';
import { formatFor, requestsOf, scalarsOf, topOf } from './requests';
import { WidgetMessage } from './WidgetMessage';

/** Rows shown when the query does not say (Datadog's default). */
const DEFAULT_ROWS = 10;

export function ToplistWidget({ def, wkey }: { def: WidgetDefinition; wkey: string }) {
  const dash = useDash();
  const got = useWidgetData(def, scalarsOf);
  const req = requestsOf(def)[0];
  const error = got.data?.error ?? got.error;
  const settled = got.data !== null || !!got.error;

  useEffect(() => {
    if (settled) dash.reportDrawn(wkey);
  }, [settled]);

  if (!settled) return <WidgetMessage kind="loading" />;
  if (error) return <WidgetMessage kind="error" text={error} />;
  const top = typeof req?.q === 'string' ? topOf(req.q) : null;
  let rows = (got.data?.rows ?? []).filter((r) => r.value !== null);
  if (!got.data?.ordered) rows = [...rows].sort((a, b) => (top && !top.desc ? a.value! - b.value! : b.value! - a.value!)).slice(0, DEFAULT_ROWS);
  if (rows.length === 0) return <WidgetMessage kind="empty" />;
  const max = Math.max(...rows.map((r) => Math.abs(r.value!))) || 1;
  return (
    <ul class="toplist" data-testid="toplist">
      {rows.map((r) => {
        const palette = formatFor(req?.conditional_formats, r.value);
        return (
          <li key={r.label} data-label={r.label} data-value={r.value}>
            <span class="tl-label" title={r.label}>
              {r.label}
            </span>
            <span class="tl-bar-box">
              <span class={`tl-bar${palette ? ` cf-${palette}` : ''}`} style={{ width: `${(Math.abs(r.value!) / max) * 100}%` }} />
            </span>
            <span class="tl-value">{formatNumber(r.value, 2, true)}</span>
          </li>
        );
      })}
    </ul>
  );
}
