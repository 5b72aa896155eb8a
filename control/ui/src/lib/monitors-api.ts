// The monitor pages' calls: Datadog's monitor and downtime APIs
// (`/api/v1/monitor*`, `/api/v1/downtime*`) and Whippet's own state
// history (`/api/ui/monitors/{id}/history`), typed with the fields the UI
// reads. Everything goes through `api.ts` (session cookie, CSRF header,
// the server's error messages).

import { del, get, post, put } from '../api';

/** A status as the monitor API writes it. */
export type Status = 'OK' | 'Warn' | 'Alert' | 'No Data' | 'Skipped' | 'Ignored' | 'Unknown';

export interface Thresholds {
  critical?: number | null;
  warning?: number | null;
  critical_recovery?: number | null;
  warning_recovery?: number | null;
  ok?: number | null;
}

export interface MonitorOptions {
  thresholds?: Thresholds;
  notify_no_data?: boolean;
  no_data_timeframe?: number | null;
  renotify_interval?: number | null;
  /** Muted scopes: `{"*": null}` (until unmuted) or `{"host:a": <end s>}`. */
  silenced?: Record<string, number | null>;
  [key: string]: unknown;
}

/** What a client writes to create or update a monitor. */
export interface MonitorDefinition {
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string[];
  priority: number | null;
  options: MonitorOptions;
}

export interface GroupState {
  name: string;
  status: Status;
  last_triggered_ts: number | null;
  last_resolved_ts: number | null;
  last_nodata_ts: number | null;
  message?: string;
}

/** A monitor as the API answers it. */
export interface Monitor extends MonitorDefinition {
  id: number;
  overall_state: Status;
  overall_state_modified: string | null;
  created: string;
  modified: string;
  multi: boolean;
  state?: { groups: Record<string, GroupState> };
  matching_downtimes?: MatchingDowntime[];
}

export interface MatchingDowntime {
  id: number;
  start: number | null;
  end: number | null;
  scope: string[];
}

export interface Downtime {
  id: number;
  scope: string[];
  monitor_id: number | null;
  start: number;
  end: number | null;
  message: string | null;
  active: boolean;
  canceled: number | null;
}

/** One state change of one group. */
export interface Transition {
  group: string;
  from: Status;
  to: Status;
  value: number | null;
  /** Unix ms. */
  at: number;
}

export interface ListFilter {
  name?: string;
  /** Monitor tags that must all be present. */
  tags?: string[];
}

export const listMonitors = (f: ListFilter = {}, signal?: AbortSignal) =>
  get<Monitor[]>(
    '/api/v1/monitor',
    {
      group_states: 'all',
      with_downtimes: true,
      name: f.name?.trim() || undefined,
      monitor_tags: f.tags?.length ? f.tags.join(',') : undefined,
    },
    signal,
  );

export const getMonitor = (id: number, signal?: AbortSignal) =>
  get<Monitor>(`/api/v1/monitor/${id}`, { group_states: 'all', with_downtimes: true }, signal);

export const createMonitor = (d: MonitorDefinition) => post<Monitor>('/api/v1/monitor', d);

export const updateMonitor = (id: number, d: MonitorDefinition) => put<Monitor>(`/api/v1/monitor/${id}`, d);

export const deleteMonitor = (id: number) => del<{ deleted_monitor_id: number }>(`/api/v1/monitor/${id}`);

/** Resolves when the definition would be accepted; rejects with the
 *  server's 400 message otherwise. `id`: validated as an update of it. */
export const validateMonitor = (d: MonitorDefinition, id?: number) =>
  post<unknown>(id === undefined ? '/api/v1/monitor/validate' : `/api/v1/monitor/${id}/validate`, d);

/** Mutes `scope` (`*`: every group) until `end` (epoch s; null: until
 *  unmuted). */
export const muteMonitor = (id: number, scope: string, end: number | null) =>
  post<Monitor>(`/api/v1/monitor/${id}/mute`, { scope, end });

/** Unmutes `scope`, or every scope when `scope` is null. */
export const unmuteMonitor = (id: number, scope: string | null) =>
  post<Monitor>(`/api/v1/monitor/${id}/unmute`, scope === null ? { all_scopes: true } : { scope });

/** The downtimes in effect now that cover the monitor. */
export const monitorDowntimes = (id: number, signal?: AbortSignal) =>
  get<Downtime[]>(`/api/v1/monitor/${id}/downtimes`, undefined, signal);

/** Every downtime of the org, canceled ones included. */
export const listDowntimes = (signal?: AbortSignal) => get<Downtime[]>('/api/v1/downtime', undefined, signal);

export const createDowntime = (d: { scope: string[]; monitor_id: number | null; start: number; end: number | null; message?: string }) =>
  post<Downtime>('/api/v1/downtime', d);

export const cancelDowntime = (id: number) => del<void>(`/api/v1/downtime/${id}`);

/** The monitor's transitions since `fromMs`, oldest first. */
export const monitorHistory = (id: number, fromMs: number, signal?: AbortSignal) =>
  get<{ transitions: Transition[] }>(`/api/ui/monitors/${id}/history`, { from: Math.floor(fromMs / 1000) }, signal).then(
    (r) => r.transitions ?? [],
  );

/** One series of `/api/v1/query`. */
export interface QuerySeries {
  expression: string;
  scope: string;
  tag_set: string[];
  pointlist: [number, number | null][];
}

/** Runs a metric query over `[fromMs, toMs]`. */
export const runQuery = (query: string, fromMs: number, toMs: number, signal?: AbortSignal) =>
  get<{ series: QuerySeries[] }>('/api/v1/query', { from: Math.floor(fromMs / 1000), to: Math.ceil(toMs / 1000), query }, signal).then(
    (r) => r.series ?? [],
  );
