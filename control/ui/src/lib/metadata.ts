// Metric names and tags for autocomplete, fetched once and kept for a
// minute: typing must not send a request per key stroke, and a new metric
// shows up within a minute.

import { ApiError, get } from '../api';

/** How long a fetched list is used before it is asked again. */
const TTL_MS = 60_000;

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

let names: Entry<string[]> | null = null;
const tags = new Map<string, Entry<string[]>>();

function fresh<T>(e: Entry<T> | null | undefined): e is Entry<T> {
  return !!e && Date.now() - e.at < TTL_MS;
}

/** The org's metric names (`GET /api/v1/metrics`). */
export function metricNames(): Promise<string[]> {
  if (!fresh(names)) {
    const from = Math.floor(Date.now() / 1000) - 86_400;
    const value = get<{ metrics: string[] }>('/api/v1/metrics', { from }).then((r) => r.metrics ?? []);
    names = { at: Date.now(), value };
    // A failure is not kept: the next look asks again.
    value.catch(() => {
      names = null;
    });
  }
  return names!.value;
}

/** The `key:value` tags of a metric (`GET /api/v2/metrics/{m}/all-tags`);
 *  an unknown metric has none. */
export function metricTags(metric: string): Promise<string[]> {
  const e = tags.get(metric);
  if (fresh(e)) return e.value;
  const value = get<{ data: { attributes: { tags: string[] } } }>(`/api/v2/metrics/${encodeURIComponent(metric)}/all-tags`)
    .then((r) => r.data?.attributes?.tags ?? [])
    .catch((err) => {
      if (err instanceof ApiError && err.status === 404) return [];
      tags.delete(metric);
      throw err;
    });
  tags.set(metric, { at: Date.now(), value });
  return value;
}

/** The distinct keys of `key:value` tags, in order. */
export function tagKeys(all: string[]): string[] {
  const keys = new Set<string>();
  for (const t of all) keys.add(t.includes(':') ? t.slice(0, t.indexOf(':')) : t);
  return [...keys];
}

/** The values of `key` among `key:value` tags. */
export function tagValues(all: string[], key: string): string[] {
  const p = key + ':';
  return all.filter((t) => t.startsWith(p)).map((t) => t.slice(p.length));
}
