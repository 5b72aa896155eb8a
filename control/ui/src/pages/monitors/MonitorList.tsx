// The list of monitors: overall status (coloured), name, type, tags, when
// the status last changed, whether it is muted. Filters by name and tag
// (asked of the server: `name`, `monitor_tags`) and by status (the
// counts are buttons); the filters live in the address. The list refreshes
// every few seconds, so a monitor that starts alerting shows it.

import { useEffect, useState } from 'preact/hooks';
import { isAbort, messageOf } from '../../api';
import { ErrorBox, StatusBadge, TagChips, ago, useDebounced, useInterval, useNow } from '../../components/monitors/common';
import { listMonitors, type Monitor } from '../../lib/monitors-api';
import { Link, navigate, useLocation } from '../../router';
import { canEdit, useSession } from '../../session';

/** How often the list is read again: the scheduler evaluates every
 *  minute by default, so a few seconds is quick without being busy. */
const REFRESH_MS = 5_000;

const STATUSES = ['Alert', 'Warn', 'No Data', 'OK'] as const;

export function MonitorList() {
  const me = useSession();
  const loc = useLocation();
  const params = new URLSearchParams(loc.search);
  const status = params.get('status') ?? '';
  const tag = params.get('tag') ?? '';
  const [name, setName] = useState(params.get('name') ?? '');
  const debouncedName = useDebounced(name, 250);
  const [monitors, setMonitors] = useState<Monitor[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const now = useNow();

  /** Changes the address's filters (replacing the entry: typing is not
   *  history). */
  function setFilter(next: { name?: string; tag?: string; status?: string }) {
    const p = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(next)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    const s = p.toString();
    navigate(`/monitors${s ? `?${s}` : ''}`, { replace: true });
  }

  useEffect(() => {
    if ((params.get('name') ?? '') !== debouncedName) setFilter({ name: debouncedName });
  }, [debouncedName]);

  useEffect(() => {
    const ctl = new AbortController();
    listMonitors({ name: debouncedName, tags: tag ? [tag] : [] }, ctl.signal).then(
      (ms) => {
        setMonitors(ms);
        setError(null);
      },
      (e) => !isAbort(e) && setError(messageOf(e)),
    );
    return () => ctl.abort();
  }, [debouncedName, tag, tick]);

  useInterval(() => setTick((t) => t + 1), REFRESH_MS);

  const counts: Record<string, number> = {};
  for (const m of monitors ?? []) counts[m.overall_state] = (counts[m.overall_state] ?? 0) + 1;
  const shown = (monitors ?? []).filter((m) => !status || m.overall_state === status).sort(byUrgency);
  const filtered = !!(debouncedName || tag || status);

  return (
    <section class="page monitors">
      <div class="page-head">
        <h1>
          Monitors{monitors && <span class="count">{monitors.length}</span>}
        </h1>
        <div class="actions">
          {canEdit(me) && (
            <Link href="/monitors/new" class="button primary">
              + New monitor
            </Link>
          )}
        </div>
      </div>
      <div class="toolbar">
        <input
          type="search"
          placeholder="Filter by name"
          aria-label="Filter by name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <input
          type="search"
          class="mono"
          placeholder="Filter by tag (team:db)"
          aria-label="Filter by tag"
          value={tag}
          onChange={(e) => setFilter({ tag: e.currentTarget.value.trim() })}
        />
        <div class="status-filters" role="group" aria-label="Filter by status">
          {STATUSES.map((s) => (
            <button
              key={s}
              class={`status-filter${status === s ? ' on' : ''}`}
              aria-pressed={status === s}
              onClick={() => setFilter({ status: status === s ? '' : s })}
            >
              <StatusBadge status={s} small />
              <span class="n">{counts[s] ?? 0}</span>
            </button>
          ))}
        </div>
        {filtered && (
          <button
            class="link"
            onClick={() => {
              setName('');
              setFilter({ name: '', tag: '', status: '' });
            }}
          >
            Clear filters
          </button>
        )}
      </div>
      <ErrorBox message={error} />
      <div class="card table-card">
        {monitors === null ? (
          <p class="empty">{error ? 'The monitors could not be read.' : 'Loading…'}</p>
        ) : shown.length === 0 ? (
          <div class="empty-state">
            {filtered ? (
              <p>No monitor matches these filters.</p>
            ) : (
              <>
                <p>No monitor yet. A monitor watches a metric and alerts when it crosses a threshold.</p>
                {canEdit(me) && (
                  <Link href="/monitors/new" class="button primary">
                    Create a monitor
                  </Link>
                )}
              </>
            )}
          </div>
        ) : (
          <table class="list monitor-table" data-testid="monitor-list">
            <thead>
              <tr>
                <th style={{ width: '110px' }}>Status</th>
                <th>Name</th>
                <th>Type</th>
                <th>Tags</th>
                <th class="nowrap">Changed</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => (
                <tr key={m.id} data-monitor-id={m.id} data-status={m.overall_state}>
                  <td>
                    <StatusBadge status={m.overall_state} />
                  </td>
                  <td class="monitor-name">
                    <Link href={`/monitors/${m.id}`}>{m.name}</Link>
                    <MutedFlag m={m} />
                    <div class="monitor-query" title={m.query}>
                      {m.query}
                    </div>
                  </td>
                  <td class="nowrap muted">{m.type}</td>
                  <td>
                    <TagChips tags={m.tags ?? []} onPick={(t) => setFilter({ tag: t })} max={6} />
                  </td>
                  <td class="nowrap muted" title={m.overall_state_modified ?? ''}>
                    {m.overall_state_modified ? ago(Date.parse(m.overall_state_modified), now) : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

const URGENCY: Record<string, number> = { Alert: 0, Warn: 1, 'No Data': 2, OK: 3 };

/** Alerting monitors first, then by name. */
function byUrgency(a: Monitor, b: Monitor): number {
  return (URGENCY[a.overall_state] ?? 4) - (URGENCY[b.overall_state] ?? 4) || a.name.localeCompare(b.name);
}

/** Whether a scope of the monitor is muted now (silenced without an end
 *  or until a time to come), and whether a downtime covers it now. */
export function muting(m: Monitor): { muted: boolean; downtime: boolean } {
  const now = Date.now() / 1000;
  return {
    muted: Object.values(m.options?.silenced ?? {}).some((end) => end === null || end > now),
    downtime: (m.matching_downtimes?.length ?? 0) > 0,
  };
}

/** "muted" or "downtime" beside a monitor's name. */
export function MutedFlag({ m }: { m: Monitor }) {
  const { muted, downtime } = muting(m);
  if (muted) return <span class="muted-flag" title="Muted: notifications are not sent">muted</span>;
  if (downtime) return <span class="muted-flag" title="A downtime covers some or all of its groups now">downtime</span>;
  return null;
}
