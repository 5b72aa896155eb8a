// The timeseries widget: every series of its requests on one chart, each
// drawn as its request's `display_type` (line, area, bars), with the
// widget's `markers` (`y = 90`) as horizontal lines, and a compact legend
// with the values at the cursor (none when `show_legend` is false).

import { useEffect } from 'preact/hooks';
import type { WidgetDefinition } from '../../lib/dashboards-api';
import { TimeseriesChart, type Threshold } from '../TimeseriesChart';
import { useDash, useWidgetData } from './context';
import { timeseriesOf } from './requests';
import { WidgetMessage } from './WidgetMessage';

/** Colours of Datadog's marker kinds (`error dashed`, `warning`, ...). */
const MARKER_COLORS: Record<string, string> = { error: '#c62828', warning: '#d18a00', ok: '#1b9e5f', info: '#3566c9' };

/** The markers of a widget that are a single level (`y = 90`); ranges
 *  (`0 < y < 10`) are not drawn. */
export function thresholdsOf(def: WidgetDefinition): Threshold[] {
  const markers = Array.isArray(def.markers) ? def.markers : [];
  const out: Threshold[] = [];
  for (const m of markers as { value?: unknown; display_type?: unknown; label?: unknown }[]) {
    const at = typeof m?.value === 'string' ? /^\s*y\s*=\s*(-?[\d.]+(?:e[+-]?\d+)?)\s*$/i.exec(m.value) : null;
    if (!at) continue;
    const kind = typeof m.display_type === 'string' ? m.display_type : '';
    out.push({
      value: Number(at[1]),
      color: MARKER_COLORS[kind.split(' ')[0]] ?? '#5d6d7e',
      dashed: kind.includes('dashed'),
      label: typeof m.label === 'string' && m.label ? m.label : undefined,
    });
  }
  return out;
}

export function TimeseriesWidget({ def, wkey }: { def: WidgetDefinition; wkey: string }) {
  const dash = useDash();
  const got = useWidgetData(def, timeseriesOf);
  const series = got.data?.series ?? [];
  const errors = [...(got.data?.errors ?? []), ...(got.error ? [got.error] : [])];
  const settled = !got.loading || got.data !== null;

  // Nothing to draw is drawn at once.
  useEffect(() => {
    if (settled && series.length === 0) dash.reportDrawn(wkey);
  }, [settled, series.length]);

  return (
    <div class="ts-widget">
      {errors.map((e, i) => (
        <WidgetMessage key={i} kind="error" text={e} />
      ))}
      {series.length > 0 ? (
        <TimeseriesChart
          series={series}
          from={got.from}
          to={got.to}
          height="fill"
          legend={def.show_legend === false ? 'none' : 'compact'}
          thresholds={thresholdsOf(def)}
          onZoom={dash.onZoom}
          onDrawn={() => dash.reportDrawn(wkey)}
        />
      ) : errors.length === 0 ? (
        <WidgetMessage kind={settled ? 'empty' : 'loading'} />
      ) : null}
    </div>
  );
}
