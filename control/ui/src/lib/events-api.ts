// The events page's calls: Datadog's `GET /api/v1/events` (newest first,
// at most 1000 per page), typed with the fields the UI reads.

import { get } from '../api';

export interface DdEvent {
  id: number;
  title: string;
  text: string;
  /** Epoch seconds. */
  date_happened: number;
  priority: string | null;
  tags: string[];
  /** `error`, `warning`, `info`, `success`, ... */
  alert_type: string;
  host: string | null;
  source_type_name: string | null;
  aggregation_key: string | null;
}

export interface EventFilter {
  /** Source names (`Monitor Alert`, `my_apps`); empty: all. */
  sources: string[];
  /** Tags that must all be present. */
  tags: string[];
  /** `normal`, `low`, or '' for all. */
  priority: string;
}

/** The events in `[fromMs, toMs]` that pass `f`, newest first. */
export const listEvents = (fromMs: number, toMs: number, f: EventFilter, signal?: AbortSignal) =>
  get<{ events: DdEvent[] }>(
    '/api/v1/events',
    {
      start: Math.floor(fromMs / 1000),
      end: Math.ceil(toMs / 1000),
      sources: f.sources.length ? f.sources.join(',') : undefined,
      tags: f.tags.length ? f.tags.join(',') : undefined,
      priority: f.priority || undefined,
      unaggregated: true,
    },
    signal,
  ).then((r) => r.events ?? []);

/** The monitor an event is about (its `monitor_id:N` tag), or null. */
export function monitorIdOf(e: DdEvent): number | null {
  for (const t of e.tags ?? []) {
    const m = /^monitor_id:(\d+)$/.exec(t);
    if (m) return Number(m[1]);
  }
  return null;
}
