"""Downtimes through datadog-api-client's DowntimesApi (v1): create, list
(with current_only), get, update, cancel; and monitor mute/unmute over raw
HTTP (the client dropped those methods; older clients send them), seen as
`options.silenced` in GET /api/v1/monitor/{id}. Bad input is a 400 that
says what is wrong; an unknown id a 404."""

import json
import time
import urllib.parse

import pytest
from conftest import api_client as client
from datadog_api_client.exceptions import ApiException, NotFoundException
from datadog_api_client.v1.api.downtimes_api import DowntimesApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.model.cancel_downtimes_by_scope_request import CancelDowntimesByScopeRequest
from datadog_api_client.v1.model.downtime import Downtime
from datadog_api_client.v1.model.downtime_recurrence import DowntimeRecurrence
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_options import MonitorOptions
from datadog_api_client.v1.model.monitor_thresholds import MonitorThresholds
from datadog_api_client.v1.model.monitor_type import MonitorType

# DowntimesApi v1 is deprecated in the client (v2 replaces it); Datadog still
# serves it, and so does Whippet.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_monitor(api, name):
    return api.create_monitor(
        body=Monitor(
            name=name,
            type=MonitorType("metric alert"),
            query="avg(last_5m):avg:e2e.downtime.metric{*} by {host} > 90",
            message="high",
            tags=["team:dt"],
            options=MonitorOptions(thresholds=MonitorThresholds(critical=90.0)),
        )
    )


def errors_of(exc):
    body = exc.body
    return (json.loads(body) if isinstance(body, (str, bytes)) else body)["errors"]


def test_downtime_crud_through_the_client(server):
    now = int(time.time())
    with client(server) as c:
        api = DowntimesApi(c)
        mon = new_monitor(MonitorsApi(c), "e2e downtime target")
        created = api.create_downtime(
            body=Downtime(
                scope=["env:prod", "host:a"], start=now - 60, end=now + 3600, message="deploy", monitor_id=mon.id
            )
        )
        did = created.id
        assert did > 0
        assert created.scope == ["env:prod", "host:a"]
        assert created.monitor_id == mon.id
        assert created.active is True
        assert created.canceled is None
        assert created.downtime_type == 2
        assert created.message == "deploy"
        assert created.end == now + 3600

        later = api.create_downtime(body=Downtime(scope=["*"], start=now + 7200, end=now + 9000))
        assert later.active is False and later.downtime_type == 0
        # Week days other than today's (UTC), so that it is not in effect now.
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        today = time.gmtime(now).tm_wday
        days = [names[(today + 2) % 7], names[(today + 4) % 7]]
        recurring = api.create_downtime(
            body=Downtime(
                scope=["host:b"],
                start=now - 60,
                end=now + 600,
                recurrence=DowntimeRecurrence(type="weeks", period=1, week_days=days, until_occurrences=4),
            )
        )
        assert recurring.recurrence.type == "weeks"
        assert recurring.recurrence.week_days == days
        assert recurring.downtime_type == 1

        got = api.get_downtime(did)
        assert got.id == did and got.scope == ["env:prod", "host:a"] and got.active is True

        ids = {d.id for d in api.list_downtimes()}
        assert {did, later.id, recurring.id} <= ids
        current = {d.id for d in api.list_downtimes(current_only=True)}
        assert did in current and later.id not in current

        assert [d.id for d in api.list_monitor_downtimes(mon.id)] == [did]
        shown = MonitorsApi(c).get_monitor(mon.id, with_downtimes=True).matching_downtimes
        assert [(d.id, d.scope, d.start, d.end) for d in shown] == [(did, ["env:prod", "host:a"], now - 60, now + 3600)]
        assert "matching_downtimes" not in MonitorsApi(c).get_monitor(mon.id).to_dict()

        updated = api.update_downtime(did, body=Downtime(message="extended", end=now + 7200))
        assert updated.message == "extended" and updated.end == now + 7200
        assert updated.scope == ["env:prod", "host:a"], "fields not given are kept"

        api.cancel_downtime(did)
        canceled = api.get_downtime(did)
        assert canceled.canceled is not None and canceled.active is False
        assert did not in {d.id for d in api.list_downtimes(current_only=True)}
        api.cancel_downtime(did)  # again: still fine

        with pytest.raises(ApiException) as e:
            api.update_downtime(did, body=Downtime(message="too late"))
        assert e.value.status == 400
        assert "canceled" in errors_of(e.value)[0]

        res = api.cancel_downtimes_by_scope(body=CancelDowntimesByScopeRequest(scope="host:b"))
        assert res.cancelled_ids == [recurring.id]


