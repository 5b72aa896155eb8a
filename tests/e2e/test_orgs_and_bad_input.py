"""Keys, org isolation and bad input, through the real clients and raw HTTP."""

import gzip
import json
import re
import time

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ForbiddenException
from datadog_api_client.v1.api.authentication_api import AuthenticationApi


def test_a_second_org_never_sees_the_first_orgs_data(server):
    out = server.cli("orgs", "create", "e2e-second")
    api_b = re.search(r"API key:\s+(\S+)", out).group(1)
    app_b = re.search(r"Application key:\s+(\S+)", out).group(1)
    now = int(time.time())
    body = json.dumps({"series": [{"metric": "e2e.iso", "points": [[now - 10, 1.0]], "tags": ["org:a"]}]}).encode()
    assert server.request("POST", "/api/v1/series", body, {"Content-Type": "application/json"})[0] == 202
    body_b = json.dumps({"series": [{"metric": "e2e.iso", "points": [[now - 10, 2.0]], "tags": ["org:b"]}]}).encode()
    assert server.request("POST", "/api/v1/series", body_b, {"Content-Type": "application/json"}, keys=(api_b, app_b))[0] == 202
    assert [s["tags"] for s in server.export("e2e.iso")] == [["org:a"]]
    assert [s["tags"] for s in server.export("e2e.iso", keys=(api_b, app_b))] == [["org:b"]]
    # The query and discovery APIs only see the caller's org too.
    q = f"/api/v1/query?from={now - 300}&to={now + 60}&query=sum:e2e.iso{{*}}.rollup(sum,60)"
    for keys, want in (((server.api_key, server.app_key), [1.0]), ((api_b, app_b), [2.0])):
        status, body = server.request("GET", q, keys=keys)
        assert status == 200, body
        got = [p[1] for s in json.loads(body)["series"] for p in s["pointlist"] if p[1] is not None]
        assert got == want, (keys, body)
        status, body = server.request("GET", "/api/v2/metrics/e2e.iso/all-tags", keys=keys)
        assert json.loads(body)["data"]["attributes"]["tags"] == ["org:a" if want == [1.0] else "org:b"]
    status, body = server.request("GET", "/api/v1/search?q=metrics:e2e.iso", keys=(api_b, app_b))
    assert json.loads(body)["results"]["metrics"] == ["e2e.iso"]
    # Keys of two orgs do not combine.
    status, body = server.request("GET", "/api/v1/export?metric=e2e.iso", keys=(server.api_key, app_b))
    assert (status, json.loads(body)) == (403, {"errors": ["Forbidden"]})
    # A revoked key stops working at once.
    listing = server.cli("keys", "list")
    key_id = next(line.split()[0] for line in listing.splitlines() if line.strip().endswith("default") and "api" in line.split() and line.split()[1] == "2")
    server.cli("keys", "revoke", key_id)
    deadline = time.time() + 15
    while server.request("GET", "/api/v1/validate", keys=(api_b, app_b))[0] != 403:
        assert time.time() < deadline, "revoked key still accepted"
        time.sleep(0.5)


def test_keys_are_required_and_checked(server):
    status, body = server.request("POST", "/api/v1/series", b"{}", keys=("", ""))
    assert (status, json.loads(body)) == (403, {"errors": ["API key required"]})
    status, body = server.request("GET", "/api/v1/validate", keys=("nope", "nope"))
    assert (status, json.loads(body)) == (403, {"errors": ["Forbidden"]})
    cfg = Configuration(host=server.url)
    cfg.api_key["apiKeyAuth"] = "wrong"
    with ApiClient(cfg) as c:
        try:
            AuthenticationApi(c).validate()
            raise AssertionError("a wrong key validated")
        except ForbiddenException:
            pass
    # Reads need the application key too.
    status, body = server.request("GET", "/api/v1/events?start=0&end=1", keys=(server.api_key, ""))
    assert status == 403
    # The api_key query parameter works where Datadog accepts it.
    status, _ = server.request("GET", f"/api/v1/validate?api_key={server.api_key}", keys=("", ""))
    assert status == 200


