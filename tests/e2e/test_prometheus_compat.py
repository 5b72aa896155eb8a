"""Whippet against real Prometheus (issue 8): Debian's Prometheus 2.42
scrapes a local exporter (`prom_exporter.py`) every second and remote-writes
every sample to Whippet (`POST /api/v1/write`, basic auth with the API key
as password). After about 70 scrapes the same PromQL runs on Prometheus'
`/api/v1/` and on Whippet's `/prometheus/api/v1/`, at the same times over
the same window, and the answers must agree: the same result type, the same
series (label sets), the same timestamps, and values equal to a relative
1e-9.

Most query times sit half-way between two scrapes (a scrape's timestamp
plus 0.5 s, and whole steps from there), so no range boundary or lookback
edge depends on a few milliseconds of scrape jitter; one instant time and
a 250 ms-step range also fall exactly on stored timestamps, on purpose
(2.42's windows include both ends). Both servers hold the very same samples
(Prometheus' remote write sends what it appended, checked sample by
sample), so any difference is a difference of evaluation.

Some range queries have the one shape Whippet answers from its storage
engine's buckets instead of its general evaluator (`<agg>_over_time` with
a range of the step minus 1 ms, `service/promql/src/pushdown.rs`), over
windows chosen so that it is taken, and so that it falls back.

A known Whippet bug keeps its query here as a strict xfail naming the bug:
the query passes against Prometheus itself, and once the bug is fixed the
xfail fails, to be removed with the fix.

Prometheus is started on a free port with its own temporary storage and
configuration; it never uses the Debian service's port 9090 or its data.
PROMETHEUS_BIN overrides the binary (default: `prometheus` on PATH).
"""

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import prom_exporter
import pytest
from conftest import free_port
from prom_exporter import APPEAR_AT, OUTAGE_FROM, RESET_AT, VANISH_AT, Exporter

# The scrape interval: Prometheus' shortest practical one, so the run gives
# enough samples in about a minute.
SCRAPE_INTERVAL_S = 1
# The last scrape the queries look at, and the scrape Whippet must have
# received before they run (two later: the window's end sits half-way
# after scrape `LAST_QUERIED`, and a later sample proves every earlier one
# arrived, remote write sending in order through a single shard).
LAST_QUERIED = 66
LAST_NEEDED = LAST_QUERIED + 2
# The range queries' window: from half-way after scrape 10 (rate windows of
# up to a minute then start before the first sample, which is an edge too)
# to half-way after `LAST_QUERIED`.
WINDOW_FIRST = 10
# Relative tolerance of values: the two engines may add in different orders.
REL_TOL = 1e-9
# Absolute tolerance near zero: a cancellation (`deriv` of a flat run,
# `stddev` of equal values) can leave 1e-16 in one engine and 0 in the
# other; anything this small is zero to both.
ABS_TOL = 1e-12


class Prometheus:
    """A real Prometheus on a free port, scraping `target` and remote-writing
    to `whippet`, with its config and storage in `workdir`."""

    def __init__(self, workdir, target, whippet):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        binary = os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus")
        assert binary, "Prometheus is needed: apt-get install -y prometheus (scripts/test-deps does it)"
        config = self.workdir / "prometheus.yml"
        config.write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s", "scrape_timeout": f"{SCRAPE_INTERVAL_S}s"},
                    "scrape_configs": [{"job_name": "e2e", "static_configs": [{"targets": [target]}]}],
                    "remote_write": [
                        {
                            "url": f"{whippet.url}/api/v1/write",
                            "basic_auth": {"username": "prometheus", "password": whippet.api_key},
                            # One shard keeps the samples in order (the catch-up
                            # check relies on it); a short deadline keeps the lag
                            # to about a second.
                            "queue_config": {"min_shards": 1, "max_shards": 1, "batch_send_deadline": "1s",
                                             "min_backoff": "100ms", "max_backoff": "1s"},
                            "metadata_config": {"send": False},
                        }
                    ],
                }
            )
        )
        self.log_path = self.workdir / "prometheus.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.time() > deadline:
                raise RuntimeError(f"prometheus did not become ready:\n{self.log_text()}")
            time.sleep(0.2)

    def request(self, method, path, params):
        data = urllib.parse.urlencode(params, doseq=True)
        if method == "GET":
            req = urllib.request.Request(f"{self.url}{path}?{data}")
        else:
            req = urllib.request.Request(self.url + path, data=data.encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class WhippetProm:
    """Whippet's Prometheus HTTP API, called like `Prometheus.request`."""

    def __init__(self, server):
        self.server = server

    def request(self, method, path, params):
        data = urllib.parse.urlencode(params, doseq=True)
        path = "/prometheus" + path
        if method == "GET":
            return self.server.request("GET", f"{path}?{data}")
        return self.server.request("POST", path, data.encode(), {"Content-Type": "application/x-www-form-urlencoded"})


def api(target, path, params, method="GET"):
    """`(status, parsed JSON)` of one API call."""
    status, body = target.request(method, path, params)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"unparsed": body.decode(errors="replace")}


