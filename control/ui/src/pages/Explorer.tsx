// The metric explorer: queries in Datadog's syntax drawn on one chart.
//
// The address is the explorer's state, so any view can be shared or
// bookmarked (other pages link here with `explorerUrl()`):
//   /explorer?q=<query>&q=<query>...&range=1h&live=1
//   /explorer?q=<query>&from=<ms>&to=<ms>
// `q` is repeated for several queries (drawn together, named a, b, ...);
// `range` is a span back from now (15m, 1h, 4h, 1d, 1w, or any `<n><m|h|d|w>`);
// `from`/`to` an absolute span in milliseconds; `live=1` refreshes.
// Running a query, picking a range or zooming pushes a new address, so
// the browser's back button steps back through them.
//
// Each query is one `GET /api/v1/query`, so a parse error belongs to its
// own editor and its position is in that editor's text.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, isAbort, messageOf } from '../api';
import { QueryEditor } from '../components/QueryEditor';
import { TimeRangePicker } from '../components/TimeRangePicker';
import { TimeseriesChart, type ChartSeries } from '../components/TimeseriesChart';
import { metricNames } from '../lib/metadata';
import { placeError, type QueryProblem } from '../lib/query';
import { describe, formatTime, rangeFromParams, rangeKey, rangeToParams, resolve, type Range } from '../lib/time';
import { navigate, useLocation } from '../router';

/** Live mode refreshes at most this often: DogStatsD writes a bucket every
 *  10 s, so a point arrives at most one refresh later than that. */
const LIVE_MIN_MS = 5_000;

/** ... and for long ranges about once per thousandth of the range: a
 *  refresh then moves the chart by less than a pixel's width. */
const LIVE_RANGE_FRACTION = 1_000;

/** The address of the explorer showing `queries`. */
export function explorerUrl(queries: string[], range?: Range, live = false): string {
  const p = new URLSearchParams();
  for (const q of queries) if (q.trim()) p.append('q', q.trim());
  if (range) rangeToParams(range, p);
  if (live) p.set('live', '1');
  return `/explorer?${p}`;
}

/** One series of `/api/v1/query`'s answer (the fields the chart uses). */
interface V1Series {
  expression: string;
  scope: string;
  tag_set: string[];
  pointlist: [number, number | null][];
}

