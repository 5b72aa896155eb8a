// A monitor's state history as a timeline: one row per group, coloured
// spans for OK, Warn, Alert and No Data built from the transitions
// (`GET /api/ui/monitors/{id}/history`), a time axis under them. Hovering
// a span names its status, its start and end and the value that caused it.

import { formatValue } from '../../lib/format';
import type { Status, Transition } from '../../lib/monitors-api';
import { formatTime, timeTick } from '../../lib/time';
import { STATUS_COLOR } from './common';
import './state-timeline.css';

export interface Span {
  status: Status;
  from: number;
  to: number;
  /** The value of the transition that began it. */
  value: number | null;
}

/** The spans of every group over `[start, end]` (ms): before a group's
 *  first transition it was in that transition's `from` status; a group
 *  with no transition in range was in its `current` status throughout.
 *  `start` is where the monitor's life begins on the chart (its creation
 *  or the range's start, whichever is later). Adjacent spans of one
 *  status are merged. */
export function buildSpans(transitions: Transition[], current: Record<string, Status>, start: number, end: number): Map<string, Span[]> {
  const byGroup = new Map<string, Transition[]>();
  for (const t of transitions) {
    if (!byGroup.has(t.group)) byGroup.set(t.group, []);
    byGroup.get(t.group)!.push(t);
  }
  for (const g of Object.keys(current)) if (!byGroup.has(g)) byGroup.set(g, []);
  const out = new Map<string, Span[]>();
  for (const [group, list] of [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.at - b.at);
    const spans: Span[] = [];
    const push = (s: Span) => {
      if (s.to <= s.from) return;
      const last = spans[spans.length - 1];
      if (last && last.status === s.status && last.to >= s.from) last.to = s.to;
      else spans.push(s);
    };
    let status: Status = list.length ? list[0].from : (current[group] ?? 'OK');
    let cursor = start;
    let value: number | null = null;
    for (const t of list) {
      const at = Math.min(Math.max(t.at, start), end);
      push({ status, from: cursor, to: at, value });
      status = t.to;
      value = t.value;
      cursor = Math.max(cursor, at);
    }
    push({ status, from: cursor, to: end, value });
    out.set(group, spans);
  }
  return out;
}

export interface StateTimelineProps {
  transitions: Transition[];
  current: Record<string, Status>;
  from: number;
  to: number;
  /** The monitor's creation (ms): nothing is drawn before it. */
  createdAt?: number;
}

/** Ticks on the time axis. */
const TICKS = 6;

export function StateTimeline({ transitions, current, from, to, createdAt }: StateTimelineProps) {
  const start = Math.max(from, createdAt ?? from);
  const groups = buildSpans(transitions, current, start, to);
  const span = to - from;
  const pct = (t: number) => `${(((t - from) / span) * 100).toFixed(3)}%`;
  if (groups.size === 0) return <p class="muted">No group has been evaluated yet.</p>;
  const ticks = Array.from({ length: TICKS + 1 }, (_, i) => from + (span * i) / TICKS);
  return (
    <div class="timeline" data-testid="timeline">
      {[...groups.entries()].map(([group, spans]) => (
        <div class="tl-row" key={group} data-group={group}>
          <div class="tl-group" title={group}>
            {group === '*' ? 'all' : group}
          </div>
          <div class="tl-bar">
            {spans.map((s) => (
              <div
                key={s.from}
                class="tl-span"
                data-status={s.status}
                style={{ left: pct(s.from), width: pct(from + (s.to - s.from)), background: STATUS_COLOR[s.status] ?? '#b7bfcc' }}
                title={`${s.status} from ${formatTime(s.from)} to ${s.to >= to - 1000 ? 'now' : formatTime(s.to)}${s.value !== null ? ` (value ${formatValue(s.value)})` : ''}`}
              />
            ))}
          </div>
        </div>
      ))}
      <div class="tl-row tl-axis">
        <div class="tl-group" />
        <div class="tl-bar">
          {ticks.map((t, i) => (
            <span key={i} class="tl-tick" style={{ left: pct(t) }}>
              {timeTick(t, span)}
            </span>
          ))}
        </div>
      </div>
      <div class="tl-keys">
        {(['OK', 'Warn', 'Alert', 'No Data'] as const).map((s) => (
          <span key={s}>
            <i style={{ background: STATUS_COLOR[s] }} />
            {s}
          </span>
        ))}
      </div>
    </div>
  );
}
