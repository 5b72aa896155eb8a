// One monitor (`/monitors/<id>`): its overall status and query, the
// metric drawn with its thresholds, the status of each group, the state
// history as a timeline (from `GET /api/ui/monitors/<id>/history`) and
// the latest transitions; muting (every group or a scope, for a while or
// until unmuted), downtimes (one-off, with a scope), and links to edit,
// clone, delete and open the metric in the explorer. A read-only user
// sees everything and none of the controls that change something.

import { useEffect, useState } from 'preact/hooks';
import { isAbort, messageOf } from '../../api';
import { ConfirmButton, ErrorBox, StatusBadge, TagChips, ago, useInterval, useNow } from '../../components/monitors/common';
import { StateTimeline } from '../../components/monitors/StateTimeline';
import { ThresholdChart, type ThresholdSeries } from '../../components/monitors/ThresholdChart';
import { formatValue } from '../../lib/format';
import {
  cancelDowntime,
  createDowntime,
  deleteMonitor,
  getMonitor,
  listDowntimes,
  monitorDowntimes,
  monitorHistory,
  muteMonitor,
  runQuery,
  unmuteMonitor,
  type Downtime,
  type Monitor,
  type Status,
  type Transition,
} from '../../lib/monitors-api';
import { formatTime, fromLocalInput, relative, toLocalInput } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import { canEdit, useSession } from '../../session';
import { explorerUrl } from '../Explorer';
import { MutedFlag } from './MonitorList';
import { metricPart } from './model';

/** How often the monitor and its history are read again. */
const REFRESH_MS = 5_000;

const RANGES = ['15m', '1h', '4h', '1d', '1w'];
const RANGE_MS: Record<string, number> = { '15m': 900_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000, '1w': 604_800_000 };

/** Latest transitions listed under the timeline. */
const TRANSITIONS_SHOWN = 50;