def fmt_time(t):
    """Seconds with millisecond precision, as both servers parse them."""
    return f"{t:.3f}"


class Run:
    """What the module fixture leaves for the tests: both servers and the
    scrape timestamps."""

    def __init__(self, prom, whippet, scrape_ts, server):
        self.prom = prom
        self.whippet = whippet
        self.scrape_ts = scrape_ts
        self.server = server

    def mid(self, n):
        """Half-way after scrape n (the nearest scrape Prometheus stored at
        or before n, if a scrape was missed)."""
        k = max(s for s in self.scrape_ts if s <= n)
        return round(self.scrape_ts[k] + (n - k) * SCRAPE_INTERVAL_S + SCRAPE_INTERVAL_S / 2, 3)

    def instant_times(self):
        """Before the reset and while `y` is new; just after the counter
        reset; just after `x` vanished (its staleness marker is within the
        lookback); during the outage (every series stale); the window's
        end; and exactly on scrape 60's timestamp: there a range window
        `[t - r, t]` has a sample on its right edge (2.42's windows include
        both ends), and lookback finds a sample of age 0."""
        return [self.mid(APPEAR_AT + 5), self.mid(RESET_AT + 3), self.mid(VANISH_AT + 4), self.mid(OUTAGE_FROM + 1),
                self.mid(LAST_QUERIED), self.on_scrape(60)]

    def windows(self):
        """(start, end, step) of the range queries: every second over the
        whole window; a 7 s step over a middle part (its end is not a whole
        number of steps after its start); and every 250 ms (a duration, as
        Grafana may send it) around the counter reset, half of those times
        half-way between scrapes and half on scrape timestamps."""
        return [
            (self.mid(WINDOW_FIRST), self.mid(LAST_QUERIED), str(SCRAPE_INTERVAL_S)),
            (self.mid(WINDOW_FIRST + 10), self.mid(LAST_QUERIED - 6), str(7 * SCRAPE_INTERVAL_S)),
            (self.mid(RESET_AT - 4), self.mid(RESET_AT + 4), "250ms"),
        ]

    def on_scrape(self, n):
        """Scrape n's timestamp (the nearest stored one at or before n)."""
        return self.scrape_ts[max(s for s in self.scrape_ts if s <= n)]

    def pushdown_windows(self):
        """(start, end, step, step in ms) of the `PUSHDOWN_QUERIES`. Whippet
        pushes a query down only when no selected series has a NaN (a
        staleness marker included) in what it reads, from one step before
        `start` to `end` (the storage may check a whole chunk, so a NaN
        just outside counts too); so the windows, in that order:
        - every 5 s up to just before the outage: pushed down, except over
          `e2e_ephemeral_jobs` (`x`'s marker) and the NaN summary;
        - every second on scrape timestamps, from before `y` appears to
          `x`'s last sample: each window holds exactly one scrape, on its
          right edge;
        - every 2 s from after `x`'s marker to before the outage: `x` is
          gone from the reads, `y` is pushed down alone;
        - every 250 ms around the counter reset (half the times on scrape
          timestamps): most windows hold no sample;
        - every 7 s across the outage (its end not a whole number of steps
          after its start): every scraped series has markers there, so the
          general path answers the same shape, except over `up` (0 during
          the outage, never stale) and reads shifted before the outage.
        Checked once with a build that logged each pushdown and fallback:
        every `{r}` query is pushed down in the first four windows, except
        those over `e2e_ephemeral_jobs` (only in the third), the NaN
        summary (never), and `offset -2s` in the third (it reads into the
        outage)."""
        return [
            (self.mid(WINDOW_FIRST), self.mid(OUTAGE_FROM - 2), "5s", 5000),
            (self.on_scrape(APPEAR_AT - 3), self.on_scrape(VANISH_AT - 1), "1", 1000),
            (self.mid(VANISH_AT + 2), self.mid(OUTAGE_FROM - 1), "2s", 2000),
            (self.mid(RESET_AT - 4), self.mid(RESET_AT + 4), "250ms", 250),
            (self.mid(WINDOW_FIRST + 10), self.mid(LAST_QUERIED - 6), str(7 * SCRAPE_INTERVAL_S), 7000),
        ]


def raw_samples(target, at):
    status, r = api(target, "/api/v1/query", {"query": "e2e_scrape_number[10m]", "time": fmt_time(at)})
    if status != 200 or r.get("status") != "success" or not r["data"]["result"]:
        return status, r, []
    return status, r, [(float(t), float(v)) for t, v in r["data"]["result"][0]["values"]]


