// The monitor form's model: the fields a person edits, how they become a
// monitor definition (`avg(last_5m):<metric query> > 80` and `options`),
// and how a stored monitor is read back into them. Pure functions; the
// server's validator (`POST /api/v1/monitor/validate`) is the judge of
// what is valid, this only refuses what cannot be sent at all (a
// threshold that is not a number).

import type { Monitor, MonitorDefinition, MonitorOptions, Thresholds } from '../../lib/monitors-api';

export const TIME_AGGREGATIONS = ['avg', 'sum', 'min', 'max'] as const;

/** The windows offered (Datadog's UI offers these and a custom one). */
export const WINDOWS = ['1m', '5m', '10m', '15m', '30m', '1h', '2h', '4h', '1d', '2d', '1w'];

export const COMPARATORS: { op: string; label: string }[] = [
  { op: '>', label: 'above' },
  { op: '>=', label: 'above or equal to' },
  { op: '<', label: 'below' },
  { op: '<=', label: 'below or equal to' },
  { op: '==', label: 'equal to' },
  { op: '!=', label: 'not equal to' },
];

/** Types the structured form writes. */
export const METRIC_TYPES = ['metric alert', 'query alert'];

/** Types written through the raw form (type, query, options JSON). */
export const RAW_TYPES = ['service check', 'event alert', 'event-v2 alert', 'composite', 'log alert', 'metric alert', 'query alert'];

/** The options the structured form edits itself; any other option of an
 *  edited monitor (`silenced`, `include_tags`, ...) is kept as it was. */
const FORM_OPTIONS = ['thresholds', 'notify_no_data', 'no_data_timeframe', 'renotify_interval', 'new_group_delay'];

export interface FormState {
  mode: 'metric' | 'raw';
  type: string;
  name: string;
  /** The metric query (`avg:system.cpu.user{*} by {host}`). */
  metric: string;
  aggregation: string;
  window: string;
  comparator: string;
  critical: string;
  warning: string;
  criticalRecovery: string;
  warningRecovery: string;
  notifyNoData: boolean;
  /** Minutes, as typed. */
  noDataTimeframe: string;
  /** Minutes, as typed; empty: never. */
  renotify: string;
  /** Seconds a new group waits before it is evaluated; empty: the
   *  server's default (60 s for a grouped query). */
  newGroupDelay: string;
  message: string;
  /** Comma-separated. */
  tags: string;
  /** '' or 1..5. */
  priority: string;
  /** The raw form's query and options. */
  rawQuery: string;
  rawOptions: string;
  /** Options of an edited monitor the form does not show. */
  keptOptions: MonitorOptions;
}

export function emptyForm(): FormState {
  return {
    mode: 'metric',
    type: 'metric alert',
    name: '',
    metric: '',
    aggregation: 'avg',
    window: '5m',
    comparator: '>',
    critical: '',
    warning: '',
    criticalRecovery: '',
    warningRecovery: '',
    notifyNoData: false,
    noDataTimeframe: '10',
    renotify: '',
    newGroupDelay: '',
    message: '',
    tags: '',
    priority: '',
    rawQuery: '',
    rawOptions: '{\n  \n}',
    keptOptions: {},
  };
}

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const METRIC_MONITOR = new RegExp(
  String.raw`^\s*(avg|sum|min|max)\(\s*last_(\d+(?:mo|[mhdw]))\s*\)\s*:\s*([\s\S]*?)\s*(>=|<=|==|!=|>|<)\s*(${NUMBER})\s*$`,
);

/** The parts of a metric monitor query, or null when it is not of the
 *  simple `aggr(last_N):expr op number` form (change alerts,
 *  percentiles: edited raw). */
export function parseMetricQuery(q: string): { aggregation: string; window: string; metric: string; comparator: string; threshold: string } | null {
  const m = METRIC_MONITOR.exec(q);
  if (!m) return null;
  return { aggregation: m[1], window: m[2], metric: m[3], comparator: m[4], threshold: m[5] };
}

/** A window's length in seconds (`5m` → 300; `1mo` is 30 days). */
export function windowSeconds(w: string): number {
  const m = /^(\d+)(mo|[mhdw])$/.exec(w);
  if (!m) return 300;
  const unit: Record<string, number> = { m: 60, h: 3600, d: 86_400, w: 604_800, mo: 2_592_000 };
  return Number(m[1]) * unit[m[2]];
}