export function MonitorDetail({ id }: { id: number }) {
  const me = useSession();
  const editor = canEdit(me);
  const loc = useLocation();
  const now = useNow(5_000);
  const [monitor, setMonitor] = useState<Monitor | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [transitions, setTransitions] = useState<Transition[]>([]);
  const [downtimes, setDowntimes] = useState<Downtime[]>([]);
  const [series, setSeries] = useState<{ list: ThresholdSeries[]; from: number; to: number } | null>(null);
  const [tick, setTick] = useState(0);
  const [panel, setPanel] = useState<'mute' | 'downtime' | null>(null);

  const rangeParam = new URLSearchParams(loc.search).get('range');
  const created = monitor ? Date.parse(monitor.created) : now;
  const range = rangeParam && RANGE_MS[rangeParam] ? rangeParam : (RANGES.find((r) => RANGE_MS[r] >= now - created) ?? '1w');
  const span = RANGE_MS[range];

  useEffect(() => {
    const ctl = new AbortController();
    const to = Date.now();
    const from = to - span;
    Promise.all([getMonitor(id, ctl.signal), monitorHistory(id, from, ctl.signal), downtimesOf(id, ctl.signal)]).then(
      ([m, t, d]) => {
        setMonitor(m);
        setTransitions(t);
        setDowntimes(d);
        setLoadError(null);
        const metric = metricPart(m);
        if (metric) {
          runQuery(metric, from, to, ctl.signal).then(
            (s) => setSeries({ list: s.map((x) => ({ label: x.tag_set?.length ? x.tag_set.join(', ') : x.expression, points: x.pointlist })), from, to }),
            () => setSeries({ list: [], from, to }),
          );
        }
      },
      (e) => !isAbort(e) && setLoadError(messageOf(e)),
    );
    return () => ctl.abort();
  }, [id, span, tick]);

  useInterval(() => setTick((t) => t + 1), REFRESH_MS);
  const refresh = () => setTick((t) => t + 1);

  async function act(f: () => Promise<unknown>) {
    setActionError(null);
    try {
      await f();
      refresh();
      return true;
    } catch (e) {
      setActionError(messageOf(e));
      return false;
    }
  }

  if (loadError && !monitor) {
    return (
      <section class="page">
        <h1>Monitor {id}</h1>
        <ErrorBox message={loadError} />
        <Link href="/monitors">Back to the monitors</Link>
      </section>
    );
  }
  if (!monitor) {
    return (
      <section class="page">
        <p class="muted">Loading…</p>
      </section>
    );
  }

  const m = monitor;
  const groups = Object.values(m.state?.groups ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  const current: Record<string, Status> = {};
  for (const g of groups) current[g.name] = g.status;
  const metric = metricPart(m);
  const th = m.options?.thresholds ?? {};
  const comparator = /(>=|<=|==|!=|>|<)\s*[-+.\d][^<>=!]*$/.exec(m.query)?.[1] ?? '>';
  const silenced = Object.entries(m.options?.silenced ?? {}).filter(([, end]) => end === null || end * 1000 > now);
  const scopes = groups.map((g) => g.name).filter((g) => g !== '*');
  const setRange = (r: string) => navigate(`/monitors/${id}?range=${r}`, { replace: true });

  return (
    <section class="page monitor-detail">
      <div class="crumbs">
        <Link href="/monitors">Monitors</Link> /
      </div>
      <div class="page-head">
        <StatusBadge status={m.overall_state} />
        <h1 data-testid="monitor-name">{m.name}</h1>
        <MutedFlag m={m} />
        <div class="actions">
          {metric && (
            <Link href={explorerUrl([metric], relative(range))} class="button">
              Open in explorer
            </Link>
          )}
          {editor && (
            <>
              <Link href={`/monitors/${id}/edit`} class="button">
                Edit
              </Link>
              <Link href={`/monitors/new?clone=${id}`} class="button">
                Clone
              </Link>
              <button aria-expanded={panel === 'mute'} onClick={() => setPanel(panel === 'mute' ? null : 'mute')}>
                Mute…
              </button>
              <button aria-expanded={panel === 'downtime'} onClick={() => setPanel(panel === 'downtime' ? null : 'downtime')}>
                Schedule downtime…
              </button>
              <ConfirmButton
                class="danger"
                label="Delete"
                question="Delete this monitor?"
                confirmLabel="Delete"
                onConfirm={() =>
                  act(async () => {
                    await deleteMonitor(id);
                    navigate('/monitors');
                  })
                }
              />
            </>
          )}
        </div>
      </div>
      {!editor && <p class="notice-box small">Your role is read-only: you can look at this monitor but not change, mute or delete it.</p>}
      <ErrorBox message={actionError} />
      {panel === 'mute' && editor && (
        <MutePanel
          scopes={scopes}
          onCancel={() => setPanel(null)}
          onMute={async (scope, end) => {
            if (await act(() => muteMonitor(id, scope, end))) setPanel(null);
          }}
        />
      )}
      {panel === 'downtime' && editor && (
        <DowntimePanel
          scopes={scopes}
          onCancel={() => setPanel(null)}
          onSchedule={async (d) => {
            if (await act(() => createDowntime({ ...d, monitor_id: id }))) setPanel(null);
          }}
        />
      )}

      <div class="detail-grid">
        <div class="card summary">
          <dl>
            <dt>Query</dt>
            <dd>
              <code class="query-text">{m.query}</code>
            </dd>
            <dt>Type</dt>
            <dd>{m.type}</dd>
            <dt>Thresholds</dt>
            <dd class="thresholds-dd">
              {th.critical !== undefined && th.critical !== null && <span class="th alert">Alert {formatValue(th.critical)}</span>}
              {th.warning !== undefined && th.warning !== null && <span class="th warn">Warning {formatValue(th.warning)}</span>}
              {th.critical_recovery !== undefined && th.critical_recovery !== null && <span class="th">Alert recovery {formatValue(th.critical_recovery)}</span>}
              {th.warning_recovery !== undefined && th.warning_recovery !== null && <span class="th">Warning recovery {formatValue(th.warning_recovery)}</span>}
              {Object.values(th).every((v) => v === null || v === undefined) && <span class="muted">—</span>}
            </dd>
            {m.tags?.length > 0 && (
              <>
                <dt>Tags</dt>
                <dd>
                  <TagChips tags={m.tags} />
                </dd>
              </>
            )}
            {m.priority && (
              <>
                <dt>Priority</dt>
                <dd>P{m.priority}</dd>
              </>
            )}
            <dt>Status changed</dt>
            <dd>{m.overall_state_modified ? `${ago(Date.parse(m.overall_state_modified), now)} (${formatTime(Date.parse(m.overall_state_modified))})` : '—'}</dd>
            {m.message && (
              <>
                <dt>Message</dt>
                <dd>
                  <pre class="message-text">{m.message}</pre>
                </dd>
              </>
            )}
          </dl>
        </div>
        <div class="card mutes">
          <h2>Muting and downtimes</h2>
          {silenced.length === 0 && downtimes.length === 0 && <p class="muted small">Not muted. Notifications are sent.</p>}
          {silenced.length > 0 && (
            <ul class="plain-list" data-testid="silenced">
              {silenced.map(([scope, end]) => (
                <li key={scope}>
                  Muted <code>{scope === '*' ? 'all groups' : scope}</code> {end === null ? 'until unmuted' : `until ${formatTime(end * 1000, false)}`}
                  {editor && (
                    <button class="link" onClick={() => act(() => unmuteMonitor(id, scope))}>
                      Unmute
                    </button>
                  )}
                </li>
              ))}
              {silenced.length > 1 && editor && (
                <li>
                  <button class="link" onClick={() => act(() => unmuteMonitor(id, null))}>
                    Unmute all
                  </button>
                </li>
              )}
            </ul>
          )}
          {downtimes.length > 0 && (
            <ul class="plain-list" data-testid="downtimes">
              {downtimes.map((d) => (
                <li key={d.id}>
                  Downtime <code>{d.scope.join(', ')}</code> {d.active ? 'now' : 'from ' + formatTime(d.start * 1000, false)}
                  {d.end ? ` until ${formatTime(d.end * 1000, false)}` : ', no end'}
                  {editor && (
                    <button class="link" onClick={() => act(() => cancelDowntime(d.id))}>
                      Cancel
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>

      <div class="card">
        <div class="section-head">
          <h2>State history</h2>
          <div class="seg" role="group" aria-label="History range">
            {RANGES.map((r) => (
              <button key={r} class={r === range ? 'on' : undefined} aria-pressed={r === range} onClick={() => setRange(r)}>
                {r}
              </button>
            ))}
          </div>
        </div>
        <StateTimeline transitions={transitions} current={current} from={now - span} to={now} createdAt={created} />
        {metric && series && (
          <div class="detail-chart">
            {series.list.length > 0 ? (
              <ThresholdChart
                series={series.list}
                from={series.from}
                to={series.to}
                height={220}
                comparator={comparator}
                thresholds={{
                  critical: th.critical ?? null,
                  warning: th.warning ?? null,
                  criticalRecovery: th.critical_recovery ?? null,
                  warningRecovery: th.warning_recovery ?? null,
                }}
              />
            ) : (
              <p class="muted small">No data for the metric in this time.</p>
            )}
          </div>
        )}
      </div>

      <div class="card table-card">
        <h2 class="card-title">Groups</h2>
        {groups.length === 0 ? (
          <p class="muted pad">No group has been evaluated yet.</p>
        ) : (
          <table class="list" data-testid="groups">
            <thead>
              <tr>
                <th>Group</th>
                <th>Status</th>
                <th>Last triggered</th>
                <th>Last resolved</th>
                <th>Last no data</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr key={g.name} data-group={g.name}>
                  <td>
                    <code>{g.name === '*' ? 'all (one group)' : g.name}</code>
                    {g.message && <div class="error small">{g.message}</div>}
                  </td>
                  <td>
                    <StatusBadge status={g.status} small />
                  </td>
                  <td class="muted">{tsAgo(g.last_triggered_ts, now)}</td>
                  <td class="muted">{tsAgo(g.last_resolved_ts, now)}</td>
                  <td class="muted">{tsAgo(g.last_nodata_ts, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div class="card table-card">
        <h2 class="card-title">Transitions in the past {range}</h2>
        {transitions.length === 0 ? (
          <p class="muted pad">No transition in this time.</p>
        ) : (
          <table class="list" data-testid="transitions">
            <thead>
              <tr>
                <th>Time</th>
                <th>Group</th>
                <th>Change</th>
                <th>Value</th>
              </tr>
            </thead>
            <tbody>
              {[...transitions]
                .reverse()
                .slice(0, TRANSITIONS_SHOWN)
                .map((t, i) => (
                  <tr key={`${t.at}-${t.group}-${i}`}>
                    <td class="nowrap" title={ago(t.at, now)}>
                      {formatTime(t.at)}
                    </td>
                    <td>
                      <code>{t.group === '*' ? 'all' : t.group}</code>
                    </td>
                    <td class="nowrap">
                      <StatusBadge status={t.from} small /> → <StatusBadge status={t.to} small />
                    </td>
                    <td class="num">{formatValue(t.value)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

/** The downtimes of monitor `id` worth listing: those in effect now, and
 *  those scheduled for it that have not ended. */
async function downtimesOf(id: number, signal: AbortSignal): Promise<Downtime[]> {
  const [now, all] = await Promise.all([monitorDowntimes(id, signal), listDowntimes(signal)]);
  const t = Date.now() / 1000;
  const later = all.filter((d) => d.monitor_id === id && !d.canceled && (d.end === null || d.end > t));
  const seen = new Set(now.map((d) => d.id));
  return [...now, ...later.filter((d) => !seen.has(d.id))];
}

function tsAgo(s: number | null | undefined, now: number): string {
  return s ? ago(s * 1000, now) : '—';
}

const MUTE_FOR: { label: string; secs: number | null }[] = [
  { label: 'until unmuted', secs: null },
  { label: '1 hour', secs: 3600 },
  { label: '4 hours', secs: 4 * 3600 },
  { label: '1 day', secs: 86_400 },
  { label: '1 week', secs: 7 * 86_400 },
];

function ScopeInput({ scopes, value, onChange, label }: { scopes: string[]; value: string; onChange: (s: string) => void; label: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      <input type="text" class="mono" list="monitor-scopes" value={value} onInput={(e) => onChange(e.currentTarget.value)} />
      <datalist id="monitor-scopes">
        <option value="*" />
        {scopes.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <span class="hint">
        <code>*</code> for every group, or tags such as <code>host:web-1</code>
      </span>
    </label>
  );
}

function MutePanel({ scopes, onMute, onCancel }: { scopes: string[]; onMute: (scope: string, end: number | null) => void; onCancel: () => void }) {
  const [scope, setScope] = useState('*');
  const [secs, setSecs] = useState<number | null>(null);
  return (
    <form
      class="card panel"
      aria-label="Mute"
      onSubmit={(e) => {
        e.preventDefault();
        onMute(scope.trim() || '*', secs === null ? null : Math.floor(Date.now() / 1000) + secs);
      }}
    >
      <h2>Mute notifications</h2>
      <div class="panel-row">
        <ScopeInput scopes={scopes} value={scope} onChange={setScope} label="Scope" />
        <label class="field">
          <span>For</span>
          <select value={String(secs)} onChange={(e) => setSecs(e.currentTarget.value === 'null' ? null : Number(e.currentTarget.value))}>
            {MUTE_FOR.map((o) => (
              <option key={o.label} value={String(o.secs)}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <div class="panel-actions">
          <button type="submit" class="primary">
            Mute
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
    </form>
  );
}

function DowntimePanel({
  scopes,
  onSchedule,
  onCancel,
}: {
  scopes: string[];
  onSchedule: (d: { scope: string[]; start: number; end: number | null; message?: string }) => void;
  onCancel: () => void;
}) {
  const [scope, setScope] = useState('*');
  const [start, setStart] = useState(() => toLocalInput(Date.now()));
  const [end, setEnd] = useState(() => toLocalInput(Date.now() + 3_600_000));
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="card panel"
      aria-label="Schedule downtime"
      onSubmit={(e) => {
        e.preventDefault();
        const s = fromLocalInput(start);
        const t = end.trim() ? fromLocalInput(end) : null;
        if (s === null) return setError('Enter when the downtime starts.');
        if (t !== null && t <= s) return setError('The end must be after the start.');
        setError(null);
        // A start a few seconds in the past is "now".
        onSchedule({
          scope: [scope.replace(/\s+/g, '') || '*'],
          start: Math.floor(Math.max(s, Date.now() - 60_000) / 1000),
          end: t === null ? null : Math.floor(t / 1000),
          message: message.trim() || undefined,
        });
      }}
    >
      <h2>Schedule a downtime</h2>
      <p class="muted small">No notification is sent for the groups in scope while the downtime is in effect.</p>
      <div class="panel-row">
        <ScopeInput scopes={scopes} value={scope} onChange={setScope} label="Scope" />
        <label class="field">
          <span>Start</span>
          <input type="datetime-local" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>End</span>
          <input type="datetime-local" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
        </label>
        <label class="field grow">
          <span>Message</span>
          <input type="text" placeholder="optional" value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        <div class="panel-actions">
          <button type="submit" class="primary">
            Schedule
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
      {error && <p class="error small">{error}</p>}
    </form>
  );
}
