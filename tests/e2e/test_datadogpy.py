"""datadogpy (the `datadog` package): the HTTP API helpers and the DogStatsD
client, every metric type, events and service checks."""

import time

from datadog import api, initialize
from datadog.dogstatsd import DogStatsd


def init(server):
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)


def test_metric_send_event_and_service_check(server):
    init(server)
    now = int(time.time())
    r = api.Metric.send(metric="e2e.dogpy.gauge", points=[(now - 30, 10.5), (now - 20, 11.0)], tags=["env:e2e"], host="py-1")
    assert r == {"status": "ok"}, r
    r = api.Metric.send(metric="e2e.dogpy.count", points=[(now - 10, 3)], type="count", interval=10, tags=["env:e2e"], host="py-1")
    assert r == {"status": "ok"}, r
    [g] = server.export("e2e.dogpy.gauge")
    assert g["points"] == [[now - 30, 10.5], [now - 20, 11.0]]
    assert sorted(g["tags"]) == ["env:e2e", "host:py-1"]
    [c] = server.export("e2e.dogpy.count")
    assert (c["type"], c["interval"], c["points"]) == ("count", 10, [[now - 10, 3.0]])

    r = api.Distribution.send(distributions=[{"metric": "e2e.dogpy.dist", "points": [(now - 10, [1.0, 2.0, 3.0])], "tags": ["env:e2e"]}])
    assert r == {"status": "ok"}, r
    [d] = server.export("e2e.dogpy.dist")
    assert d["sketches"][0][1]["count"] == 3

    e = api.Event.create(title="e2e py event", text="hello", tags=["env:e2e", "src:py"])
    assert e["status"] == "ok" and e["event"]["title"] == "e2e py event"
    listed = api.Event.query(start=now - 600, end=now + 600, tags=["src:py"])
    assert [x["title"] for x in listed["events"]] == ["e2e py event"]

    r = api.ServiceCheck.check(check="e2e.py.check", host_name="py-1", status=2, message="down", tags=["env:e2e"])
    assert r == {"status": "ok"}, r
    [s] = server.export("service_check.status", scope="check:e2e.py.check")
    assert s["points"][0][1] == 2.0


def test_dogstatsd_every_type_over_udp_and_unix_socket(server):
    # Buffered, flushed once: each client's samples travel in one datagram,
    # so they land in one 10-second bucket and the expected values are exact.
    opts = dict(disable_telemetry=True, disable_buffering=False, flush_interval=0)
    udp = DogStatsd(host="127.0.0.1", port=server.udp_port, **opts)
    uds = DogStatsd(socket_path=server.socket_path, **opts)
    for client, via in ((udp, "udp"), (uds, "uds")):
        tags = ["env:e2e", f"via:{via}"]
        client.gauge("e2e.dsd.gauge", 3.0, tags=tags)
        client.gauge("e2e.dsd.gauge", 4.5, tags=tags)  # last value wins
        client.increment("e2e.dsd.count", 2, tags=tags)
        client.increment("e2e.dsd.count", 3, tags=tags)
        client.decrement("e2e.dsd.count", 1, tags=tags)
        client.histogram("e2e.dsd.hist", 10.0, tags=tags)
        client.histogram("e2e.dsd.hist", 20.0, tags=tags)
        client.timing("e2e.dsd.timing", 7.0, tags=tags)
        client.distribution("e2e.dsd.dist", 1.0, tags=tags)
        client.distribution("e2e.dsd.dist", 3.0, tags=tags)
        client.set("e2e.dsd.set", "a", tags=tags)
        client.set("e2e.dsd.set", "b", tags=tags)
        client.set("e2e.dsd.set", "a", tags=tags)
        client.event("e2e dsd event", "from " + via, tags=tags)
        client.service_check("e2e.dsd.check", 1, tags=tags, message="warn " + via)
        client.flush()

    def one_per_via(series):
        return sorted(next(t for t in s["tags"] if t.startswith("via:")) for s in series) == ["via:udp", "via:uds"]

    def values(series):
        return {next(t for t in s["tags"] if t.startswith("via:")): [p[1] for p in s["points"]] for s in series}

    gauges = server.wait_export("e2e.dsd.gauge", one_per_via)
    assert values(gauges) == {"via:udp": [4.5], "via:uds": [4.5]}
    counts = server.wait_export("e2e.dsd.count", lambda s: one_per_via(s) and all(sum(p[1] for p in x["points"]) == 4 for x in s))
    assert all(c["type"] == "count" and c["interval"] == 10 for c in counts)
    hmax = server.wait_export("e2e.dsd.hist.max", one_per_via)
    assert values(hmax) == {"via:udp": [20.0], "via:uds": [20.0]}
    assert values(server.wait_export("e2e.dsd.hist.avg", one_per_via)) == {"via:udp": [15.0], "via:uds": [15.0]}
    hcount = server.wait_export("e2e.dsd.hist.count", one_per_via)
    assert values(hcount) == {"via:udp": [2.0], "via:uds": [2.0]}
    assert values(server.wait_export("e2e.dsd.timing.95percentile", one_per_via)) == {"via:udp": [7.0], "via:uds": [7.0]}
    assert values(server.wait_export("e2e.dsd.set", one_per_via)) == {"via:udp": [2.0], "via:uds": [2.0]}
    dists = server.wait_export("e2e.dsd.dist", one_per_via)
    for d in dists:
        [[_, sk]] = d["sketches"]
        assert (sk["count"], sk["sum"], sk["min"], sk["max"]) == (2, 4.0, 1.0, 3.0)
    checks = server.wait_export("service_check.status", one_per_via, scope="check:e2e.dsd.check")
    assert values(checks) == {"via:udp": [1.0], "via:uds": [1.0]}
    now = int(time.time())
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
    listed = api.Event.query(start=now - 600, end=now + 600, tags=["env:e2e"])
    assert {"from udp", "from uds"} <= {e["text"] for e in listed["events"]}