@pytest.fixture(scope="module")
def run(server):
    workdir = Path(tempfile.mkdtemp(prefix="whippet-e2e-prom-"))
    exporter = Exporter()
    prom = None
    try:
        prom = Prometheus(workdir, exporter.target, server)
        whippet = WhippetProm(server)
        # Scraping: wait until Prometheus has stored scrape LAST_NEEDED.
        deadline = time.time() + LAST_NEEDED * SCRAPE_INTERVAL_S + 40
        while True:
            _, r, samples = raw_samples(prom, time.time())
            if samples and samples[-1][1] >= LAST_NEEDED:
                break
            if time.time() > deadline:
                raise AssertionError(f"Prometheus did not store scrape {LAST_NEEDED} (exporter served "
                                     f"{exporter.scrapes}); last answer {r}\n{prom.log_text()}")
            time.sleep(1)
        scrape_ts = {int(v): t for t, v in samples}
        at = round(scrape_ts[max(scrape_ts)] + SCRAPE_INTERVAL_S / 2, 3)
        # Catch-up: Whippet must hold the same samples (remote write lags
        # scraping by a batch deadline plus a request).
        _, _, want = raw_samples(prom, at)
        deadline = time.time() + 30
        while True:
            status, r, got = raw_samples(whippet, at)
            if got == want:
                break
            if time.time() > deadline:
                raise AssertionError(f"Whippet did not receive the samples within 30 s: GET query -> {status} "
                                     f"{str(r)[:2000]}\nPrometheus has {want}\nWhippet has {got}\n"
                                     f"Prometheus log:\n{prom.log_text()[-4000:]}\nWhippet log:\n{server.log_text()[-4000:]}")
            time.sleep(0.5)
        yield Run(prom, whippet, scrape_ts, server)
    finally:
        if prom is not None:
            prom.stop()
        exporter.close()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Comparison


def labels_key(metric):
    return tuple(sorted(metric.items()))


def show_labels(key):
    return "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"


def num(v):
    return float(v)  # "NaN", "+Inf" and "-Inf" parse too


def same_value(a, b):
    try:
        x, y = num(a), num(b)
    except ValueError:  # a string result
        return a == b
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def ms(t):
    return round(float(t) * 1000)


def normalise(data):
    """`(type, {labels: [(ms, value)...]}, [labels in answer order])`; a
    scalar or string is one series with no labels."""
    kind, result = data["resultType"], data["result"]
    if kind in ("scalar", "string"):
        return kind, {(): [(ms(result[0]), result[1])]}, [()]
    series, order = {}, []
    for s in result:
        key = labels_key(s.get("metric", {}))
        points = [s["value"]] if kind == "vector" else s["values"]
        assert key not in series, f"duplicate series {show_labels(key)} in one answer"
        series[key] = [(ms(t), v) for t, v in points]
        order.append(key)
    return kind, series, order


def diff_answers(p, w, ordered=False):
    """Lines saying how Whippet's answer `w` differs from Prometheus' `p`
    (both `normalise`d); empty when they agree."""
    lines = []
    if p[0] != w[0]:
        return [f"result type: Prometheus {p[0]}, Whippet {w[0]}"]
    ps, ws = p[1], w[1]
    for key in ps.keys() - ws.keys():
        lines.append(f"series only in Prometheus: {show_labels(key)} {ps[key][:5]}{'...' if len(ps[key]) > 5 else ''}")
    for key in ws.keys() - ps.keys():
        lines.append(f"series only in Whippet: {show_labels(key)} {ws[key][:5]}{'...' if len(ws[key]) > 5 else ''}")
    for key in sorted(ps.keys() & ws.keys()):
        pp, wp = dict(ps[key]), dict(ws[key])
        for t in sorted(pp.keys() | wp.keys()):
            a, b = pp.get(t), wp.get(t)
            if a is None or b is None or not same_value(a, b):
                lines.append(f"{show_labels(key)} at {t / 1000:.3f}: Prometheus {a}, Whippet {b}")
    if ordered and not lines and p[2] != w[2]:
        lines.append(f"order: Prometheus {[show_labels(k) for k in p[2]]}, Whippet {[show_labels(k) for k in w[2]]}")
    return lines


def compare(run, path, params, method="GET", ordered=False):
    """Runs one query on both; returns (Prometheus' normalised answer,
    difference lines)."""
    ps, pr = api(run.prom, path, params, method)
    assert ps == 200 and pr.get("status") == "success", f"Prometheus refused {params}: {ps} {pr}"
    ws, wr = api(run.whippet, path, params, method)
    if ws != 200 or wr.get("status") != "success":
        return normalise(pr["data"]), [f"Whippet answered {ws} {str(wr)[:500]}; Prometheus {str(pr['data'])[:300]}"]
    p, w = normalise(pr["data"]), normalise(wr["data"])
    return p, diff_answers(p, w, ordered)


