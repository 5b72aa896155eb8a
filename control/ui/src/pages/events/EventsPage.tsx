// The events stream (`/events`): every event of the range, newest first,
// with its title, text, source, host, tags and time; monitor transitions
// (source "Monitor Alert") are marked by their alert type and link to
// their monitor. Filters by source, tag and priority; a time range and
// live refresh. The address holds the view:
//   /events?range=1d&source=Monitor%20Alert&tag=env:prod&priority=normal&live=1

import { useEffect, useState } from 'preact/hooks';
import { isAbort, messageOf } from '../../api';
import { ErrorBox, TagChips, ago, useInterval, useNow } from '../../components/monitors/common';
import { TimeRangePicker } from '../../components/TimeRangePicker';
import { listEvents, monitorIdOf, type DdEvent } from '../../lib/events-api';
import { describe, formatTime, rangeFromParams, rangeKey, rangeToParams, resolve, type Range } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import './events.css';

/** Live mode reads the stream again this often. */
const LIVE_MS = 5_000;

/** Events whose text is longer than this are folded (click to unfold). */
const FOLD_CHARS = 400;

/** The source of monitor transitions. */
const MONITOR_SOURCE = 'Monitor Alert';

const ALERT_LABEL: Record<string, string> = {
  error: 'Alert',
  warning: 'Warning',
  success: 'Recovered',
  info: 'Info',
};

