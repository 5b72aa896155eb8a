"""The metric query APIs through the real clients: datadogpy's
`api.Metric.query`, and datadog-api-client's `query_metrics`,
`query_timeseries_data` and `query_scalar_data`, on data pushed through the
clients, with the numbers checked."""

import json
import time

import pytest
from conftest import api_client as client
from datadog import api, initialize
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v1.api.metrics_api import MetricsApi as MetricsV1
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.formula_limit import FormulaLimit
from datadog_api_client.v2.model.metrics_aggregator import MetricsAggregator
from datadog_api_client.v2.model.metrics_data_source import MetricsDataSource
from datadog_api_client.v2.model.metrics_scalar_query import MetricsScalarQuery
from datadog_api_client.v2.model.metrics_timeseries_query import MetricsTimeseriesQuery
from datadog_api_client.v2.model.query_formula import QueryFormula
from datadog_api_client.v2.model.query_sort_order import QuerySortOrder
from datadog_api_client.v2.model.scalar_formula_query_request import ScalarFormulaQueryRequest
from datadog_api_client.v2.model.scalar_formula_request import ScalarFormulaRequest
from datadog_api_client.v2.model.scalar_formula_request_attributes import ScalarFormulaRequestAttributes
from datadog_api_client.v2.model.scalar_formula_request_queries import ScalarFormulaRequestQueries
from datadog_api_client.v2.model.scalar_formula_request_type import ScalarFormulaRequestType
from datadog_api_client.v2.model.timeseries_formula_query_request import TimeseriesFormulaQueryRequest
from datadog_api_client.v2.model.timeseries_formula_request import TimeseriesFormulaRequest
from datadog_api_client.v2.model.timeseries_formula_request_attributes import TimeseriesFormulaRequestAttributes
from datadog_api_client.v2.model.timeseries_formula_request_queries import TimeseriesFormulaRequestQueries
from datadog_api_client.v2.model.timeseries_formula_request_type import TimeseriesFormulaRequestType