# ---------------------------------------------------------------------------
# The queries. `{t30}` is replaced by the time half-way after scrape 30 (for
# `@`). Each runs as an instant query at every `Run.instant_times` and, when
# it is not a range vector, as a range query over every `Run.windows`.


class Q:
    def __init__(self, expr, ordered=False, may_be_empty=False, instant_only=False):
        self.expr = expr
        # The answer's order is part of it (sort, sort_desc): instant only.
        self.ordered = ordered
        # Prometheus' answer is empty at every time (else at least one
        # answer must hold a series, so the comparison is not vacuous).
        self.may_be_empty = may_be_empty
        self.instant_only = instant_only


QUERIES = [
    # Selectors: the four matcher kinds, the name as a label, empty values.
    Q("e2e_requests_total"),
    Q('e2e_requests_total{method="GET"}'),
    Q('e2e_requests_total{method!="GET"}'),
    Q('e2e_requests_total{code=~"5.."}'),
    Q('e2e_requests_total{code!~"2.*", method=~"GET|POST"}'),
    Q('{__name__=~"e2e_temp.*|e2e_queue_depth"}'),
    Q('{__name__="e2e_queue_depth", room=""}'),
    Q('e2e_requests_total{method="DELETE"}', may_be_empty=True),
    Q("e2e_build_info"),
    Q('{__name__="e2e:requests:ratio"} * 100'),
    Q(r'e2e_label_edge{v="say \"hi\" a\\b=c"}'),
    Q('e2e_label_edge{u=~"grü.*"}'),
    Q('up{job="e2e"}'),
    Q("e2e_idle_latency_seconds"),
    Q("e2e_idle_latency_seconds > 0", may_be_empty=True),
    # NaN beside numbers in aggregations (max and topk skip it, sum keeps it).
    Q('max by (quantile) ({__name__=~"e2e_(rpc|idle)_latency_seconds"})'),
    Q('topk(1, {__name__=~"e2e_(rpc|idle)_latency_seconds"})'),
    Q('sum({__name__=~"e2e_(rpc|idle)_latency_seconds"})'),
    Q('count_values("v", e2e_idle_latency_seconds)'),
    Q('e2e_temperature_celsius{room=~"a|c"}'),
    # Range vectors as instant answers (raw samples, staleness markers left out).
    Q('e2e_ephemeral_jobs[15s]', instant_only=True),
    Q('e2e_request_duration_seconds_bucket{handler="/home"}[5s]', instant_only=True),
    # Counters with a reset, and the other range functions.
    Q("rate(e2e_requests_total[30s])"),
    Q("rate(e2e_requests_total[1m])"),
    Q("irate(e2e_requests_total[10s])"),
    Q("increase(e2e_requests_total[1m])"),
    Q("increase(e2e_requests_total[5s])"),
    Q("resets(e2e_requests_total[1m])"),
    Q("rate(e2e_bytes_total[20s])"),
    Q("changes(e2e_queue_depth[30s])"),
    Q("delta(e2e_temperature_celsius[30s])"),
    Q("idelta(e2e_queue_depth[10s])"),
    Q("deriv(e2e_temperature_celsius[30s])"),
    Q("predict_linear(e2e_queue_depth[30s], 60)"),
    # Aggregations.
    Q("sum(rate(e2e_requests_total[30s]))"),
    Q("sum by (method) (rate(e2e_requests_total[30s]))"),
    Q("sum without (code) (increase(e2e_requests_total[1m]))"),
    Q("avg without (room) (e2e_temperature_celsius)"),
    Q("max by (job) (e2e_temperature_celsius)"),
    Q("min(e2e_temperature_celsius)"),
    Q("count by (code) (e2e_requests_total)"),
    Q("count without (method, code) (e2e_requests_total)"),
    Q("group by (method) (e2e_requests_total)"),
    Q("stddev(e2e_temperature_celsius)"),
    Q("stdvar by (job) (e2e_temperature_celsius)"),
    Q("quantile(0.75, e2e_temperature_celsius)"),
    Q('count_values("depth", e2e_queue_depth)'),
    Q("topk(2, e2e_temperature_celsius)"),
    Q("bottomk(1, rate(e2e_requests_total[30s]))"),
    Q("topk by (method) (1, e2e_requests_total)"),
    Q("sort_desc(e2e_temperature_celsius)", ordered=True),
    Q("sort(rate(e2e_requests_total[30s]))", ordered=True),
    # Classic histograms and summaries.
    Q("histogram_quantile(0.9, rate(e2e_request_duration_seconds_bucket[30s]))"),
    Q("histogram_quantile(0.5, sum by (le) (rate(e2e_request_duration_seconds_bucket[30s])))"),
    Q("histogram_quantile(0.99, sum without (handler) (increase(e2e_request_duration_seconds_bucket[1m])))"),
    Q("rate(e2e_request_duration_seconds_sum[30s]) / rate(e2e_request_duration_seconds_count[30s])"),
    Q("sum by (le) (e2e_request_duration_seconds_bucket) / ignoring(le) group_left sum(e2e_request_duration_seconds_count)"),
    Q('e2e_rpc_latency_seconds{quantile="0.9"}'),
    Q("max_over_time(e2e_rpc_latency_seconds[20s])"),
    Q("rate(e2e_rpc_latency_seconds_sum[30s]) / rate(e2e_rpc_latency_seconds_count[30s])"),
    # Binary operators and vector matching.
    Q("e2e_requests_total * on(method) group_left e2e_method_weight"),
    Q('rate(e2e_requests_total{code="500"}[30s]) / ignoring(code) rate(e2e_requests_total{code="200"}[30s])'),
    Q("e2e_requests_total / on(method) group_left(version, branch) (e2e_method_weight * on() group_left(version, branch) e2e_build_info)"),
    Q('e2e_method_weight{method="GET"} * on() group_right e2e_temperature_celsius'),
    Q("e2e_temperature_celsius > 22"),
    Q("e2e_requests_total > 100"),
    Q('-{__name__=~"e2e_.*_total"}'),
    Q("e2e_requests_total / ignoring(code) group_left sum without (code) (e2e_requests_total)"),
    Q("rate(e2e_requests_total[30s]) > bool on(method) group_left e2e_method_weight"),
    Q("e2e_temperature_celsius atan2 on() group_left e2e_queue_depth"),
    Q("scalar(e2e_queue_depth) >= bool 8"),
    Q("e2e_temperature_celsius > bool 22"),
    Q("e2e_queue_depth == 0"),
    Q('e2e_temperature_celsius{room="a"} and on() e2e_queue_depth > 5'),
    Q('e2e_requests_total unless e2e_requests_total{code="500"}'),
    Q("e2e_ephemeral_jobs or on() e2e_queue_depth"),
    Q("-e2e_queue_depth % 5 + 2 ^ 3"),
    Q("e2e_temperature_celsius - scalar(avg(e2e_temperature_celsius))"),
    Q("e2e_queue_depth * scalar(e2e_method_weight{method=\"GET\"})"),
    # offset and @.
    Q("e2e_queue_depth offset 10s"),
    Q("rate(e2e_requests_total[30s] offset 15s)"),
    Q("e2e_queue_depth - e2e_queue_depth offset 5s"),
    Q("e2e_queue_depth @ {t30}"),
    Q("e2e_queue_depth @ {t30} offset 5s"),
    Q("e2e_queue_depth offset -3s"),
    Q("e2e_scrape_number @ start()"),
    # end() is the request's end, also when end - start is not a whole
    # number of steps (the 7 s window).
    Q("e2e_scrape_number @ end() - e2e_scrape_number"),
    # Subqueries.
    Q("max_over_time(rate(e2e_requests_total[1m])[2m:10s])"),
    Q("min_over_time(deriv(e2e_temperature_celsius[20s])[30s:5s])"),
    Q("avg_over_time(e2e_queue_depth[20s:3s] offset 5s)"),
    # The default step is Prometheus' evaluation interval (1m), aligned to
    # whole minutes: whether one falls on data depends on the clock.
    Q("count_over_time(e2e_queue_depth[2m:])", may_be_empty=True),
    # *_over_time (stale markers are not samples to them).
    Q("avg_over_time(e2e_temperature_celsius[20s])"),
    Q("min_over_time(e2e_temperature_celsius[20s])"),
    Q("sum_over_time(e2e_queue_depth[15s])"),
    Q("count_over_time(e2e_ephemeral_jobs[30s])"),
    Q("last_over_time(e2e_ephemeral_jobs[30s])"),
    Q("stddev_over_time(e2e_temperature_celsius[20s])"),
    Q("quantile_over_time(0.5, e2e_idle_latency_seconds[10s])"),
    Q("quantile_over_time(0.9, e2e_temperature_celsius[20s])"),
    Q("present_over_time(e2e_ephemeral_jobs[10s])"),
    Q("avg_over_time(e2e_idle_latency_seconds[10s])"),
    Q("count_over_time(e2e_idle_latency_seconds[10s])"),
    Q("avg_over_time(up[10s])"),
    Q("rate(e2e_requests_total[5s])"),
    # absent and staleness.
    Q('absent(e2e_nonexistent{job="e2e", mode="x"})'),
    Q('absent(e2e_nonexistent{job=~"e2e", mode="x", mode="y"})'),
    Q('absent(e2e_ephemeral_jobs{job_id="x"})'),
    Q('absent_over_time(e2e_ephemeral_jobs{job_id="x"}[5s])'),
    Q("absent(e2e_queue_depth)", may_be_empty=True),
    Q('e2e_ephemeral_jobs{job_id="x"}'),
    Q("count(e2e_ephemeral_jobs)"),
    Q("timestamp(e2e_ephemeral_jobs)"),
    # Label functions.
    Q('label_replace(e2e_temperature_celsius, "floor", "f-$1", "room", "(.*)")'),
    Q('label_replace(e2e_requests_total, "method", "$1", "code", "(5).*")'),
    Q('label_join(e2e_requests_total, "mc", "-", "method", "code")'),
    Q('label_replace(e2e_label_edge, "w", "<$1>", "v", ".*(a.b).*")'),
    # Scalars, time and maths.
    Q("time()"),
    Q("scalar(e2e_queue_depth)"),
    Q("scalar(e2e_temperature_celsius)"),
    Q("1 + 2 * 3"),
    Q('"a string"', instant_only=True),
    Q("vector(time()) - on() timestamp(e2e_scrape_number)"),
    Q("minute(vector(time()))"),
    Q("day_of_week()"),
    Q("clamp(e2e_temperature_celsius, 21, 24)"),
    Q("abs(-e2e_queue_depth)"),
    Q("round(e2e_temperature_celsius)"),
    Q("ceil(e2e_temperature_celsius) - floor(e2e_temperature_celsius)"),
    Q("sqrt(e2e_queue_depth)"),
    Q("ln(e2e_queue_depth)"),
    Q("sgn(e2e_queue_depth - 8)"),
    Q("clamp_min(e2e_temperature_celsius, 22) + on() group_left clamp_max(e2e_queue_depth, 5)"),
    Q("exp(e2e_queue_depth) + log2(e2e_queue_depth)"),
    Q("log10(e2e_temperature_celsius) * sin(rad(deg(e2e_temperature_celsius)))"),
    Q("acos(e2e_queue_depth / 10)"),
    Q("timestamp(e2e_queue_depth offset 5s)"),
    Q("holt_winters(e2e_temperature_celsius[30s], 0.5, 0.3)"),
    Q("histogram_quantile(1.5, rate(e2e_request_duration_seconds_bucket[30s]))"),
    Q("quantile(-1, e2e_temperature_celsius)"),
    Q("sum(e2e_requests_total) by (method)"),
    Q('count by (__name__) ({__name__=~"e2e_.*"})'),
    Q("changes(up[1m])"),
    Q("last_over_time(e2e_queue_depth[5s])"),
    Q("topk(scalar(vector(2)), e2e_temperature_celsius)"),
]


