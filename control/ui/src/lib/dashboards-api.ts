// The dashboards pages' calls: Datadog's dashboards API
// (`/api/v1/dashboard`, as `DashboardsApi` calls it) and the metric query
// APIs the widgets read (`GET /api/v1/query`, `POST /api/v2/query/
// timeseries` and `/scalar`), typed with the fields the UI reads.
// Everything goes through `api.ts` (session cookie, CSRF header, the
// server's error messages).
//
// A dashboard is kept as the server answers it: every field the UI does
// not know (styles, widget options, presets) travels through an edit and
// a save unchanged, so a dashboard exported from Datadog keeps all of it.

import { api, del, get, post, put } from '../api';

/** A widget's place on the 12-column grid (Datadog's `WidgetLayout`). */
export interface Layout {
  x: number;
  y: number;
  width: number;
  height: number;
  is_column_break?: boolean;
}

/** One classic or formula request of a widget. */
export interface WidgetRequest {
  /** A classic query (`avg:m{$host} by {host}`). */
  q?: string;
  /** Formula style: named queries ... */
  queries?: { data_source?: string; name: string; query: string; aggregator?: string }[];
  /** ... combined by formulas (`100 * errors / hits`). */
  formulas?: { formula: string; alias?: string; limit?: { count?: number; order?: string } }[];
  response_format?: string;
  display_type?: string;
  aggregator?: string;
  conditional_formats?: ConditionalFormat[];
  style?: { palette?: string; [k: string]: unknown };
  metadata?: { expression: string; alias_name?: string }[];
  [k: string]: unknown;
}

/** A query value's or top list's colour rule. */
export interface ConditionalFormat {
  comparator: string;
  value: number;
  palette: string;
  [k: string]: unknown;
}

/** A widget's definition: `type` says which; the rest depends on it. */
export interface WidgetDefinition {
  type: string;
  title?: string;
  requests?: WidgetRequest[] | Record<string, unknown>;
  /** `group` */
  widgets?: Widget[];
  /** `note` */
  content?: string;
  [k: string]: unknown;
}

export interface Widget {
  id?: number;
  definition: WidgetDefinition;
  layout?: Layout;
}

/** `$host`: a tag key (`prefix`) whose value the viewer picks. */
export interface TemplateVariable {
  name: string;
  prefix?: string | null;
  default?: string | null;
  defaults?: string[];
  available_values?: string[] | null;
  [k: string]: unknown;
}

/** A whole dashboard as `GET /api/v1/dashboard/{id}` answers it. */
export interface Dashboard {
  id: string;
  title: string;
  description?: string | null;
  layout_type: 'ordered' | 'free';
  reflow_type?: 'auto' | 'fixed';
  is_read_only?: boolean;
  widgets: Widget[];
  template_variables?: TemplateVariable[] | null;
  author_handle?: string;
  created_at?: string;
  modified_at?: string;
  url?: string;
  [k: string]: unknown;
}

/** A dashboard of the list (Datadog's `DashboardSummaryDefinition`). */
export interface DashboardSummary {
  id: string;
  title: string;
  description?: string | null;
  layout_type: string;
  url: string;
  is_read_only: boolean;
  author_handle: string;
  created_at: string;
  modified_at: string;
}

/** A dashboard to create or save: what the server stores (it ignores and
 *  recomputes `id`, `url`, the author and the times). */
export type DashboardBody = Omit<Dashboard, 'id'> & { id?: string };

export const listDashboards = () => get<{ dashboards: DashboardSummary[] }>('/api/v1/dashboard').then((r) => r.dashboards ?? []);

export const getDashboard = (id: string, signal?: AbortSignal) => get<Dashboard>(`/api/v1/dashboard/${encodeURIComponent(id)}`, undefined, signal);

export const createDashboard = (body: DashboardBody | Record<string, unknown>) => post<Dashboard>('/api/v1/dashboard', body);

export const updateDashboard = (id: string, body: DashboardBody) => put<Dashboard>(`/api/v1/dashboard/${encodeURIComponent(id)}`, body);

export const deleteDashboard = (id: string) => del<{ deleted_dashboard_id: string }>(`/api/v1/dashboard/${encodeURIComponent(id)}`);

/** The server's fields of a dashboard, which a copy must not carry. */
const SERVER_FIELDS = ['id', 'url', 'author_handle', 'author_name', 'created_at', 'modified_at'];

/** A copy of `d` to create under a new title (clone: editable even when
 *  `d` is the read-only built-in). */
export function copyOf(d: Dashboard, title: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...d, title, is_read_only: false };
  for (const k of SERVER_FIELDS) delete out[k];
  return out;
}

// ---- Metric queries

/** One series of `/api/v1/query`'s answer (the fields the widgets use). */
export interface V1Series {
  expression: string;
  scope: string;
  tag_set: string[];
  aggr: string | null;
  pointlist: [number, number | null][];
}

export async function queryV1(q: string, from: number, to: number, signal?: AbortSignal): Promise<V1Series[]> {
  const r = await get<{ series: V1Series[] }>('/api/v1/query', { from: Math.floor(from / 1000), to: Math.ceil(to / 1000), query: q }, signal);
  return r.series ?? [];
}

/** The v2 answer of `/api/v2/query/timeseries`: shared times (ms), one
 *  value column per series. */
export interface V2Timeseries {
  times: number[];
  series: { group_tags: string[]; query_index: number }[];
  values: (number | null)[][];
}

export interface V2Query {
  data_source?: string;
  name: string;
  query: string;
  aggregator?: string;
}

export interface V2Formula {
  formula: string;
  limit?: { count?: number; order?: string };
}

export async function queryTimeseries(queries: V2Query[], formulas: V2Formula[], from: number, to: number, signal?: AbortSignal): Promise<V2Timeseries> {
  const body = { data: { type: 'timeseries_request', attributes: { from: Math.floor(from), to: Math.ceil(to), queries, formulas } } };
  const r = await postSignal<{ data: { attributes: V2Timeseries } }>('/api/v2/query/timeseries', body, signal);
  const a = r.data?.attributes;
  return { times: a?.times ?? [], series: a?.series ?? [], values: a?.values ?? [] };
}

/** The v2 answer of `/api/v2/query/scalar`: a `group` column (when
 *  grouped) and one number column per formula (or query). */
export interface V2Column {
  name: string;
  type: 'group' | 'number';
  values: (number | null)[] | string[][];
}

export async function queryScalar(queries: V2Query[], formulas: V2Formula[], from: number, to: number, signal?: AbortSignal): Promise<V2Column[]> {
  const body = { data: { type: 'scalar_request', attributes: { from: Math.floor(from), to: Math.ceil(to), queries, formulas } } };
  const r = await postSignal<{ data: { attributes: { columns: V2Column[] } } }>('/api/v2/query/scalar', body, signal);
  return r.data?.attributes?.columns ?? [];
}

/** A POST that can be cancelled (`api.ts`'s `post` takes no signal). */
function postSignal<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return api<T>('POST', path, { body, signal });
}