/** The form of a stored monitor (or of a definition). */
export function formOf(m: Pick<Monitor, 'type' | 'name' | 'query' | 'message' | 'tags' | 'priority' | 'options'>): FormState {
  const f = emptyForm();
  const o = m.options ?? {};
  const th: Thresholds = o.thresholds ?? {};
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  f.type = m.type;
  f.name = m.name ?? '';
  f.message = m.message ?? '';
  f.tags = (m.tags ?? []).join(', ');
  f.priority = m.priority ? String(m.priority) : '';
  const parsed = METRIC_TYPES.includes(m.type) ? parseMetricQuery(m.query) : null;
  const kept: MonitorOptions = {};
  if (parsed) {
    f.mode = 'metric';
    f.metric = parsed.metric;
    f.aggregation = parsed.aggregation;
    f.window = parsed.window;
    f.comparator = parsed.comparator;
    f.critical = num(th.critical ?? Number(parsed.threshold));
    f.warning = num(th.warning);
    f.criticalRecovery = num(th.critical_recovery);
    f.warningRecovery = num(th.warning_recovery);
    f.notifyNoData = !!o.notify_no_data;
    f.noDataTimeframe = o.no_data_timeframe ? String(o.no_data_timeframe) : '10';
    f.renotify = o.renotify_interval ? String(o.renotify_interval) : '';
    f.newGroupDelay = typeof o.new_group_delay === 'number' ? String(o.new_group_delay) : '';
    for (const [k, v] of Object.entries(o)) if (!FORM_OPTIONS.includes(k)) kept[k] = v;
    f.keptOptions = kept;
  } else {
    f.mode = 'raw';
  }
  f.rawQuery = m.query;
  f.rawOptions = JSON.stringify(o, null, 2);
  return f;
}

/** A number field: null when empty, NaN when it is not a number. */
function numberOf(s: string): number | null {
  const t = s.trim();
  if (!t) return null;
  return new RegExp(`^${NUMBER}$`).test(t) ? Number(t) : NaN;
}

function wholeOf(s: string): number | null {
  const t = s.trim();
  if (!t) return null;
  return /^\d+$/.test(t) ? Number(t) : NaN;
}