def query_id(q):
    return q.expr


@pytest.mark.parametrize("q", QUERIES, ids=query_id)
def test_promql_matches_prometheus(run, q):
    expr = q.expr.replace("{t30}", fmt_time(run.mid(30)))
    failures, non_empty = [], False
    for t in run.instant_times():
        p, lines = compare(run, "/api/v1/query", {"query": expr, "time": fmt_time(t)}, ordered=q.ordered)
        non_empty |= bool(p[1])
        failures += [f"instant query at {fmt_time(t)}: {line}" for line in lines]
    if not q.instant_only:
        for start, end, step in run.windows():
            params = {"query": expr, "start": fmt_time(start), "end": fmt_time(end), "step": step}
            # POST form, as Grafana sends it (instant queries go as GET).
            p, lines = compare(run, "/api/v1/query_range", params, "POST")
            non_empty |= bool(p[1])
            failures += [f"range query {start:.3f}..{end:.3f} step {step}: {line}" for line in lines]
    assert q.may_be_empty or non_empty, f"{expr}: Prometheus' answers are all empty, the comparison proves nothing"
    assert not failures, f"{expr}: Whippet differs from Prometheus:\n" + "\n".join(failures[:40]) + (
        f"\n... {len(failures) - 40} more" if len(failures) > 40 else "")


