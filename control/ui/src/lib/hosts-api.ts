// The hosts page's calls: Datadog's `GET /api/v1/hosts`, typed with the
// fields the UI reads.

import { get } from '../api';

export interface Host {
  name: string;
  id: number;
  aliases: string[];
  /** The namespaces of its metrics (`system` for `system.cpu.user`). */
  apps: string[];
  sources: string[];
  tags_by_source: Record<string, string[]>;
  up: boolean;
  /** Epoch seconds. */
  last_reported_time: number;
}

export interface HostQuery {
  filter: string;
  sortField: 'name' | 'last_reported_time' | 'up';
  sortDir: 'asc' | 'desc';
  /** Reported since (epoch ms). */
  fromMs: number;
}

/** Most hosts one page shows (the API's own maximum per call). */
export const HOSTS_PAGE = 1000;

export const listHosts = (q: HostQuery, signal?: AbortSignal) =>
  get<{ host_list: Host[]; total_matching: number; total_returned: number }>(
    '/api/v1/hosts',
    {
      filter: q.filter.trim() || undefined,
      sort_field: q.sortField,
      sort_dir: q.sortDir,
      from: Math.floor(q.fromMs / 1000),
      count: HOSTS_PAGE,
    },
    signal,
  );

/** Every tag of a host, all sources together, without duplicates. */
export function hostTags(h: Host): string[] {
  const all = new Set<string>();
  for (const list of Object.values(h.tags_by_source ?? {})) for (const t of list) all.add(t);
  return [...all].sort();
}