export function tagsOf(s: string): string[] {
  return s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** The metric monitor's query text (`avg(last_5m):<metric> > 80`). */
export function metricMonitorQuery(f: FormState): string {
  return `${f.aggregation}(last_${f.window}):${f.metric.trim()} ${f.comparator} ${f.critical.trim()}`;
}

/** The thresholds of the form as numbers (null: empty or not a number). */
export function thresholdsOf(f: FormState): { critical: number | null; warning: number | null; criticalRecovery: number | null; warningRecovery: number | null } {
  const ok = (s: string) => {
    const n = numberOf(s);
    return n === null || Number.isNaN(n) ? null : n;
  };
  return { critical: ok(f.critical), warning: ok(f.warning), criticalRecovery: ok(f.criticalRecovery), warningRecovery: ok(f.warningRecovery) };
}

/** The definition the form describes, or what must be fixed first. An
 *  empty name is replaced by `placeholderName` when given (validating as
 *  one types, before a name is chosen). */
export function definitionOf(f: FormState, placeholderName?: string): { def: MonitorDefinition | null; problems: string[] } {
  const problems: string[] = [];
  const name = f.name.trim() || placeholderName || '';
  if (!name) problems.push('Give the monitor a name.');
  const priority = f.priority ? Number(f.priority) : null;
  const base = { name, message: f.message, tags: tagsOf(f.tags), priority };

  if (f.mode === 'raw') {
    let options: MonitorOptions = {};
    const text = f.rawOptions.trim();
    if (text) {
      try {
        const v = JSON.parse(text);
        if (!v || typeof v !== 'object' || Array.isArray(v)) problems.push('The options must be a JSON object.');
        else options = v;
      } catch (e) {
        problems.push(`The options are not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (!f.rawQuery.trim()) problems.push('Enter the query.');
    return { def: problems.length ? null : { ...base, type: f.type, query: f.rawQuery.trim(), options }, problems };
  }

  if (!f.metric.trim()) problems.push('Enter the metric query.');
  const fields: [string, string][] = [
    ['Alert threshold', f.critical],
    ['Warning threshold', f.warning],
    ['Alert recovery threshold', f.criticalRecovery],
    ['Warning recovery threshold', f.warningRecovery],
  ];
  for (const [label, v] of fields) if (Number.isNaN(numberOf(v))) problems.push(`${label} must be a number.`);
  if (numberOf(f.critical) === null) problems.push('Enter the alert threshold.');
  const minutes: [string, string][] = [
    ['No-data timeframe', f.noDataTimeframe],
    ['Renotify interval', f.renotify],
  ];
  for (const [label, v] of minutes) if (Number.isNaN(wholeOf(v))) problems.push(`${label} must be a whole number of minutes.`);
  if (Number.isNaN(wholeOf(f.newGroupDelay))) problems.push('New group delay must be a whole number of seconds.');
  if (problems.length) return { def: null, problems };

  const thresholds: Thresholds = { critical: numberOf(f.critical) };
  const put = (k: keyof Thresholds, v: string) => {
    const n = numberOf(v);
    if (n !== null) thresholds[k] = n;
  };
  put('warning', f.warning);
  put('critical_recovery', f.criticalRecovery);
  put('warning_recovery', f.warningRecovery);
  const options: MonitorOptions = { ...f.keptOptions, thresholds, notify_no_data: f.notifyNoData };
  if (f.notifyNoData) options.no_data_timeframe = wholeOf(f.noDataTimeframe) ?? 10;
  const renotify = wholeOf(f.renotify);
  options.renotify_interval = renotify && renotify > 0 ? renotify : null;
  const delay = wholeOf(f.newGroupDelay);
  if (delay !== null) options.new_group_delay = delay;
  return { def: { ...base, type: f.type, query: metricMonitorQuery(f), options }, problems };
}

/** The metric query inside a monitor's query (for the explorer link and
 *  the chart), or null for other types. */
export function metricPart(m: { type: string; query: string }): string | null {
  if (!METRIC_TYPES.includes(m.type)) return null;
  const p = parseMetricQuery(m.query);
  if (p) return p.metric;
  // Change alerts and the like: the text between the first `):` and the
  // last comparator.
  const c = /\)\s*:\s*([\s\S]*?)\s*(>=|<=|==|!=|>|<)\s*[-+.\d]/.exec(m.query);
  return c ? c[1] : null;
}

/** Template variables offered under the message, with what they show. */
export const TEMPLATE_VARIABLES: { text: string; what: string }[] = [
  { text: '{{value}}', what: 'the value that triggered' },
  { text: '{{threshold}}', what: 'the alert threshold' },
  { text: '{{warn_threshold}}', what: 'the warning threshold' },
  { text: '{{comparator}}', what: 'the comparator' },
  { text: '{{last_triggered_at}}', what: 'when it last triggered (UTC)' },
  { text: '{{#is_alert}}…{{/is_alert}}', what: 'only in alert' },
  { text: '{{#is_warning}}…{{/is_warning}}', what: 'only in warning' },
  { text: '{{#is_recovery}}…{{/is_recovery}}', what: 'only on recovery' },
  { text: '{{^is_alert}}…{{/is_alert}}', what: 'except in alert' },
  { text: '@webhook-<name>', what: 'notify a webhook' },
];

/** What the evaluator would make of one series now: its time aggregation
 *  over the last window and the status the thresholds give it. A
 *  preview only: the server evaluates on its own schedule, with its own
 *  rules (no-data, recovery thresholds, delays). */
export interface Predicted {
  label: string;
  value: number | null;
  status: 'OK' | 'Warn' | 'Alert' | 'No Data';
}

const CROSSES: Record<string, (v: number, t: number) => boolean> = {
  '>': (v, t) => v > t,
  '>=': (v, t) => v >= t,
  '<': (v, t) => v < t,
  '<=': (v, t) => v <= t,
  '==': (v, t) => v === t,
  '!=': (v, t) => v !== t,
};

export function predict(
  series: { label: string; points: [number, number | null][] }[],
  aggregation: string,
  windowSecs: number,
  comparator: string,
  t: { critical: number | null; warning: number | null },
  nowMs: number,
): Predicted[] {
  const cross = CROSSES[comparator] ?? CROSSES['>'];
  return series.map((s) => {
    const vals = s.points.filter(([at, v]) => v !== null && at > nowMs - windowSecs * 1000).map(([, v]) => v as number);
    if (vals.length === 0) return { label: s.label, value: null, status: 'No Data' as const };
    let value: number;
    if (aggregation === 'sum') value = vals.reduce((a, b) => a + b, 0);
    else if (aggregation === 'min') value = Math.min(...vals);
    else if (aggregation === 'max') value = Math.max(...vals);
    else value = vals.reduce((a, b) => a + b, 0) / vals.length;
    const status = t.critical !== null && cross(value, t.critical) ? 'Alert' : t.warning !== null && cross(value, t.warning) ? 'Warn' : 'OK';
    return { label: s.label, value, status };
  });
}