# ---------------------------------------------------------------------------
# The pushdown's shape (`service/promql/src/pushdown.rs`): `<agg>_over_time`
# of a selector in a range query whose range is the step minus 1 ms, so the
# windows `[t - range, t]` tile the steps and Whippet answers from its
# storage engine's buckets. `{r}` is replaced by that range and `{step}` by
# the step itself (windows sharing their edges: never pushed down), for
# each of `Run.pushdown_windows`. Range queries only: an instant query is
# never pushed down.

PUSHDOWN_QUERIES = [
    Q("avg_over_time(e2e_temperature_celsius[{r}])"),
    Q("avg_over_time(e2e_temperature_celsius[{step}])"),
    Q("sum_over_time(e2e_queue_depth[{r}])"),
    Q("sum_over_time(e2e_queue_depth[{step}])"),
    Q("min_over_time(e2e_temperature_celsius[{r}])"),
    Q("max_over_time(e2e_requests_total[{r}])"),
    Q("count_over_time(e2e_scrape_number[{r}])"),
    Q("min_over_time(up[{r}])"),
    # Two metric names: the answers' labels differ once the name is gone.
    Q('sum_over_time({__name__=~"e2e_temperature_celsius|e2e_queue_depth"}[{r}])'),
    # offset shifts the read; a negative one reads after the step times.
    Q("sum_over_time(e2e_bytes_total[{r}] offset 10s)"),
    Q("max_over_time(e2e_temperature_celsius[{r}] offset 3s)"),
    Q("count_over_time(e2e_requests_total[{r}] offset -2s)"),
    # Aggregations over it.
    Q("sum by (method) (sum_over_time(e2e_requests_total[{r}]))"),
    Q("avg by (job) (avg_over_time(e2e_temperature_celsius[{r}]))"),
    Q("avg by (room) (avg_over_time(e2e_temperature_celsius[{r}] offset 5s))"),
    Q("topk(2, max_over_time(e2e_temperature_celsius[{r}]))"),
    Q("sum(min_over_time(e2e_queue_depth[{r}] offset 5s))"),
    # A series that goes stale (`x`) and one that appears (`y`); a NaN that
    # is a value, not a marker.
    Q("count_over_time(e2e_ephemeral_jobs[{r}])"),
    Q("avg_over_time(e2e_ephemeral_jobs[{r}])"),
    Q("sum by (job) (max_over_time(e2e_ephemeral_jobs[{r}]))"),
    Q("avg_over_time(e2e_idle_latency_seconds[{r}])"),
]


