"""The hosts list (`GET /api/v1/hosts`, `/api/v1/hosts/totals`) through
`datadog-api-client`'s HostsApi, fed by every way a host reports: the HTTP
intake (datadogpy's `api.Metric.send`), DogStatsD (a `host:` tag), check
runs and events."""

import json
import time
import urllib.parse

import pytest
from datadog import api, initialize
from datadog.dogstatsd import DogStatsd
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v1.api.hosts_api import HostsApi
from datadog_api_client.v1.api.service_checks_api import ServiceChecksApi
from datadog_api_client.v1.model.service_check import ServiceCheck
from datadog_api_client.v1.model.service_check_status import ServiceCheckStatus
from datadog_api_client.v1.model.service_checks import ServiceChecks

from conftest import api_client

NOW = int(time.time())
# Every host this file creates; the server is this module's own.
RECENT = {"web-1", "web-2", "dsd-1", "chk-1", "evt-1"}


def hosts_of(resp):
    return {h.name: h for h in resp.host_list}


@pytest.fixture(scope="module")
def fed(server):
    """The server with data from five hosts reporting now and one that
    stopped four hours ago."""
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
    ok = {"status": "ok"}
    assert api.Metric.send(metric="system.cpu.user", points=[(NOW - 60, 1.0), (NOW - 30, 2.0)], tags=["env:prod", "role:web"], host="web-1") == ok
    assert api.Metric.send(metric="app.requests", points=[(NOW - 45, 5.0)], tags=["env:prod"], host="web-1") == ok
    assert api.Metric.send(metric="system.cpu.user", points=[(NOW - 20, 1.0)], tags=["env:staging"], host="web-2") == ok
    assert api.Metric.send(metric="system.cpu.user", points=[(NOW - 4 * 3600, 1.0)], tags=["env:prod"], host="old-1") == ok
    with api_client(server) as c:
        body = ServiceChecks([ServiceCheck(check="e2e.app.ok", host_name="chk-1", status=ServiceCheckStatus.OK, tags=["env:e2e"], timestamp=NOW - 10, message="")])
        ServiceChecksApi(c).submit_service_check(body=body)
    e = api.Event.create(title="deployed", text="v2", host="evt-1", tags=["env:prod"])
    assert e["status"] == "ok", e
    dsd = DogStatsd(host="127.0.0.1", port=server.udp_port, disable_telemetry=True, disable_buffering=True)
    dsd.gauge("e2e.dsd.hosts", 1.0, tags=["host:dsd-1", "env:dsd"])
    # DogStatsD flushes closed 10-second buckets: wait for its host.
    deadline = time.time() + 40
    while True:
        with api_client(server) as c:
            names = set(hosts_of(HostsApi(c).list_hosts()))
        if names >= RECENT:
            break
        assert time.time() < deadline, f"hosts so far: {names}\n{server.log_text()}"
        time.sleep(0.5)
    return server


def test_every_source_of_hosts_is_listed_with_tags_and_last_report(fed):
    with api_client(fed) as c:
        resp = HostsApi(c).list_hosts()
    hosts = hosts_of(resp)
    # The default window is the last 3 hours: old-1 is not listed.
    assert set(hosts) == RECENT
    assert resp.total_matching == resp.total_returned == len(RECENT)
    web1 = hosts["web-1"]
    assert web1.host_name == "web-1" and web1.aliases == ["web-1"]
    assert web1.tags_by_source == {"Datadog": ["env:prod", "role:web"]}
    assert web1.last_reported_time == NOW - 30  # its newest point
    assert web1.up is True and web1.is_muted is False
    assert web1.apps == ["app", "system"]
    assert hosts["dsd-1"].tags_by_source == {"Datadog": ["env:dsd"]}
    assert "check:e2e.app.ok" in hosts["chk-1"].tags_by_source["Datadog"]
    assert hosts["chk-1"].last_reported_time == NOW - 10
    # A host known only from an event: no tags, reported when it happened.
    assert hosts["evt-1"].tags_by_source == {}
    assert abs(hosts["evt-1"].last_reported_time - NOW) < 120
    # Ids are distinct and stable.
    assert len({h.id for h in hosts.values()}) == len(hosts)
    with api_client(fed) as c:
        again = hosts_of(HostsApi(c).list_hosts())
    assert {n: h.id for n, h in again.items()} == {n: h.id for n, h in hosts.items()}


def test_filter_sort_page_and_from(fed):
    with api_client(fed) as c:
        h = HostsApi(c)
        assert [x.name for x in h.list_hosts(filter="env:prod").host_list] == ["web-1"]
        assert [x.name for x in h.list_hosts(filter="WEB").host_list] == ["web-1", "web-2"]
        assert [x.name for x in h.list_hosts(filter="staging web").host_list] == ["web-2"]
        assert h.list_hosts(filter="nothing-like-this").total_matching == 0

        by_name = [x.name for x in h.list_hosts(sort_field="name", sort_dir="desc").host_list]
        assert by_name == sorted(RECENT, reverse=True)
        by_time = h.list_hosts(sort_field="last_reported_time", sort_dir="asc").host_list
        times = [x.last_reported_time for x in by_time]
        assert times == sorted(times)
        assert [x.name for x in by_time][:3] == ["web-1", "web-2", "chk-1"]

        page = h.list_hosts(start=1, count=2)
        assert [x.name for x in page.host_list] == sorted(RECENT)[1:3]
        assert (page.total_matching, page.total_returned) == (len(RECENT), 2)

        wide = h.list_hosts(_from=NOW - 5 * 3600, include_muted_hosts_data=True, include_hosts_metadata=True)
        old = hosts_of(wide)["old-1"]
        assert old.last_reported_time == NOW - 4 * 3600
        assert old.up is False  # more than 2 hours ago
        assert wide.total_matching == len(RECENT) + 1
        assert h.list_hosts(_from=NOW + 3600).total_matching == 0


def test_totals_count_active_and_up_hosts(fed):
    with api_client(fed) as c:
        h = HostsApi(c)
        t = h.get_host_totals()
        assert (t.total_active, t.total_up) == (len(RECENT), len(RECENT))
        t = h.get_host_totals(_from=NOW - 5 * 3600)
        assert (t.total_active, t.total_up) == (len(RECENT) + 1, len(RECENT))


def test_bad_parameters_and_missing_keys_are_refused(fed):
    with api_client(fed) as c:
        with pytest.raises(ApiException) as e:
            HostsApi(c).list_hosts(sort_field="cpu")
        assert e.value.status == 400
        body = e.value.body if isinstance(e.value.body, dict) else json.loads(e.value.body)
        assert "sort_field" in body["errors"][0]
    q = urllib.parse.urlencode({"count": "lots"})
    status, body = fed.request("GET", f"/api/v1/hosts?{q}")
    assert status == 400 and "count" in json.loads(body)["errors"][0]
    status, _ = fed.request("GET", "/api/v1/hosts", keys=("nope", "nope"))
    assert status == 403
    status, _ = fed.request("GET", "/api/v1/hosts/totals", keys=(fed.api_key, "nope"))
    assert status == 403