# A fixed window ending on a whole minute, ten minutes long: points every
# 10 s, so 60-second buckets hold exactly six points each.
END = (int(time.time()) // 600) * 600
START = END - 600


@pytest.fixture(scope="module")
def data(server):
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
    ts = list(range(START, END, 10))
    for host, value in (("qa", 10.0), ("qb", 30.0)):
        r = api.Metric.send(metric="e2e.q.cpu", points=[(t, value) for t in ts], host=host, tags=["env:q"])
        assert r == {"status": "ok"}, r
        r = api.Metric.send(metric="e2e.q.req", points=[(t, 5) for t in ts], type="count", interval=10, host=host, tags=["env:q"])
        assert r == {"status": "ok"}, r
        r = api.Metric.send(metric="e2e.q.err", points=[(t, 1) for t in ts], type="count", interval=10, host=host, tags=["env:q"])
        assert r == {"status": "ok"}, r
    return server


def values(series):
    return [p[1] for p in series["pointlist"]]


def test_datadogpy_metric_query(data):
    r = api.Metric.query(start=START, end=END - 1, query="avg:e2e.q.cpu{env:q} by {host}.rollup(avg, 60)")
    assert r["status"] == "ok", r
    by_host = {s["scope"]: s for s in r["series"]}
    assert sorted(by_host) == ["host:qa", "host:qb"]
    assert set(values(by_host["host:qa"])) == {10.0} and len(values(by_host["host:qa"])) == 10
    assert set(values(by_host["host:qb"])) == {30.0}
    s = by_host["host:qa"]
    assert s["interval"] == 60 and s["tag_set"] == ["host:qa"] and s["aggr"] == "avg"
    assert s["pointlist"][0][0] == START * 1000.0
    assert r["group_by"] == ["host"]
    # Space aggregation across hosts, counts as counts and as rates, arithmetic.
    r = api.Metric.query(start=START, end=END - 1, query="sum:e2e.q.cpu{env:q}.rollup(avg, 60), sum:e2e.q.req{*}.rollup(sum, 60), sum:e2e.q.req{*}.rollup(sum, 60).as_rate(), sum:e2e.q.err{*}.rollup(sum, 60) / sum:e2e.q.req{*}.rollup(sum, 60) * 100")
    got = {s["query_index"]: set(values(s)) for s in r["series"]}
    assert got == {0: {40.0}, 1: {60.0}, 2: {1.0}, 3: {20.0}}, r["series"]


def test_api_client_query_metrics(data):
    with client(data) as c:
        r = MetricsV1(c).query_metrics(_from=START, to=END - 1, query="max:e2e.q.cpu{env:q}.rollup(max, 120)")
    assert r.status == "ok"
    [s] = r.series
    assert s.interval == 120 and s.length == 5
    # `Point` is a "simple" model: the pair is its `.value`.
    assert [p.value[1] for p in s.pointlist] == [30.0] * 5


def test_api_client_timeseries_formulas(data):
    body = TimeseriesFormulaQueryRequest(
        data=TimeseriesFormulaRequest(
            type=TimeseriesFormulaRequestType.TIMESERIES_REQUEST,
            attributes=TimeseriesFormulaRequestAttributes(
                _from=START * 1000,
                to=(END - 1) * 1000,
                interval=60000,
                queries=TimeseriesFormulaRequestQueries(
                    [
                        MetricsTimeseriesQuery(data_source=MetricsDataSource.METRICS, name="a", query="sum:e2e.q.err{env:q} by {host}.as_count()"),
                        MetricsTimeseriesQuery(data_source=MetricsDataSource.METRICS, name="b", query="sum:e2e.q.req{env:q} by {host}.as_count()"),
                    ]
                ),
                formulas=[QueryFormula(formula="a / b * 100", limit=FormulaLimit(count=10, order=QuerySortOrder.DESC))],
            ),
        )
    )
    with client(data) as c:
        r = MetricsApi(c).query_timeseries_data(body=body)
    attrs = r.data.attributes
    times = attrs.times.value  # "simple" models wrap their list in .value
    assert len(times) == 10 and times[0] == START * 1000
    assert sorted(s.group_tags.value[0] if hasattr(s.group_tags, "value") else s.group_tags[0] for s in attrs.series.value) == ["host:qa", "host:qb"]
    for row in attrs.values.value:
        assert [round(v, 9) for v in row.value] == [20.0] * 10


def test_api_client_scalar(data):
    body = ScalarFormulaQueryRequest(
        data=ScalarFormulaRequest(
            type=ScalarFormulaRequestType.SCALAR_REQUEST,
            attributes=ScalarFormulaRequestAttributes(
                _from=START * 1000,
                to=(END - 1) * 1000,
                queries=ScalarFormulaRequestQueries(
                    [MetricsScalarQuery(data_source=MetricsDataSource.METRICS, name="a", query="avg:e2e.q.cpu{env:q} by {host}", aggregator=MetricsAggregator.AVG)]
                ),
            ),
        )
    )
    with client(data) as c:
        r = MetricsApi(c).query_scalar_data(body=body)
    cols = {c.name: c for c in r.data.attributes.columns}
    groups = cols["group"].values
    nums = cols["a"].values
    assert dict(zip([g[0] for g in groups], nums)) == {"host:qa": 10.0, "host:qb": 30.0}


def test_discovery_for_autocomplete(data):
    with client(data) as c:
        listed = MetricsV1(c).list_metrics(q="metrics:e2e.q")
        assert sorted(listed.results.metrics) == ["e2e.q.cpu", "e2e.q.err", "e2e.q.req"]
        active = MetricsV1(c).list_active_metrics(_from=START)
        assert {"e2e.q.cpu", "e2e.q.req"} <= set(active.metrics)
    status, body = data.request("GET", "/api/v2/metrics/e2e.q.cpu/all-tags")
    assert status == 200, body
    assert sorted(json.loads(body)["data"]["attributes"]["tags"]) == ["env:q", "host:qa", "host:qb"]


def test_bad_queries_name_the_position(data):
    with client(data) as c:
        with pytest.raises(ApiException) as e:
            MetricsV1(c).query_metrics(_from=START, to=END, query="avg:e2e.q.cpu{env:q")
    assert e.value.status == 400
    body = e.value.body if isinstance(e.value.body, dict) else json.loads(e.value.body)
    msg = body["errors"][0]
    assert "position" in msg, msg
    status, body = data.request("GET", f"/api/v1/query?from={END}&to={START}&query=avg:e2e.q.cpu{{*}}")
    assert status == 400 and "after" in json.loads(body)["errors"][0]
    future = END + 86400 * 30
    status, body = data.request("GET", f"/api/v1/query?from={future}&to={future + 3600}&query=avg:e2e.q.cpu{{*}}")
    assert status == 200 and json.loads(body)["series"] == []
    # Reads need both keys.
    status, _ = data.request("GET", f"/api/v1/query?from={START}&to={END}&query=avg:e2e.q.cpu{{*}}", keys=(data.api_key, ""))
    assert status == 403


def run_cli(server, *args, keys=None):
    """`whippet query ...` against `server`; (exit code, stdout, stderr)."""
    import os
    import subprocess

    from conftest import whippet_bin

    api_key, app_key = keys or (server.api_key, server.app_key)
    env = dict(os.environ, WHIPPET_URL=server.url, WHIPPET_API_KEY=api_key, WHIPPET_APP_KEY=app_key)
    out = subprocess.run([whippet_bin(), "query", *args], env=env, capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


def test_cli_prints_a_table_and_a_chart(data):
    code, out, err = run_cli(
        data,
        "avg:e2e.q.cpu{env:q} by {host}.rollup(avg, 60)",
        "--from", str(START), "--to", str(END - 1), "--points", "--width", "60",
    )
    assert code == 0, err
    assert "interval 60 s, 2 series" in out, out
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line[:1] in "●○" and "host:" in line}
    # marker, series, points, min, avg, max, last, sparkline
    assert rows["host:qa"][2:7] == ["10", "10", "10", "10", "10"], out
    assert rows["host:qb"][2:7] == ["10", "30", "30", "30", "30"], out
    # The chart: value axis from 10 to 30, both markers drawn.
    chart = [line for line in out.splitlines() if "┤" in line]
    assert chart[0].split("┤")[0].strip() == "30" and chart[-1].split("┤")[0].strip() == "10", out
    assert "●" in chart[-1] and "○" in chart[0], out
    # --points: one row per bucket with both values.
    first = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(START))
    row = next(line for line in out.splitlines() if line.startswith(first) and "→" not in line)
    assert row.split()[2:] == ["10.0", "30.0"] or row.split()[2:] == ["10", "30"], row


