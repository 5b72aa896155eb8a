"""Prometheus' HTTP API under /prometheus/api/v1/ (what Grafana's Prometheus
datasource calls), on data sent through the real `datadog` client: every
route by GET and POST, Prometheus' error bytes for bad parameters (the
expected texts are what Prometheus 2.42.0 answers to the same requests),
and the three ways to authenticate (Datadog's key headers, basic auth with
user = API key and password = application key, and refusals). The
byte-for-byte comparisons with a real Prometheus need Debian's `prometheus`
and `promtool`, which scripts/test-deps installs."""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from datadog import api, initialize

P = "/prometheus/api/v1"
# A fixed window ending on a whole minute: the data's last point is 30 s
# before END, well inside PromQL's 5-minute lookback at END.
END = (int(time.time()) // 60) * 60
START = END - 600


def call(server, method, path, params=None, auth="keys", headers=None, form=True):
    """(status, headers, body bytes) of a request. `auth`: "keys" (Datadog's
    headers), "basic" (the server's keys as basic credentials), None, or a
    (user, password) pair for basic auth."""
    h = dict(headers or {})
    if auth == "keys":
        h.update({"DD-API-KEY": server.api_key, "DD-APPLICATION-KEY": server.app_key})
    elif auth is not None:
        user, password = (server.api_key, server.app_key) if auth == "basic" else auth
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    url = server.url + path
    body = None
    encoded = urllib.parse.urlencode(params or [], doseq=True)
    if method == "GET" or not form:
        if encoded:
            url += "?" + encoded
    else:
        body = encoded.encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def ok(server, method, path, params=None, **kw):
    status, headers, body = call(server, method, path, params, **kw)
    doc = json.loads(body)
    assert status == 200, (status, body)
    assert headers["Content-Type"] == "application/json"
    assert doc["status"] == "success" and "warnings" not in doc, doc
    return doc["data"]


@pytest.fixture(scope="module")
def data(server):
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
    for host, value in (("web-1", 12.5), ("web-2", 40.0)):
        points = [(t, value + i) for i, t in enumerate(range(START, END, 30))]
        r = api.Metric.send(metric="system.cpu.user", points=points, host=host, tags=["env:prod", "team:a"])
        assert r == {"status": "ok"}, r
    r = api.Metric.send(metric="e2e.prom.requests", points=[(END - 30, 7)], type="count", interval=10, host="web-1")
    assert r == {"status": "ok"}, r
    return server


LAST = (END - START) // 30 - 1  # index of the last point


def go(v):
    """A float as Prometheus writes a sample value (Go's shortest form)."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_instant_query_of_datadog_series(data, method):
    d = ok(data, method, f"{P}/query", {"query": 'system_cpu_user{host="web-1"}', "time": END})
    assert d["resultType"] == "vector"
    [s] = d["result"]
    assert s["metric"] == {"__name__": "system_cpu_user", "host": "web-1", "env": "prod", "team": "a"}
    assert s["value"] == [END, go(12.5 + LAST)]
    # Two series, sorted label maps, an RFC 3339 time with milliseconds.
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(END)) + ".250Z"
    d = ok(data, method, f"{P}/query", {"query": "sum by (host) (system_cpu_user)", "time": t})
    got = {r["metric"]["host"]: r["value"] for r in d["result"]}
    assert got == {"web-1": [END + 0.25, go(12.5 + LAST)], "web-2": [END + 0.25, go(40.0 + LAST)]}


def test_answer_bytes_are_prometheus_bytes(data):
    # Timestamps keep three decimals, label maps sorted, values quoted as Go writes them.
    status, _, body = call(data, "GET", f"{P}/query", {"query": 'system_cpu_user{host="web-1"} / 4', "time": f"{END}.12"})
    doc = json.loads(body)
    want = (
        '{"status":"success","data":{"resultType":"vector","result":[{"metric":'
        '{"env":"prod","host":"web-1","team":"a"},"value":[%d.120,"%s"]}]}}' % (END, go((12.5 + LAST) / 4))
    )
    assert body.decode() == want
    d = ok(data, "GET", f"{P}/query", {"query": "1e21", "time": "1700000000.5"})
    assert d == {"resultType": "scalar", "result": [1700000000.5, "1000000000000000000000"]}
    d = ok(data, "GET", f"{P}/query", {"query": "vector(1e-7)", "time": "1700000000.5"})
    assert d == {"resultType": "vector", "result": [{"metric": {}, "value": [1700000000.5, "1e-07"]}]}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_range_query(data, method):
    d = ok(data, method, f"{P}/query_range", {"query": 'system_cpu_user{host="web-2"}', "start": END - 120, "end": END, "step": "1m"})
    assert d["resultType"] == "matrix"
    [s] = d["result"]
    assert s["metric"]["host"] == "web-2"
    # At END-120, END-60, END: the latest point at or before each.
    assert s["values"] == [[END - 120, go(40.0 + LAST - 3)], [END - 60, go(40.0 + LAST - 1)], [END, go(40.0 + LAST)]]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_series_labels_and_values(data, method):
    d = ok(data, method, f"{P}/series", [("match[]", "system_cpu_user"), ("start", START), ("end", END)])
    assert sorted(x["host"] for x in d) == ["web-1", "web-2"]
    assert all(x["__name__"] == "system_cpu_user" for x in d)
    d = ok(data, method, f"{P}/labels", [("match[]", 'system_cpu_user{host="web-1"}')])
    assert d == ["__name__", "env", "host", "team"]
    d = ok(data, "GET", f"{P}/label/__name__/values")
    assert "system_cpu_user" in d and "e2e_prom_requests" in d and d == sorted(d)
    d = ok(data, "GET", f"{P}/label/host/values", [("match[]", "system_cpu_user")])
    assert d == ["web-1", "web-2"]


def test_metadata(data):
    d = ok(data, "GET", f"{P}/metadata")
    assert d["system_cpu_user"] == [{"type": "gauge", "help": "", "unit": ""}]
    # A Datadog count is a per-interval value: a gauge to PromQL.
    assert d["e2e_prom_requests"] == [{"type": "gauge", "help": "", "unit": ""}]
    assert list(d) == sorted(d)
    assert ok(data, "GET", f"{P}/metadata", {"metric": "system_cpu_user"}) == {"system_cpu_user": [{"type": "gauge", "help": "", "unit": ""}]}
    assert ok(data, "GET", f"{P}/metadata", {"metric": "system.cpu.user"}) == {}
    assert len(ok(data, "GET", f"{P}/metadata", {"limit": "1"})) == 1


def test_buildinfo_and_the_empty_routes(server):
    b = ok(server, "GET", f"{P}/status/buildinfo")
    assert b["version"] == "2.42.0" and b["branch"] == "whippet" and b["revision"].startswith("whippet-")
    assert set(b) == {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}
    assert ok(server, "GET", f"{P}/rules") == {"groups": []}
    assert ok(server, "GET", f"{P}/alerts") == {"alerts": []}
    assert ok(server, "GET", f"{P}/status/config") == {"yaml": ""}
    assert ok(server, "GET", f"{P}/status/flags")["query.lookback-delta"] == "5m"
    for method in ("GET", "POST"):
        assert ok(server, method, f"{P}/query_exemplars", {"query": "up", "start": START, "end": END}) == []


# Requests and Prometheus 2.42.0's answers to them (status, body).
BAD = [
    ("query", {"query": "1", "time": "abc"}, 'invalid parameter \\"time\\": Invalid time value for \'time\': cannot parse \\"abc\\" to a valid timestamp'),
    ("query", {"query": "1", "timeout": "abc"}, 'invalid parameter \\"timeout\\": cannot parse \\"abc\\" to a valid duration'),
    ("query_range", {"query": "1"}, 'invalid parameter \\"start\\": cannot parse \\"\\" to a valid timestamp'),
    ("query_range", {"query": "1", "start": 10, "end": 5, "step": 1}, 'invalid parameter \\"end\\": end timestamp must not be before start time'),
    ("query_range", {"query": "1", "start": 10, "end": 20}, 'invalid parameter \\"step\\": cannot parse \\"\\" to a valid duration'),
    ("query_range", {"query": "1", "start": 10, "end": 20, "step": "-1m"}, 'invalid parameter \\"step\\": cannot parse \\"-1m\\" to a valid duration'),
    ("query_range", {"query": "1", "start": 10, "end": 20, "step": 0}, 'invalid parameter \\"step\\": zero or negative query resolution step widths are not accepted. Try a positive integer'),
    ("query_range", {"query": "1", "start": 0, "end": 20000, "step": 1}, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"),
    ("query_range", {"query": "1", "start": 10, "end": 20, "step": "1e400"}, 'invalid parameter \\"step\\": cannot parse \\"1e400\\" to a valid duration'),
    ("series", {}, "no match[] parameter provided"),
    ("series", {"match[]": "up", "start": "x"}, 'invalid parameter \\"start\\": Invalid time value for \'start\': cannot parse \\"x\\" to a valid timestamp'),
    ("labels", {"end": "2023-02-30T00:00:00Z"}, 'invalid parameter \\"end\\": Invalid time value for \'end\': cannot parse \\"2023-02-30T00:00:00Z\\" to a valid timestamp'),
    ("label/1bad/values", {}, 'invalid label name: \\"1bad\\"'),
    ("label/a-b/values", {}, 'invalid label name: \\"a-b\\"'),
    ("metadata", {"limit": "x"}, "limit must be a number"),
]


@pytest.mark.parametrize("route,params,message", BAD, ids=[f"{r}:{'&'.join(map(str, p))}" for r, p, _ in BAD])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_parameters_answer_prometheus_errors(server, method, route, params, message):
    if method == "POST" and route.startswith(("label/", "metadata")):
        method = "GET"  # GET only, as in Prometheus
    status, headers, body = call(server, method, f"{P}/{route}", params)
    assert status == 400, body
    assert headers["Content-Type"] == "application/json"
    assert body.decode() == '{"status":"error","errorType":"bad_data","error":"%s"}' % message


def test_parse_errors_come_from_the_engine_with_prometheus_prefix(server):
    status, _, body = call(server, "GET", f"{P}/query", {"query": "sum(rate(x[5m])"})
    doc = json.loads(body)
    assert status == 400 and doc["errorType"] == "bad_data", body
    assert doc["error"].startswith('invalid parameter "query": 1:') and "parse error" in doc["error"], doc
    status, _, body = call(server, "POST", f"{P}/query_range", {"query": "sum(", "start": 10, "end": 20, "step": 1})
    doc = json.loads(body)
    assert status == 400 and doc["error"].startswith("1:") and "parse error" in doc["error"], doc


def test_a_body_value_wins_over_the_url(data):
    # As Go's ParseForm: body fields come first.
    h = {"DD-API-KEY": data.api_key, "DD-APPLICATION-KEY": data.app_key, "Content-Type": "application/x-www-form-urlencoded"}
    req = urllib.request.Request(data.url + f"{P}/query?time=5", data=b"query=time()&time=7", method="POST", headers=h)
    with urllib.request.urlopen(req, timeout=30) as r:
        doc = json.loads(r.read())
    assert doc["data"] == {"resultType": "scalar", "result": [7, "7"]}


def test_basic_auth_as_grafana_sends_it(server):
    assert ok(server, "GET", f"{P}/status/buildinfo", auth="basic")["version"] == "2.42.0"
    assert ok(server, "POST", f"{P}/query_exemplars", {"query": "up"}, auth="basic") == []
    # Keys in the URL work as on Datadog's read APIs.
    q = urllib.parse.urlencode({"api_key": server.api_key, "application_key": server.app_key})
    assert ok(server, "GET", f"{P}/status/buildinfo?{q}", auth=None)["version"] == "2.42.0"


@pytest.mark.parametrize(
    "auth",
    [None, ("nope", "nope"), "swap", "api-only", "app-only"],
    ids=["none", "unknown", "swapped", "api-key-only", "app-key-only"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_refusals_are_401_in_prometheus_shape(server, auth, method):
    headers = {}
    if auth == "swap":
        auth = (server.app_key, server.api_key)
    elif auth == "api-only":
        auth, headers = None, {"DD-API-KEY": server.api_key}
    elif auth == "app-only":
        auth = ("", server.app_key)
    status, h, body = call(server, method, f"{P}/query", {"query": "1"}, auth=auth, headers=headers)
    assert status == 401, body
    assert h["WWW-Authenticate"].startswith("Basic ")
    doc = json.loads(body)
    assert doc["status"] == "error" and doc["errorType"] == "unauthorized" and doc["error"], doc
    assert set(doc) == {"status", "errorType", "error"}


# --- The same data in Prometheus 2.42 and in Whippet, the same bytes back ---
#
# Runs when Prometheus and promtool are installed (Debian's `prometheus`
# package): the samples are written as OpenMetrics, turned into TSDB blocks
# by promtool and served by a real Prometheus, and sent to Whippet through
# the datadog client; then each request is made to both.

CMP_VALUES = [0.1, 2.5, 1e-7, 3e21, -4.0, 1700000000.5, 0.3, 12.0]


def cmp_points(host_index):
    # One point every 30 s over the window; values cycle through CMP_VALUES.
    return [(t, CMP_VALUES[(i + host_index) % len(CMP_VALUES)] * (host_index + 1)) for i, t in enumerate(range(START, END, 30))]


@pytest.fixture(scope="module")
def prometheus(data, tmp_path_factory):
    import shutil
    import subprocess

    from conftest import free_port

    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.skip("Prometheus is not installed (apt-get install prometheus)")
    d = tmp_path_factory.mktemp("prometheus")
    lines = ["# TYPE e2e_cmp_gauge gauge"]
    for i, host in enumerate(("web-1", "web-2")):
        r = api.Metric.send(metric="e2e.cmp.gauge", points=cmp_points(i), host=host, tags=["env:prod"])
        assert r == {"status": "ok"}, r
        lines += [f'e2e_cmp_gauge{{env="prod",host="{host}"}} {v!r} {t}' for t, v in cmp_points(i)]
    (d / "data.om").write_text("\n".join(lines) + "\n# EOF\n")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(d / "data.om"), str(d / "tsdb")], check=True)
    (d / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    log = open(d / "prometheus.log", "w")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={d / 'prometheus.yml'}", f"--storage.tsdb.path={d / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/query?query=count(e2e_cmp_gauge)", timeout=5) as r:
                if json.loads(r.read())["data"]["result"]:
                    break
        except (OSError, ValueError):
            pass
        assert time.time() < deadline and proc.poll() is None, (d / "prometheus.log").read_text()
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def both(server, prom_url, route, params):
    """(Whippet's status and body, Prometheus' status and body)."""
    status, _, ours = call(server, "GET", f"{P}/{route}", params)
    q = urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(f"{prom_url}/{route}?{q}", timeout=30) as r:
            theirs = (r.status, r.read())
    except urllib.error.HTTPError as e:
        theirs = (e.code, e.read())
    return (status, ours), theirs


CMP = [
    ("query", {"query": "e2e_cmp_gauge", "time": END}),
    ("query", {"query": 'e2e_cmp_gauge{host="web-1"}', "time": END - 97.5}),
    ("query", {"query": 'e2e_cmp_gauge{host="web-2"} * 1e-10', "time": f"{END - 200}.005"}),
    ("query", {"query": 'e2e_cmp_gauge{host="web-1"}[2m]', "time": END}),
    ("query", {"query": "sum by (env) (e2e_cmp_gauge)", "time": END - 31}),
    ("query", {"query": "scalar(max(e2e_cmp_gauge))", "time": END - 60}),
    ("query", {"query": '"a<b&c"', "time": END}),
    ("query", {"query": "sum(rate(x[5m])", "time": END}),
    ("query_range", {"query": "e2e_cmp_gauge", "start": END - 600, "end": END, "step": "1m"}),
    ("query_range", {"query": "max_over_time(e2e_cmp_gauge[90s])", "start": END - 300, "end": END, "step": 45.5}),
    ("query_range", {"query": "e2e_cmp_gauge / 3", "start": END - 120, "end": END, "step": "0.75"}),
    ("series", {"match[]": "e2e_cmp_gauge", "start": START, "end": END}),
    ("series", {"match[]": ['e2e_cmp_gauge{host="web-2"}', 'e2e_cmp_gauge{host="web-1"}']}),
    ("labels", {"match[]": "e2e_cmp_gauge"}),
    ("label/host/values", {"match[]": "e2e_cmp_gauge"}),
    ("query", {"time": END}),
    ("query", {"query": "e2e_cmp_gauge / 0", "time": END}),
    ("query", {"query": "e2e_cmp_gauge * 0 / 0", "time": time.strftime("%Y-%m-%dT%H:%M:%S.5+02:00", time.gmtime(END + 7200))}),
    ("query_range", {"query": "-e2e_cmp_gauge * 1e300 * 1e10", "start": END - 90, "end": END, "step": "30s"}),
    ("query_range", {"query": "e2e_cmp_gauge[5m]", "start": END - 60, "end": END, "step": 15}),
    ("labels", {"match[]": "{"}),
    ("query_exemplars", {"query": "sum("}),
    # holt_winters by its 2.42 name; names 2.42 does not know.
    ("query", {"query": "holt_winters(e2e_cmp_gauge[5m], 0.5, 0.5)", "time": END}),
    ("query", {"query": "double_exponential_smoothing(e2e_cmp_gauge[5m], 0.5, 0.5)", "time": END}),
    ("query", {"query": 'e2e_cmp_gauge + sort_by_label(e2e_cmp_gauge, "host")', "time": END}),
    ("query", {"query": "sum(limitk(1, e2e_cmp_gauge))", "time": END}),
] + [(route, params) for route, params, _ in BAD] + [
    # match[] is a series selector alone (Prometheus' ParseMetricSelector),
    # with a matcher the empty string fails; /series names the parameter
    # in its errors, /labels and /label/.../values do not.
    (route, {"match[]": m})
    for route in ("series", "labels", "label/host/values")
    for m in ("{}", '{host=""}', '{host=~".*"}', ["e2e_cmp_gauge", "{}"], ["{}", "1"], "1", "e2e_cmp_gauge + 1", "rate(e2e_cmp_gauge[5m])", "e2e_cmp_gauge offset 5m", '{host="a" or host="b"}', "")
]


def cmp_id(route, params):
    m = params.get("match[]")
    return f"{route}:{params.get('query') or (m if m is not None else '&'.join(params))}"


@pytest.mark.parametrize("route,params", [pytest.param(r, p, id=cmp_id(r, p)) for r, p in CMP])
def test_same_bytes_as_prometheus(data, prometheus, route, params):
    (status, ours), (their_status, theirs) = both(data, prometheus, route, params)
    assert status == their_status, (ours, theirs)
    if status == 200:
        # Never a comparison of two empty answers.
        d = json.loads(theirs)["data"]
        assert d and (not isinstance(d, dict) or d.get("result")), theirs
    if ours == theirs:
        return
    # An instant vector's order is not specified (Prometheus gives the
    # order of its aggregation's groups): the same elements, each written
    # with the same bytes, is the same answer.
    a, b = json.loads(ours), json.loads(theirs)
    if a.get("data", {}).get("resultType") == "vector":
        for doc in (a, b):
            doc["data"]["result"].sort(key=lambda e: json.dumps(e["metric"], sort_keys=True))
        assert a == b and len(ours) == len(theirs), (ours, theirs)
    else:
        assert ours.decode() == theirs.decode()


def test_unknown_paths_are_prometheus_404s(server):
    for path in (f"{P}/status/runtimeinfo", f"{P}/nope", "/prometheus", "/prometheus/", "/prometheus/graph"):
        status, headers, body = call(server, "GET", path)
        assert (status, body) == (404, b"404 page not found\n"), (path, status, body[:80])
        assert headers["Content-Type"].startswith("text/plain")
    status, _, _ = call(server, "POST", f"{P}/metadata")
    assert status == 405


def test_a_second_org_sees_only_its_own_series(data):
    import re

    out = data.cli("orgs", "create", "e2e-prom-second")
    b = (re.search(r"API key:\s+(\S+)", out).group(1), re.search(r"Application key:\s+(\S+)", out).group(1))
    body = json.dumps({"series": [{"metric": "system.cpu.user", "points": [[END - 30, 99.0]], "tags": ["host:b-1"]}]}).encode()
    assert data.request("POST", "/api/v1/series", body, {"Content-Type": "application/json"}, keys=b)[0] == 202
    d = ok(data, "GET", f"{P}/query", {"query": "system_cpu_user", "time": END}, auth=b)
    assert [(r["metric"], r["value"]) for r in d["result"]] == [({"__name__": "system_cpu_user", "host": "b-1"}, [END, "99"])]
    assert ok(data, "GET", f"{P}/label/host/values", auth=b) == ["b-1"]
    assert "b-1" not in ok(data, "GET", f"{P}/label/host/values")


def test_the_web_uis_session_cookie():
    import tempfile
    from pathlib import Path

    import requests
    from conftest import Server

    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        s = Server(Path(d) / "data", extra_env={"WHIPPET_ADMIN_PASSWORD": "e2e-admin-pass-1"})
        try:
            web = requests.Session()
            r = web.post(f"{s.url}/api/ui/login", json={"email": "admin@localhost", "password": "e2e-admin-pass-1"})
            assert r.status_code == 200, r.text
            r = web.get(f"{s.url}{P}/status/buildinfo")
            assert r.status_code == 200 and r.json()["data"]["version"] == "2.42.0", r.text
            # A POST signed by the cookie carries the UI's header, as every
            # change the web UI makes (the session guard's rule).
            r = web.post(f"{s.url}{P}/query_exemplars", data={"query": "up"}, headers={"X-Whippet-UI": "1"})
            assert r.status_code == 200 and r.json() == {"status": "success", "data": []}, r.text
            # A cookie naming no live session.
            r = requests.get(f"{s.url}{P}/status/buildinfo", cookies={"whippet_session": "stale"})
            assert r.status_code == 401 and r.json()["errorType"] == "unauthorized", r.text
        finally:
            s.stop()


def test_queries_are_counted_for_self_monitoring(data):
    """Prometheus API requests count in whippet.query.requests by endpoint
    and status (GET /metrics shows the counters as Prometheus text)."""
    ok(data, "GET", f"{P}/query", {"query": "vector(1)", "time": END})
    ok(data, "GET", f"{P}/query_range", {"query": "vector(1)", "start": END - 60, "end": END, "step": "30s"})
    call(data, "GET", f"{P}/query", {"query": "sum(", "time": END})
    ok(data, "GET", f"{P}/labels")
    with urllib.request.urlopen(data.url + "/metrics") as r:
        text = r.read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("whippet_query_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels] = float(value)

    def count(endpoint, status):
        return sum(v for k, v in counts.items() if f'endpoint="{endpoint}"' in k and f'status="{status}"' in k)

    assert count("prom_query", "200") >= 1
    assert count("prom_query", "400") >= 1
    assert count("prom_query_range", "200") >= 1
    assert count("prom_other", "200") >= 1