@pytest.mark.parametrize("q", PUSHDOWN_QUERIES, ids=query_id)
def test_pushdown_shape_matches_prometheus(run, q):
    """Every window's answer holds a series (each window is there for an
    edge of its own), and Whippet's agrees with Prometheus'."""
    failures, empty = [], []
    for start, end, step, step_ms in run.pushdown_windows():
        expr = q.expr.replace("{r}", f"{step_ms - 1}ms").replace("{step}", f"{step_ms}ms")
        params = {"query": expr, "start": fmt_time(start), "end": fmt_time(end), "step": step}
        p, lines = compare(run, "/api/v1/query_range", params, "POST")
        if not p[1]:
            empty.append(f"{expr} {start:.3f}..{end:.3f} step {step}")
        failures += [f"{expr} {start:.3f}..{end:.3f} step {step}: {line}" for line in lines]
    assert q.may_be_empty or not empty, (
        "Prometheus' answers are empty, the comparison proves nothing:\n" + "\n".join(empty))
    assert not failures, f"{q.expr}: Whippet differs from Prometheus:\n" + "\n".join(failures[:40]) + (
        f"\n... {len(failures) - 40} more" if len(failures) > 40 else "")


def test_the_run_has_a_counter_reset_a_vanished_series_and_an_outage(run):
    """The exporter's scenario really is in Prometheus (else the
    comparisons above would not test resets, staleness and a target
    down)."""
    status, r = api(run.prom, "/api/v1/query",
                    {"query": 'resets(e2e_requests_total{method="POST"}[10m])', "time": fmt_time(run.mid(LAST_QUERIED))})
    assert [float(s["value"][1]) for s in r["data"]["result"]] == [1.0], r
    for n, expected in ((VANISH_AT - 2, 1), (VANISH_AT + 1, 0)):
        status, r = api(run.prom, "/api/v1/query", {"query": 'e2e_ephemeral_jobs{job_id="x"}', "time": fmt_time(run.mid(n))})
        assert len(r["data"]["result"]) == expected, (n, r)
    at = {"time": fmt_time(run.mid(OUTAGE_FROM + 1))}
    status, r = api(run.prom, "/api/v1/query", {"query": 'up{job="e2e"}', **at})
    assert [s["value"][1] for s in r["data"]["result"]] == ["0"], r
    status, r = api(run.prom, "/api/v1/query", {"query": "e2e_queue_depth", **at})
    assert r["data"]["result"] == [], r


