// The hosts list (`/hosts`): every host that sent data in the chosen
// time (`GET /api/v1/hosts`), up or down, its tags, its apps (metric
// namespaces), when it was last seen, and a link to its metrics in the
// explorer. A search box (names and tags, asked of the server), sorting
// by name, last report or status; the address holds the view:
//   /hosts?filter=web&sort=last_reported_time&dir=desc&since=1d
//
// The metrics link opens `avg:<metric>{host:<name>}`: `system.cpu.user`
// when the host sends it, else the first metric of one of its apps that
// the host has (checked against the metric's tags, one look per metric,
// cached for a minute), else the first metric of its apps.

import { useEffect, useState } from 'preact/hooks';
import { isAbort, messageOf } from '../../api';
import { ErrorBox, TagChips, ago, useDebounced, useInterval, useNow } from '../../components/monitors/common';
import { hostTags, listHosts, type Host, type HostQuery } from '../../lib/hosts-api';
import { metricNames, metricTags } from '../../lib/metadata';
import { navigate, useLocation } from '../../router';
import { explorerUrl } from '../Explorer';
import './hosts.css';

/** The list is read again this often (hosts report every 10 to 60 s). */
const REFRESH_MS = 30_000;

/** The metric the link prefers, as Datadog's host map does. */
const PREFERRED_METRIC = 'system.cpu.user';

/** Candidates checked per host before settling on an unchecked one. */
const MAX_CHECKS = 5;

const SINCE: { key: string; label: string; ms: number }[] = [
  { key: '1h', label: 'past hour', ms: 3_600_000 },
  { key: '3h', label: 'past 3 hours', ms: 3 * 3_600_000 },
  { key: '1d', label: 'past day', ms: 86_400_000 },
  { key: '1w', label: 'past week', ms: 7 * 86_400_000 },
  { key: '30d', label: 'past 30 days', ms: 30 * 86_400_000 },
];

const SORTS: { field: HostQuery['sortField']; label: string }[] = [
  { field: 'up', label: 'Status' },
  { field: 'name', label: 'Host' },
  { field: 'last_reported_time', label: 'Last seen' },
];