export default function EventsPage() {
  const loc = useLocation();
  const params = new URLSearchParams(loc.search);
  const range: Range = params.has('range') || params.has('from') ? rangeFromParams(params) : { kind: 'relative', span: '1d', ms: 86_400_000 };
  const live = params.get('live') !== '0' && range.kind === 'relative';
  const source = params.get('source') ?? '';
  const tag = params.get('tag') ?? '';
  const priority = params.get('priority') ?? '';
  const [events, setEvents] = useState<DdEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [tagDraft, setTagDraft] = useState(tag);
  const [sources, setSources] = useState<string[]>([MONITOR_SOURCE]);
  const now = useNow(10_000);

  useEffect(() => setTagDraft(tag), [tag]);

  function go(next: { range?: Range; live?: boolean; source?: string; tag?: string; priority?: string }, replace = false) {
    const p = new URLSearchParams(window.location.search);
    if (next.range) rangeToParams(next.range, p);
    else if (!p.has('range') && !p.has('from')) rangeToParams(range, p);
    if (next.live !== undefined) {
      if (next.live) p.delete('live');
      else p.set('live', '0');
    }
    for (const k of ['source', 'tag', 'priority'] as const) {
      const v = next[k];
      if (v === undefined) continue;
      if (v) p.set(k, v);
      else p.delete(k);
    }
    navigate(`/events?${p}`, { replace });
  }

  useEffect(() => {
    const ctl = new AbortController();
    const { from, to } = resolve(range);
    listEvents(from, to, { sources: source ? [source] : [], tags: tag ? tag.split(',').map((t) => t.trim()) : [], priority }, ctl.signal).then(
      (list) => {
        setEvents(list);
        setError(null);
        // Sources seen so far, for the picker.
        setSources((old) => [...new Set([...old, ...list.map((e) => e.source_type_name).filter((s): s is string => !!s)])].sort());
      },
      (e) => !isAbort(e) && setError(messageOf(e)),
    );
    return () => ctl.abort();
  }, [rangeKey(range), source, tag, priority, tick]);

  useInterval(() => setTick((t) => t + 1), live ? LIVE_MS : null);

  const filtered = !!(source || tag || priority);
  return (
    <section class="page events">
      <div class="page-head">
        <h1>
          Events{events && <span class="count">{events.length === 1000 ? '1000+' : events.length}</span>}
        </h1>
        <TimeRangePicker range={range} onChange={(r) => go({ range: r })} live={live} onLive={(l) => go({ live: l }, true)} />
      </div>
      <div class="toolbar">
        <label class="inline-label">
          Source
          <select value={source} onChange={(e) => go({ source: e.currentTarget.value }, true)} aria-label="Source">
            <option value="">All sources</option>
            {[...new Set([...sources, ...(source ? [source] : [])])].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <form
          class="inline-label"
          onSubmit={(e) => {
            e.preventDefault();
            go({ tag: tagDraft.trim() }, true);
          }}
        >
          Tags
          <input
            type="search"
            class="mono"
            placeholder="env:prod, monitor_id:3"
            aria-label="Filter by tags"
            value={tagDraft}
            onInput={(e) => setTagDraft(e.currentTarget.value)}
            onBlur={() => tagDraft.trim() !== tag && go({ tag: tagDraft.trim() }, true)}
          />
        </form>
        <label class="inline-label">
          Priority
          <select value={priority} onChange={(e) => go({ priority: e.currentTarget.value }, true)} aria-label="Priority">
            <option value="">All</option>
            <option value="normal">Normal</option>
            <option value="low">Low</option>
          </select>
        </label>
        {filtered && (
          <button class="link" onClick={() => go({ source: '', tag: '', priority: '' }, true)}>
            Clear filters
          </button>
        )}
      </div>
      <ErrorBox message={error} />
      {events === null ? (
        <p class="muted">{error ? 'The events could not be read.' : 'Loading…'}</p>
      ) : events.length === 0 ? (
        <div class="card empty-state">
          <p>
            No event {filtered ? 'matches these filters ' : ''}in the {describe(range).toLowerCase()}.
          </p>
          <p class="small">
            Events come from <code>POST /api/v1/events</code> (the Datadog clients' <code>api.Event.create</code>), DogStatsD and
            monitor transitions.
          </p>
        </div>
      ) : (
        <ol class="event-list" data-testid="events">
          {events.map((e) => (
            <EventItem key={e.id} e={e} now={now} onTag={(t) => go({ tag: t }, true)} onSource={(s) => go({ source: s }, true)} />
          ))}
        </ol>
      )}
    </section>
  );
}

function EventItem({ e, now, onTag, onSource }: { e: DdEvent; now: number; onTag: (t: string) => void; onSource: (s: string) => void }) {
  const [open, setOpen] = useState(false);
  const monitorId = monitorIdOf(e);
  const isMonitor = e.source_type_name === MONITOR_SOURCE;
  const at = e.date_happened * 1000;
  const long = (e.text ?? '').length > FOLD_CHARS;
  const text = long && !open ? e.text.slice(0, FOLD_CHARS) + '…' : e.text;
  return (
    <li class={`event alert-${e.alert_type}${isMonitor ? ' monitor-event' : ''}`} data-event-id={e.id} data-alert-type={e.alert_type} data-source={e.source_type_name ?? ''}>
      <div class="event-time" title={formatTime(at)}>
        <div>{formatTime(at).slice(11, 16)}</div>
        <div class="muted small">{ago(at, now)}</div>
      </div>
      <div class="event-body">
        <div class="event-title">
          {isMonitor && <span class={`alert-pill alert-${e.alert_type}`}>{ALERT_LABEL[e.alert_type] ?? e.alert_type}</span>}
          {monitorId !== null ? <Link href={`/monitors/${monitorId}`}>{e.title}</Link> : <span>{e.title}</span>}
        </div>
        {text && <pre class="event-text">{text}</pre>}
        {long && (
          <button class="link small" onClick={() => setOpen(!open)}>
            {open ? 'Show less' : 'Show all'}
          </button>
        )}
        <div class="event-meta">
          {e.source_type_name && (
            <button class="source-chip" title="Show only this source" onClick={() => onSource(e.source_type_name!)}>
              {e.source_type_name}
            </button>
          )}
          {e.host && <span class="muted small">host {e.host}</span>}
          {e.priority === 'low' && <span class="muted small">low priority</span>}
          <TagChips tags={e.tags ?? []} onPick={onTag} max={10} />
        </div>
      </div>
    </li>
  );
}