def test_cli_relative_times_and_errors(data):
    code, out, err = run_cli(data, "sum:e2e.q.req{*}.rollup(sum, 600)", "--from", "-1d")
    assert code == 0, err
    assert "1 series" in out, out
    code, out, err = run_cli(data, "avg:e2e.q.cpu{env:q", "--from", "-1h")
    assert code == 1 and "400" in err and "position" in err, err
    code, out, err = run_cli(data, "avg:e2e.q.cpu{*}", "--from", "-1h", keys=(data.api_key, "0" * 40))
    assert code == 1 and "403" in err, err
    code, out, err = run_cli(data, "avg:e2e.q.cpu{*}", "--from", "yesterday")
    assert code != 0 and "--from" in err, err


def test_query_limits_are_configurable(tmp_path):
    from conftest import Server

    s = Server(tmp_path / "data", extra_env={"WHIPPET_QUERY_MAX_SERIES": "2"})
    try:
        initialize(api_key=s.api_key, app_key=s.app_key, api_host=s.url)
        ts = list(range(START, END, 60))
        for host in ("la", "lb", "lc"):
            r = api.Metric.send(metric="e2e.limit.cpu", points=[(t, 1.0) for t in ts], host=host)
            assert r == {"status": "ok"}, r
        q = f"/api/v1/query?from={START}&to={END}&query=avg:e2e.limit.cpu{{host:la}}"
        deadline = time.time() + 30
        while True:
            status, body = s.request("GET", q)
            if status == 200 and json.loads(body)["series"]:
                break
            assert time.time() < deadline, body
            time.sleep(0.2)
        status, body = s.request("GET", f"/api/v1/query?from={START}&to={END}&query=avg:e2e.limit.cpu{{*}}")
        assert status == 400, body
        msg = json.loads(body)["errors"][0]
        assert "3 series" in msg and "limit of 2" in msg, msg
    finally:
        assert s.stop() == 0, s.log_text()