interface Result {
  series: V1Series[];
  problem: QueryProblem | null;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export default function Explorer() {
  const loc = useLocation();
  const params = new URLSearchParams(loc.search);
  const committed = params.getAll('q').length ? params.getAll('q') : [''];
  const committedKey = committed.join('\n');
  const range = rangeFromParams(params);
  const live = params.get('live') === '1' && range.kind === 'relative';

  const [drafts, setDrafts] = useState(committed);
  const [tick, setTick] = useState(0);
  const [results, setResults] = useState<Result[]>([]);
  const [shown, setShown] = useState(() => resolve(range));
  const [loading, setLoading] = useState(false);
  const [updated, setUpdated] = useState<number | null>(null);
  const [note, setNote] = useState<string | null>(null);

  // Back and forward (or another page's link) bring other queries.
  useEffect(() => setDrafts(committed), [committedKey]);

  useEffect(() => {
    const ctl = new AbortController();
    const { from, to } = resolve(range);
    setLoading(true);
    Promise.all(committed.map((q) => run(q, from, to, ctl.signal))).then(
      (rs) => {
        setResults(rs);
        setShown({ from, to });
        setUpdated(Date.now());
        setLoading(false);
      },
      (e) => {
        if (!isAbort(e)) setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [committedKey, rangeKey(range), tick]);

  useEffect(() => {
    if (!live || range.kind !== 'relative') return;
    const every = Math.max(LIVE_MIN_MS, range.ms / LIVE_RANGE_FRACTION);
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, every);
    return () => clearInterval(id);
  }, [live, rangeKey(range)]);

  /** Shows the drafts with a range and live setting (a new address). */
  function go(next: { queries?: string[]; range?: Range; live?: boolean } = {}) {
    const qs = next.queries ?? drafts;
    const r = next.range ?? range;
    const url = explorerUrl(qs, r, (next.live ?? live) && r.kind === 'relative');
    if (url === explorerUrl(committed, range, live)) {
      // The same view (its address perhaps spelled differently): run again.
      setTick((t) => t + 1);
      navigate(url, { replace: true });
    } else navigate(url);
  }

  function runQueries(queries = drafts) {
    go({ queries });
  }

  async function copyLink() {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setNote('Link copied');
    } catch {
      setNote(`Copy this address: ${window.location.href}`);
    }
    setTimeout(() => setNote(null), 4000);
  }

  const series: ChartSeries[] = [];
  results.forEach((r, qi) => {
    for (const s of r.series) {
      const name = labelOf(s);
      series.push({ label: committed.length > 1 ? `${LETTERS[qi % 26]} · ${name}` : name, points: s.pointlist });
    }
  });
  const anyQuery = committed.some((q) => q.trim());
  const allFailed = results.length > 0 && results.every((r, i) => r.problem || !committed[i].trim());

  return (
    <section class="page explorer">
      <div class="page-head">
        <h1>Explorer</h1>
        <TimeRangePicker range={range} onChange={(r) => go({ range: r })} live={live} onLive={(l) => go({ live: l })} />
      </div>
      <div class="card queries">
        {drafts.map((d, i) => (
          <QueryEditor
            key={i}
            letter={LETTERS[i % 26]}
            value={d}
            onChange={(t) => setDrafts(drafts.map((x, j) => (j === i ? t : x)))}
            onRun={(t) => runQueries(drafts.map((x, j) => (j === i ? t : x)))}
            problem={d === committed[i] ? (results[i]?.problem ?? null) : null}
            onRemove={drafts.length > 1 ? () => runQueries(drafts.filter((_, j) => j !== i)) : undefined}
          />
        ))}
        <div class="query-actions">
          <button class="primary" onClick={() => runQueries()}>
            Run
          </button>
          <button onClick={() => setDrafts([...drafts, ''])} disabled={drafts.length >= 10}>
            + Add query
          </button>
          <button onClick={copyLink} title="Copy the address of this view">
            Copy link
          </button>
          <span class="status muted" data-testid="status">
            {note ?? (loading ? 'Loading…' : updated ? `Updated ${formatTime(updated).slice(11)}${live ? ' · live' : ''}` : '')}
          </span>
        </div>
      </div>
      <div class="card chart-card">
        {series.length > 0 ? (
          <TimeseriesChart
            series={series}
            from={shown.from}
            to={shown.to}
            onZoom={(from, to) => go({ range: { kind: 'absolute', from, to }, live: false })}
          />
        ) : !anyQuery ? (
          <Welcome onPick={(m) => runQueries([`avg:${m}{*}`])} />
        ) : (
          <p class="empty">{loading ? 'Loading…' : allFailed ? 'The query did not run: see the error above.' : `No data for this query in the ${describe(range).toLowerCase()}.`}</p>
        )}
      </div>
    </section>
  );
}

/** One query's answer, or its error (shown in its editor). */
async function run(q: string, from: number, to: number, signal: AbortSignal): Promise<Result> {
  if (!q.trim()) return { series: [], problem: null };
  try {
    const r = await get<{ series: V1Series[] }>(
      '/api/v1/query',
      { from: Math.floor(from / 1000), to: Math.ceil(to / 1000), query: q },
      signal,
    );
    return { series: r.series ?? [], problem: null };
  } catch (e) {
    if (isAbort(e)) throw e;
    const message = messageOf(e);
    return { series: [], problem: e instanceof ApiError && e.status === 400 ? placeError(message, q) : { message, index: null } };
  }
}

/** A series' name in the legend: its group's tags, else its expression. */
function labelOf(s: V1Series): string {
  if (s.tag_set?.length) return s.tag_set.join(', ');
  return s.scope && s.scope !== '*' ? s.scope : s.expression;
}

/** What the explorer shows before any query: how to start, and the
 *  metrics there are. */
function Welcome({ onPick }: { onPick: (metric: string) => void }) {
  const [names, setNames] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    metricNames().then(setNames, (e) => setError(messageOf(e)));
  }, []);
  return (
    <div class="welcome">
      <p>
        Type a query above, for example <code>avg:system.cpu.user{'{*}'} by {'{host}'}</code>, and press Enter. Metric names, tag keys
        and tag values are completed as you type.
      </p>
      {error && <p class="error">Cannot list the metrics: {error}</p>}
      {names && names.length === 0 && <p class="muted">No metric has been received yet.</p>}
      {names && names.length > 0 && (
        <>
          <p class="muted">Metrics in this org:</p>
          <div class="chips">
            {names.slice(0, 40).map((n) => (
              <button key={n} class="chip" onClick={() => onPick(n)}>
                {n}
              </button>
            ))}
            {names.length > 40 && <span class="muted">and {names.length - 40} more</span>}
          </div>
        </>
      )}
    </div>
  );
}
