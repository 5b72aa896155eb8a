// The query value widget: one number, its request's `aggregator` (avg,
// sum, min, max, last) over the window, with the widget's `precision`,
// `autoscale` and `custom_unit`, coloured by the first of the request's
// `conditional_formats` it meets.

import { useEffect } from 'preact/hooks';
import type { WidgetDefinition } from '../../lib/dashboards-api';
import { useDash, useWidgetData } from './context';
import { formatNumber } from './format';
import { combine, formatFor, requestsOf, scalarsOf } from './requests';
import { WidgetMessage } from './WidgetMessage';

export function QueryValueWidget({ def, wkey }: { def: WidgetDefinition; wkey: string }) {
  const dash = useDash();
  const got = useWidgetData(def, scalarsOf);
  const req = requestsOf(def)[0];
  const agg = typeof req?.aggregator === 'string' ? req.aggregator : 'avg';
  const rows = got.data?.rows ?? [];
  const value = combine(rows, agg);
  const error = got.data?.error ?? got.error;
  const settled = got.data !== null || !!got.error;

  useEffect(() => {
    if (settled) dash.reportDrawn(wkey);
  }, [settled]);

  if (!settled) return <WidgetMessage kind="loading" />;
  if (error) return <WidgetMessage kind="error" text={error} />;
  if (value === null) return <WidgetMessage kind="empty" />;
  const precision = typeof def.precision === 'number' ? def.precision : undefined;
  const palette = formatFor(req?.conditional_formats, value);
  const unit = typeof def.custom_unit === 'string' ? def.custom_unit : '';
  const align = def.text_align === 'left' || def.text_align === 'right' ? def.text_align : 'center';
  return (
    <div class={`qv${palette ? ` cf-${palette}` : ''}`} style={{ justifyContent: align === 'center' ? 'center' : align === 'left' ? 'flex-start' : 'flex-end' }}>
      <span class="qv-value" data-testid="query-value" data-value={value ?? ''}>
        {formatNumber(value, precision, def.autoscale !== false)}
      </span>
      {unit && <span class="qv-unit">{unit}</span>}
    </div>
  );
}