def test_bad_payloads_get_datadogs_errors_and_store_nothing(server):
    h = {"Content-Type": "application/json"}
    now = int(time.time())
    cases = [
        (b"{not json", 400),
        (b'{"series": 3}', 400),
        (b'[1,2]', 400),
    ]
    for body, want in cases:
        status, resp = server.request("POST", "/api/v1/series", body, h)
        assert status == want, (body, status, resp)
        assert json.loads(resp)["errors"], resp
    # Unknown encoding and a corrupt gzip body.
    status, resp = server.request("POST", "/api/v1/series", b"xx", {"Content-Encoding": "br", **h})
    assert status == 400 and b"br" in resp
    status, resp = server.request("POST", "/api/v1/series", b"\x1f\x8b garbage", {"Content-Encoding": "gzip", **h})
    assert status == 400
    # Over the 3.2 MB limit: 413.
    status, resp = server.request("POST", "/api/v1/series", b"{" + b" " * 3_300_000 + b"}", h)
    assert status == 413, resp
    # A zip bomb over the decompressed limit: 413, not an out-of-memory.
    bomb = gzip.compress(b'{"series":[' + b" " * 70_000_000 + b"]}")
    status, resp = server.request("POST", "/api/v1/series", bomb, {"Content-Encoding": "gzip", **h})
    assert status == 413, resp
    # A payload with one bad series stores the good ones (as Datadog does).
    body = json.dumps(
        {"series": [{"metric": "e2e.partial", "points": [[now - 5, 1.0]]}, {"points": [[now - 5, 2.0]]}]}
    ).encode()
    status, _ = server.request("POST", "/api/v1/series", body, h)
    assert status == 202
    assert [s["points"] for s in server.export("e2e.partial")] == [[[now - 5, 1.0]]]
    # Nothing from the rejected payloads was stored, and the server still serves.
    assert server.request("GET", "/api/v1/validate")[0] == 200
    metrics = server.get("/metrics").decode()
    assert 'whippet_intake_requests_total{endpoint="series_v1",status="400"}' in metrics
    assert 'whippet_intake_requests_total{endpoint="series_v1",status="413"}' in metrics


def test_self_monitoring_lands_in_the_store(server):
    now = int(time.time())
    body = json.dumps({"series": [{"metric": "e2e.selfmon", "points": [[now - 5, 1.0]]}]}).encode()
    assert server.request("POST", "/api/v1/series", body, {"Content-Type": "application/json"})[0] == 202
    series = server.wait_export("whippet.intake.points", lambda s: any("endpoint:series_v1" in x["tags"] for x in s), timeout=20)
    assert any(x["type"] == "count" for x in series)
    text = server.get("/metrics").decode()
    assert "# TYPE whippet_intake_points_total counter" in text
    assert "whippet_storage_series" in text


def test_restart_keeps_data_and_a_sigkill_loses_nothing_acknowledged(fresh_server):
    from conftest import Server

    s = fresh_server
    now = int(time.time())
    for i in range(20):
        body = json.dumps({"series": [{"metric": "e2e.durable", "points": [[now - 100 + i, float(i)]]}]}).encode()
        assert s.request("POST", "/api/v1/series", body, {"Content-Type": "application/json"})[0] == 202
    s.proc.kill()
    s.proc.wait()
    s.log.close()
    s2 = Server(s.data_dir)
    try:
        [series] = s2.export("e2e.durable")
        assert len(series["points"]) == 20
    finally:
        assert s2.stop() == 0


def test_refused_requests_with_a_body_keep_keep_alive_clients_working(server):
    """A request refused for its keys before its body is read closes the
    connection, and says so: a keep-alive client then opens a new one
    instead of failing its next request."""
    import requests

    session = requests.Session()
    monitor = json.dumps({"type": "metric alert", "query": "avg(last_5m):avg:m{*} > 1", "name": "x"})
    bad = {"DD-API-KEY": "0" * 32, "DD-APPLICATION-KEY": "0" * 40, "Content-Type": "application/json"}
    for _ in range(40):
        r = session.post(server.url + "/api/v1/monitor", data=monitor, headers=bad)
        assert r.status_code == 403, r.text
        assert r.headers.get("Connection", "").lower() == "close"
        r = session.get(server.url + "/api/v1/validate", headers={"DD-API-KEY": server.api_key})
        assert r.status_code == 200, r.text
