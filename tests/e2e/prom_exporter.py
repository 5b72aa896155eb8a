"""A local Prometheus exporter for the end-to-end test against real
Prometheus (`test_prometheus_compat.py`).

It serves the Prometheus text format (0.0.4) at `/metrics`. What it serves
is a pure function of the scrape number `n` (0 for the first GET, 1 for the
next...), so the samples Prometheus stores are known whatever the timing:

- counters: `e2e_requests_total{method,code}` (three label sets; the POST one
  resets once, at scrape `RESET_AT`) and a float counter `e2e_bytes_total`;
- gauges: `e2e_temperature_celsius{room}` (three rooms whose values never
  tie, so `topk` and `sort` have one answer), `e2e_queue_depth` (no label
  of its own), `e2e_scrape_number` (= n), and static
  `e2e_method_weight{method}` and `e2e_build_info{...}` (label values with
  `:`, `,` and capitals, which must read back verbatim);
- `e2e_ephemeral_jobs{job_id}`: `x` is served up to scrape `VANISH_AT - 1`
  and then disappears (Prometheus writes a staleness marker at scrape
  `VANISH_AT`), `y` appears at scrape `APPEAR_AT`;
- a classic histogram `e2e_request_duration_seconds{handler}` (buckets,
  `_sum`, `_count`) of observations that are a function of the scrape;
- a summary `e2e_rpc_latency_seconds` (quantiles, `_sum`, `_count`), and
  one that never observed anything, `e2e_idle_latency_seconds` (NaN
  quantiles: a plain NaN is a value, not a staleness marker);
- `e2e:requests:ratio` (a recording-rule style name, with colons) and
  `e2e_label_edge` (label values with a quote, a backslash, `=`, and
  non-ASCII letters);
- an outage: scrapes `OUTAGE_FROM` to `OUTAGE_TO - 1` answer 503, so
  Prometheus records `up` 0 and marks every series stale until the next
  good scrape.

It never sets sample timestamps: Prometheus stamps each scrape itself and
writes staleness markers only for series scraped without a timestamp.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The scrape at which the POST counter starts again from a lower value
# (a counter reset): mid-run, so rate windows of the test see it.
RESET_AT = 30
# The first scrape without `e2e_ephemeral_jobs{job_id="x"}`: Prometheus'
# scrape `VANISH_AT` writes its staleness marker.
VANISH_AT = 40
# The first scrape with `e2e_ephemeral_jobs{job_id="y"}`.
APPEAR_AT = 20

# Scrapes that fail with 503 (a target down for three seconds, after `x`
# vanished and before the window's end).
OUTAGE_FROM = 50
OUTAGE_TO = 53

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0)


def observations(handler, k):
    """The request durations the histogram observes between scrape k-1 and
    scrape k (deterministic; values spread over every bucket)."""
    if handler == "/api":
        count, mult, add = 3 + k % 4, 7, 1
    else:
        count, mult, add = 1 + k % 2, 11, 5
    return [((k * mult + j * 13 + add) % 97) * 0.0125 for j in range(count)]


def requests_total(method, code, n):
    if method == "GET" and code == "200":
        return 5 * n
    if method == "GET":
        return n // 3
    if n < RESET_AT:
        return 3 * n + n // 4
    return 4 * (n - RESET_AT) + 1


def temperature(room, n):
    # Fractions .1/.6, .2/.7 and .3/.8: no two rooms are ever equal.
    if room == "a":
        return 20 + ((7 * n) % 11) * 0.5 + 0.1
    if room == "b":
        return 20 + ((5 * n) % 13) * 0.5 + 0.2
    return 21 + ((3 * n) % 7) * 0.5 + 0.3


def fmt(v):
    if v == float("inf"):
        return "+Inf"
    if v != v:
        return "NaN"
    return repr(float(v))


def render(n):
    """The exposition of scrape n."""
    out = []

    def family(name, kind, help_text):
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")

    def line(name, labels, value):
        body = ",".join(f'{k}="{v}"' for k, v in labels)
        out.append(f"{name}{{{body}}} {fmt(value)}" if body else f"{name} {fmt(value)}")

    family("e2e_scrape_number", "gauge", "The number of this scrape, from 0.")
    line("e2e_scrape_number", [], n)

    family("e2e_requests_total", "counter", "Requests served.")
    for method, code in (("GET", "200"), ("GET", "500"), ("POST", "200")):
        line("e2e_requests_total", [("method", method), ("code", code)], requests_total(method, code, n))

    family("e2e_bytes_total", "counter", "Bytes received.")
    line("e2e_bytes_total", [("direction", "in")], 1536.25 * n + (n % 5) * 0.5)

    family("e2e_temperature_celsius", "gauge", "Room temperature.")
    for room in ("a", "b", "c"):
        line("e2e_temperature_celsius", [("room", room)], temperature(room, n))

    family("e2e_queue_depth", "gauge", "Jobs waiting.")
    line("e2e_queue_depth", [], (3 * n) % 17)

    family("e2e_method_weight", "gauge", "A static weight per method.")
    line("e2e_method_weight", [("method", "GET")], 1.5)
    line("e2e_method_weight", [("method", "POST")], 0.25)

    family("e2e_build_info", "gauge", "Build information.")
    line("e2e_build_info", [("version", "1.2.3"), ("branch", "main:hotfix,2"), ("region", "EU-West")], 1)

    family("e2e_ephemeral_jobs", "gauge", "Jobs that come and go.")
    if n < VANISH_AT:
        line("e2e_ephemeral_jobs", [("job_id", "x")], n)
    if n >= APPEAR_AT:
        line("e2e_ephemeral_jobs", [("job_id", "y")], 100 + n)

    family("e2e_request_duration_seconds", "histogram", "Request durations.")
    for handler in ("/api", "/home"):
        seen = [v for k in range(n + 1) for v in observations(handler, k)]
        for le in BUCKETS:
            line(
                "e2e_request_duration_seconds_bucket",
                [("handler", handler), ("le", fmt(le))],
                sum(1 for v in seen if v <= le),
            )
        line("e2e_request_duration_seconds_bucket", [("handler", handler), ("le", "+Inf")], len(seen))
        line("e2e_request_duration_seconds_sum", [("handler", handler)], sum(seen))
        line("e2e_request_duration_seconds_count", [("handler", handler)], len(seen))

    family("e2e_rpc_latency_seconds", "summary", "RPC latency.")
    for q, base in (("0.5", 0.1), ("0.9", 0.3), ("0.99", 0.8)):
        line("e2e_rpc_latency_seconds", [("quantile", q)], base + 0.01 * (n % 10))
    line("e2e_rpc_latency_seconds_sum", [], 0.75 * n + 0.125 * (n % 3))
    line("e2e_rpc_latency_seconds_count", [], 2 * n)

    family("e2e_idle_latency_seconds", "summary", "Latency of a path never taken.")
    line("e2e_idle_latency_seconds", [("quantile", "0.5")], float("nan"))
    line("e2e_idle_latency_seconds_sum", [], 0)
    line("e2e_idle_latency_seconds_count", [], 0)

    family("e2e:requests:ratio", "gauge", "A recording-rule style name.")
    line("e2e:requests:ratio", [("method", "GET")], (n // 3) / (5 * n) if n else 0)

    family("e2e_label_edge", "gauge", "Label values that need escaping.")
    line("e2e_label_edge", [("v", 'say \\"hi\\" a\\\\b=c'), ("u", "grüße-é")], n % 4)

    return "\n".join(out) + "\n"


class Exporter:
    """The exporter on a free local port, served from a thread; `scrapes`
    counts the GETs of `/metrics` so far."""

    def __init__(self):
        self.scrapes = 0
        lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                with lock:
                    n = exporter.scrapes
                    exporter.scrapes += 1
                if OUTAGE_FROM <= n < OUTAGE_TO:
                    self.send_error(503)
                    return
                body = render(n).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Httpd(ThreadingHTTPServer):
            daemon_threads = True

        self.httpd = Httpd(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.target = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