def test_downtime_bad_input_and_unknown_ids(server):
    now = int(time.time())
    with client(server) as c:
        api = DowntimesApi(c)
        rrule = DowntimeRecurrence(type="rrule", rrule="FREQ=DAILY")
        funday = DowntimeRecurrence(type="weeks", week_days=["Funday"])
        cases = [
            (Downtime(scope=["*"], start=now, end=now - 10), "must be after start"),
            (Downtime(start=now), "scope is required"),
            (Downtime(scope=["*"], start=now, recurrence=DowntimeRecurrence(type="days", period=1)), "needs an end"),
            (Downtime(scope=["*"], start=now, end=now + 60, recurrence=rrule), "not supported"),
            (Downtime(scope=["*"], start=now, end=now + 60, recurrence=funday), "week_days"),
            (Downtime(scope=["*"], start=now, monitor_id=987654321), "does not name a monitor"),
        ]
        for body, text in cases:
            with pytest.raises(ApiException) as e:
                api.create_downtime(body=body)
            assert e.value.status == 400, (body, e.value.body)
            assert text in errors_of(e.value)[0], (text, e.value.body)

        for call in (
            lambda: api.get_downtime(987654321),
            lambda: api.cancel_downtime(987654321),
            lambda: api.update_downtime(987654321, body=Downtime(message="x")),
            lambda: api.list_monitor_downtimes(987654321),
        ):
            with pytest.raises(NotFoundException) as e:
                call()
            assert errors_of(e.value) in (["Downtime not found"], ["Monitor not found"])

    # Malformed JSON.
    status, body = server.request(
        "POST", "/api/v1/downtime", body=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and b"Invalid JSON" in body
    # Both keys are needed.
    status, _ = server.request("GET", "/api/v1/downtime", keys=(server.api_key, "wrong"))
    assert status == 403


def silenced(server, mid):
    return json.loads(server.get(f"/api/v1/monitor/{mid}"))["options"]["silenced"]


def post(server, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    status, raw = server.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    return status, json.loads(raw) if raw else None


def test_mute_and_unmute_a_monitor(server):
    with client(server) as c:
        mid = new_monitor(MonitorsApi(c), "e2e mute target").id
    assert silenced(server, mid) == {}

    # Every group, until unmuted (no body at all).
    status, m = post(server, f"/api/v1/monitor/{mid}/mute")
    assert status == 200, m
    assert m["id"] == mid and m["options"]["silenced"] == {"*": None}

    # One scope until a time, in the body; another in the query string.
    end = int(time.time()) + 3600
    status, m = post(server, f"/api/v1/monitor/{mid}/mute", {"scope": "host:a", "end": end})
    assert status == 200, m
    q = urllib.parse.urlencode({"scope": "host:b", "end": end + 60})
    status, m = post(server, f"/api/v1/monitor/{mid}/mute?{q}")
    assert status == 200, m
    assert silenced(server, mid) == {"*": None, "host:a": end, "host:b": end + 60}

    status, m = post(server, f"/api/v1/monitor/{mid}/unmute", {"scope": "host:a"})
    assert status == 200, m
    assert silenced(server, mid) == {"*": None, "host:b": end + 60}
    status, m = post(server, f"/api/v1/monitor/{mid}/unmute")
    assert status == 200 and silenced(server, mid) == {"host:b": end + 60}
    status, m = post(server, f"/api/v1/monitor/{mid}/unmute", {"all_scopes": True})
    assert status == 200 and m["options"]["silenced"] == {}
    assert silenced(server, mid) == {}

    # The rest of the definition is untouched, and the client still reads it.
    with client(server) as c:
        got = MonitorsApi(c).get_monitor(mid)
        assert got.name == "e2e mute target" and got.options.thresholds.critical == 90.0

    # Bad input and unknown monitors.
    status, body = post(server, f"/api/v1/monitor/{mid}/mute", {"end": int(time.time()) - 10})
    assert status == 400 and "in the future" in body["errors"][0]
    status, body = post(server, f"/api/v1/monitor/{mid}/mute", {"end": "soon"})
    assert status == 400 and "end must be an integer" in body["errors"][0]
    status, body = post(server, f"/api/v1/monitor/{mid}/mute", {"scope": "host a"})
    assert status == 400 and "scope" in body["errors"][0]
    status, body = post(server, f"/api/v1/monitor/{mid}/unmute", {"all_scopes": "maybe"})
    assert status == 400 and "all_scopes" in body["errors"][0]
    for path in ("/api/v1/monitor/987654321/mute", "/api/v1/monitor/987654321/unmute", "/api/v1/monitor/nope/mute"):
        status, body = post(server, path)
        assert status == 404 and body == {"errors": ["Monitor not found"]}