export default function HostsPage() {
  const loc = useLocation();
  const params = new URLSearchParams(loc.search);
  const sortField = (SORTS.find((s) => s.field === params.get('sort'))?.field ?? 'name') as HostQuery['sortField'];
  const sortDir = params.get('dir') === 'desc' ? 'desc' : 'asc';
  const since = SINCE.find((s) => s.key === params.get('since')) ?? SINCE[2];
  const [filter, setFilter] = useState(params.get('filter') ?? '');
  const debounced = useDebounced(filter, 250);
  const [hosts, setHosts] = useState<Host[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const now = useNow(10_000);
  const links = useMetricLinks(hosts);

  function go(next: Record<string, string>) {
    const p = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(next)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    const s = p.toString();
    navigate(`/hosts${s ? `?${s}` : ''}`, { replace: true });
  }

  useEffect(() => {
    if ((params.get('filter') ?? '') !== debounced) go({ filter: debounced });
  }, [debounced]);

  useEffect(() => {
    const ctl = new AbortController();
    listHosts({ filter: debounced, sortField, sortDir, fromMs: Date.now() - since.ms }, ctl.signal).then(
      (r) => {
        setHosts(r.host_list ?? []);
        setTotal(r.total_matching ?? 0);
        setError(null);
      },
      (e) => !isAbort(e) && setError(messageOf(e)),
    );
    return () => ctl.abort();
  }, [debounced, sortField, sortDir, since.key, tick]);

  useInterval(() => setTick((t) => t + 1), REFRESH_MS);

  function sortBy(field: HostQuery['sortField']) {
    const dir = field === sortField ? (sortDir === 'asc' ? 'desc' : 'asc') : field === 'last_reported_time' ? 'desc' : 'asc';
    go({ sort: field, dir });
  }

  const upCount = (hosts ?? []).filter((h) => h.up).length;
  return (
    <section class="page hosts">
      <div class="page-head">
        <h1>
          Hosts{hosts && <span class="count">{total}</span>}
        </h1>
        {hosts && hosts.length > 0 && (
          <span class="muted small">
            {upCount} up, {hosts.length - upCount} down (no report in 2 hours)
          </span>
        )}
      </div>
      <div class="toolbar">
        <input type="search" placeholder="Search hosts and tags" aria-label="Search hosts" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <label class="inline-label">
          Reported in the
          <select aria-label="Reported since" value={since.key} onChange={(e) => go({ since: e.currentTarget.value })}>
            {SINCE.map((s) => (
              <option key={s.key} value={s.key}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox message={error} />
      <div class="card table-card">
        {hosts === null ? (
          <p class="empty">{error ? 'The hosts could not be read.' : 'Loading…'}</p>
        ) : hosts.length === 0 ? (
          <div class="empty-state">
            <p>{debounced ? `No host matches “${debounced}”.` : `No host has sent data in the ${since.label}.`}</p>
            <p class="small">A host appears here when its metrics carry a host (the Agent, DogStatsD, or the API's `host` field).</p>
          </div>
        ) : (
          <table class="list hosts-table" data-testid="hosts">
            <thead>
              <tr>
                {SORTS.map((s) => (
                  <th key={s.field} class="nowrap" aria-sort={s.field === sortField ? (sortDir === 'asc' ? 'ascending' : 'descending') : undefined}>
                    <button class={`sort${s.field === sortField ? ' on' : ''}`} onClick={() => sortBy(s.field)}>
                      {s.label}
                      {s.field === sortField ? (sortDir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  </th>
                ))}
                <th>Tags</th>
                <th>Apps</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => {
                const seen = h.last_reported_time * 1000;
                const metric = links.get(h.name);
                return (
                  <tr key={h.name} data-host={h.name} data-up={String(h.up)}>
                    <td class="nowrap">
                      <span class={`dot ${h.up ? 'up' : 'down'}`} />
                      {h.up ? 'up' : 'down'}
                    </td>
                    <td class="host-name">{h.name}</td>
                    <td class="nowrap" title={new Date(seen).toLocaleString()} data-testid="last-seen">
                      {ago(seen, now)}
                    </td>
                    <td>
                      <TagChips tags={hostTags(h)} onPick={(t) => setFilter(t)} max={8} />
                    </td>
                    <td class="apps">{(h.apps ?? []).join(', ')}</td>
                    <td class="nowrap">
                      {metric ? (
                        <a
                          href={explorerUrl([`avg:${metric}{host:${h.name}}`])}
                          onClick={(e) => {
                            if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                            e.preventDefault();
                            navigate(explorerUrl([`avg:${metric}{host:${h.name}}`]));
                          }}
                          title={`avg:${metric}{host:${h.name}}`}
                        >
                          Metrics →
                        </a>
                      ) : (
                        <span class="muted small">no metric</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      {hosts && total > hosts.length && (
        <p class="muted small">
          Showing {hosts.length} of {total}: search to narrow the list.
        </p>
      )}
    </section>
  );
}

/** The metric each host's link opens (see the module doc). */
function useMetricLinks(hosts: Host[] | null): Map<string, string> {
  const [names, setNames] = useState<string[] | null>(null);
  const [links, setLinks] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    metricNames().then(setNames, () => setNames([]));
  }, []);
  const key = (hosts ?? []).map((h) => `${h.name}:${(h.apps ?? []).join(',')}`).join('|');
  useEffect(() => {
    if (!hosts || !names) return;
    let live = true;
    const guesses = new Map<string, string>();
    const lists = new Map<string, string[]>();
    for (const h of hosts) {
      const c = candidates(h, names);
      lists.set(h.name, c);
      if (c.length) guesses.set(h.name, c[0]);
    }
    setLinks(guesses);
    // Check the guesses: the first candidate the host really has.
    Promise.all(
      hosts.map(async (h) => {
        const c = lists.get(h.name) ?? [];
        for (const m of c.slice(0, MAX_CHECKS)) {
          try {
            if ((await metricTags(m)).includes(`host:${h.name}`)) return [h.name, m] as const;
          } catch {
            return null;
          }
        }
        return null;
      }),
    ).then((found) => {
      if (!live) return;
      const next = new Map(guesses);
      for (const f of found) if (f) next.set(f[0], f[1]);
      setLinks(next);
    });
    return () => {
      live = false;
    };
  }, [key, names]);
  return links;
}

/** The metrics a host may have, best first: those in the namespaces of
 *  its apps (`agent` is `datadog.agent.*`), `system.cpu.user` first; every
 *  metric when it names no app. */
function candidates(h: Host, names: string[]): string[] {
  const apps = (h.apps ?? []).map((a) => (a === 'agent' ? 'datadog.agent' : a));
  const mine = apps.length ? names.filter((n) => apps.some((a) => n === a || n.startsWith(`${a}.`))) : [...names];
  mine.sort((a, b) => (a === PREFERRED_METRIC ? -1 : b === PREFERRED_METRIC ? 1 : a.localeCompare(b)));
  return mine;
}