def test_remote_write_had_no_failure(run):
    """Prometheus' own counters: every sample it sent, Whippet accepted the
    first time (no failed or retried sample: no 4xx, 5xx or timeout)."""
    with urllib.request.urlopen(run.prom.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    totals = {}
    for line in text.splitlines():
        name = line.split("{")[0].split(" ")[0]
        if name.startswith("prometheus_remote_storage_samples_"):
            totals[name] = totals.get(name, 0) + float(line.rsplit(" ", 1)[1])
    assert totals.get("prometheus_remote_storage_samples_total", 0) > 1000, totals
    assert totals.get("prometheus_remote_storage_samples_failed_total") == 0, totals
    assert totals.get("prometheus_remote_storage_samples_retried_total") == 0, totals


def test_raw_samples_match(run):
    """Every sample of the job, as both stored it: timestamps to the
    millisecond, values exactly (scrape durations included)."""
    params = {"query": '{job="e2e"}[2m]', "time": fmt_time(run.mid(LAST_QUERIED))}
    ps, pr = api(run.prom, "/api/v1/query", params)
    ws, wr = api(run.whippet, "/api/v1/query", params)
    assert ps == 200 and ws == 200, (pr, wr)
    p, w = normalise(pr["data"]), normalise(wr["data"])
    assert len(p[1]) > 30, p
    def bits(pts):
        return [(t, "NaN" if math.isnan(num(v)) else num(v)) for t, v in pts]

    exact = {k: bits(pts) for k, pts in p[1].items()}
    got = {k: bits(pts) for k, pts in w[1].items()}
    lines = diff_answers(p, w) or [f"{show_labels(k)}: values differ in the last bits" for k in exact if exact[k] != got[k]]
    assert not lines, "\n".join(lines[:40])


def sorted_json(x):
    return sorted(json.dumps(i, sort_keys=True) for i in x)


def test_metadata_matches(run):
    """series, labels and label values, with match[] and a time window. The
    series of a window after `x` vanished leave it out (Prometheus filters
    series by their samples' times); label names and values are asked over
    the whole window only, as Prometheus filters those by block (its head
    block keeps `x`'s label value after its last sample, an approximation
    Whippet need not copy)."""
    late = {"start": fmt_time(run.mid(VANISH_AT + 5)), "end": fmt_time(run.mid(LAST_QUERIED))}
    whole = {"start": fmt_time(run.mid(WINDOW_FIRST)), "end": fmt_time(run.mid(LAST_QUERIED))}
    calls = [
        ("/api/v1/series", {"match[]": ["e2e_requests_total", '{__name__=~"e2e_ephemeral.*"}'], **whole}),
        ("/api/v1/series", {"match[]": ['{__name__=~"e2e_ephemeral.*"}'], **late}),
        ("/api/v1/series", {"match[]": ['e2e_request_duration_seconds_bucket{le=~"0.*"}'], **whole}),
        ("/api/v1/labels", {"match[]": ['{job="e2e"}'], **whole}),
        ("/api/v1/labels", {"match[]": ["e2e_build_info", "e2e_rpc_latency_seconds"], **whole}),
        ("/api/v1/label/room/values", {"match[]": ['{job="e2e"}'], **whole}),
        ("/api/v1/label/job_id/values", {"match[]": ['{job="e2e"}'], **whole}),
        ("/api/v1/label/__name__/values", {"match[]": ['{job="e2e"}'], **whole}),
        ("/api/v1/label/branch/values", {"match[]": ["e2e_build_info"], **whole}),
    ]
    failures = []
    for path, params in calls:
        ps, pr = api(run.prom, path, params)
        assert ps == 200 and pr["data"], (path, params, pr)
        ws, wr = api(run.whippet, path, params)
        if ws != 200 or wr.get("status") != "success":
            failures.append(f"{path} {params}: Whippet answered {ws} {wr}")
        elif sorted_json(pr["data"]) != sorted_json(wr["data"]):
            failures.append(f"{path} {params}:\n  Prometheus {sorted_json(pr['data'])}\n  Whippet    {sorted_json(wr['data'])}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "expr",
    [
        "rate(e2e_queue_depth)",  # wrong argument type: a parse error
        "sum(e2e_queue_depth",  # unclosed parenthesis
        "e2e_requests_total + on(method) e2e_requests_total",  # many-to-many: an execution error
        "mad_over_time(e2e_queue_depth[1m])",  # a function of later Prometheus versions
        'label_replace(e2e_queue_depth, "a", "$1", "b", "(")',  # a bad regular expression
        'topk(scalar(e2e_queue_depth{job="none"}), e2e_queue_depth)',  # k is NaN: an execution error
    ],
)
def test_errors_match(run, expr):
    """Bad queries fail alike: the same HTTP status and error type."""
    params = {"query": expr, "time": fmt_time(run.mid(LAST_QUERIED))}
    ps, pr = api(run.prom, "/api/v1/query", params)
    ws, wr = api(run.whippet, "/api/v1/query", params)
    assert pr["status"] == "error"
    assert (ws, wr.get("status"), wr.get("errorType")) == (ps, "error", pr["errorType"]), (pr, wr)


def test_exporter_is_a_pure_function_of_the_scrape():
    """The exporter's page for a scrape number never changes, the POST
    counter resets once, and `x` and `y` come and go where the module says."""
    assert prom_exporter.render(12) == prom_exporter.render(12)
    posts = [prom_exporter.requests_total("POST", "200", n) for n in range(80)]
    assert sum(1 for a, b in zip(posts, posts[1:]) if b < a) == 1
    assert 'job_id="x"' in prom_exporter.render(VANISH_AT - 1) and 'job_id="x"' not in prom_exporter.render(VANISH_AT)
    assert 'job_id="y"' not in prom_exporter.render(APPEAR_AT - 1) and 'job_id="y"' in prom_exporter.render(APPEAR_AT)
