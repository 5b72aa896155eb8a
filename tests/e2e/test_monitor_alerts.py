"""A monitor end to end with the real clients: datadog-api-client creates a
webhook and a metric monitor, the `datadog` package pushes points across
the threshold and back, and a real HTTP receiver started here gets the alert
and the recovery with the rendered message. The server is restarted while
the monitor alerts: nothing is sent twice, nothing is lost."""

import json
import tempfile
import time
from pathlib import Path

import pytest
from conftest import Server, api_client as client
from receiver import Receiver
from datadog_api_client.exceptions import ApiException
from datadog import api, initialize
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.api.webhooks_integration_api import WebhooksIntegrationApi
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_options import MonitorOptions
from datadog_api_client.v1.model.monitor_thresholds import MonitorThresholds
from datadog_api_client.v1.model.monitor_type import MonitorType
from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration


def send(server, value, host="mon-1"):
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
    r = api.Metric.send(metric="e2e.mon.load", points=[(int(time.time()), value)], host=host)
    assert r.get("status") == "ok", r


def message_of(body):
    return body.get("body") or body.get("text") or json.dumps(body)


def test_alert_and_recovery_reach_the_webhook_across_a_restart():
    receiver = Receiver()
    env = {"WHIPPET_MONITOR_INTERVAL_SECS": "1"}
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        data = Path(d) / "data"
        server = Server(data, extra_env=env)
        try:
            with client(server) as c:
                WebhooksIntegrationApi(c).create_webhooks_integration(
                    body=WebhooksIntegration(name="e2e-hook", url=receiver.url)
                )
                monitor = MonitorsApi(c).create_monitor(
                    body=Monitor(
                        name="Load on {{host.name}}",
                        type=MonitorType("metric alert"),
                        query="avg(last_1m):avg:e2e.mon.load{*} by {host} > 90",
                        message=(
                            "{{#is_alert}}Load high on {{host.name}}: {{value}}{{/is_alert}}"
                            "{{#is_recovery}}Load back to normal on {{host.name}}{{/is_recovery}}"
                            " @webhook-e2e-hook"
                        ),
                        options=MonitorOptions(
                            thresholds=MonitorThresholds(critical=90.0),
                            new_group_delay=0,
                        ),
                    )
                )
            send(server, 95.0)
            alerts = receiver.wait_for(lambda b: "Load high on mon-1" in message_of(b), "alert")
            assert len(alerts) == 1
            # Datadog's default payload; the monitor's name is rendered too.
            assert alerts[0]["title"] == "[Triggered on {host:mon-1}] Load on mon-1", alerts[0]
            assert alerts[0]["org"]["name"] == "default"
            alert_post = [p for p in receiver.posts if b"Load high" in p["body"]][0]
            assert alert_post["headers"].get("X-Whippet-Notification-Id")
            with client(server) as c:
                got = MonitorsApi(c).get_monitor(monitor.id, group_states="all")
                assert str(got.overall_state) == "Alert"
                assert str(got.state.groups["host:mon-1"].status) == "Alert"
        finally:
            assert server.stop() == 0, server.log_text()

        # A restart while alerting: the state and the delivered alert are
        # remembered; the same value must not alert again.
        server = Server(data, extra_env=env)
        try:
            time.sleep(4)
            alerts = [b for b in receiver.bodies() if "Load high on mon-1" in message_of(b)]
            assert len(alerts) == 1, receiver.bodies()
            send(server, 10.0)
            send(server, 10.0, host="mon-2")
            recoveries = receiver.wait_for(
                lambda b: "Load back to normal on mon-1" in message_of(b), "recovery"
            )
            assert len(recoveries) == 1
            with client(server) as c:
                got = MonitorsApi(c).get_monitor(monitor.id, group_states="all")
                assert str(got.state.groups["host:mon-1"].status) == "OK"
                assert got.state.groups["host:mon-1"].last_resolved_ts > 0
            # mon-2 never crossed: no notification names it.
            assert not any("mon-2" in message_of(b) for b in receiver.bodies())
            # The transitions went to the event stream.
            status, events = server.request("GET", f"/api/v1/events?start={int(time.time()) - 3600}&end={int(time.time()) + 60}")
            assert status == 200
            titles = [e["title"] for e in json.loads(events)["events"]]
            assert any("Triggered" in t and "mon-1" in t for t in titles), titles
            assert any("Recovered" in t and "mon-1" in t for t in titles), titles
            # The UI's state timeline: both transitions of mon-1, across the
            # restart; mon-2's first OK is no transition.
            history = json.loads(server.get(f"/api/ui/monitors/{monitor.id}/history"))
            moves = [(t["group"], t["from"], t["to"]) for t in history["transitions"]]
            assert moves == [("host:mon-1", "No Data", "Alert"), ("host:mon-1", "Alert", "OK")], moves
            assert history["transitions"][0]["value"] == 95.0
            assert server.request("GET", "/api/ui/monitors/987654321/history")[0] == 404
        finally:
            assert server.stop() == 0, server.log_text()
        receiver.httpd.shutdown()


def wait_state(server, monitor_id, group, status, timeout=30):
    deadline = time.time() + timeout
    while True:
        with client(server) as c:
            got = MonitorsApi(c).get_monitor(monitor_id, group_states="all")
        groups = {k: str(v.status) for k, v in got.state.groups.items()}
        if groups.get(group) == status:
            return got
        if time.time() > deadline:
            raise AssertionError(f"{group} is not {status}: {groups}\n{server.log_text()[-3000:]}")
        time.sleep(0.3)


def test_service_check_and_event_alert_monitors():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1"})
        try:
            initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
            with client(server) as c:
                check = MonitorsApi(c).create_monitor(
                    body=Monitor(
                        name="app up",
                        type=MonitorType("service check"),
                        query='"e2e.app.up".over("env:e2e").by("host").last(2).count_by_status()',
                        message="{{#is_alert}}app down on {{host.name}}{{/is_alert}}",
                        options=MonitorOptions(thresholds=MonitorThresholds(critical=2.0, ok=1.0, warning=1.0)),
                    )
                )
                events = MonitorsApi(c).create_monitor(
                    body=Monitor(
                        name="deploy storm",
                        type=MonitorType("event alert"),
                        query='events("sources:e2e-deployer").rollup("count").last("5m") > 1',
                        message="too many deploys",
                    )
                )
            now = int(time.time())
            for ts, status in [(now - 20, 2), (now - 5, 2)]:
                r = api.ServiceCheck.check(check="e2e.app.up", host_name="sc-1", status=status, timestamp=ts, tags=["env:e2e"])
                assert r.get("status") == "ok", r
            wait_state(server, check.id, "host:sc-1", "Alert")
            r = api.ServiceCheck.check(check="e2e.app.up", host_name="sc-1", status=0, timestamp=int(time.time()) + 10, tags=["env:e2e"])
            assert r.get("status") == "ok", r
            wait_state(server, check.id, "host:sc-1", "OK")

            for i in range(2):
                api.Event.create(title=f"deploy {i}", text="x", source_type_name="e2e-deployer")
            wait_state(server, events.id, "*", "Alert")
        finally:
            assert server.stop() == 0, server.log_text()


def test_a_downtime_mutes_notifications_but_not_states():
    import warnings

    from datadog_api_client.v1.api.downtimes_api import DowntimesApi
    from datadog_api_client.v1.model.downtime import Downtime

    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1"})
        try:
            with client(server) as c:
                WebhooksIntegrationApi(c).create_webhooks_integration(
                    body=WebhooksIntegration(name="dt-hook", url=receiver.url)
                )
                monitor = MonitorsApi(c).create_monitor(
                    body=Monitor(
                        name="dt",
                        type=MonitorType("metric alert"),
                        query="avg(last_1m):avg:e2e.dt.load{*} by {host} > 90",
                        message="{{#is_alert}}high on {{host.name}}{{/is_alert}} @webhook-dt-hook",
                        options=MonitorOptions(thresholds=MonitorThresholds(critical=90.0), new_group_delay=0),
                    )
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    DowntimesApi(c).create_downtime(
                        body=Downtime(scope=["host:quiet-1"], monitor_id=monitor.id, start=int(time.time()) - 60)
                    )
            initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
            for host in ["quiet-1", "loud-1"]:
                r = api.Metric.send(metric="e2e.dt.load", points=[(int(time.time()), 99.0)], host=host)
                assert r.get("status") == "ok", r
            receiver.wait_for(lambda b: "high on loud-1" in message_of(b), "alert for loud-1")
            got = wait_state(server, monitor.id, "host:quiet-1", "Alert")
            assert str(got.state.groups["host:loud-1"].status) == "Alert"
            time.sleep(2)
            assert not any("quiet-1" in message_of(b) for b in receiver.bodies()), receiver.bodies()
        finally:
            assert server.stop() == 0, server.log_text()
        receiver.httpd.shutdown()


def body_of(exc):
    """An ApiException's JSON body (the client parses some, not others)."""
    return exc.body if isinstance(exc.body, dict) else json.loads(exc.body)


def test_composite_monitors_reference_their_members():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1"})
        try:
            initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)

            def metric_monitor(api_, metric):
                return api_.create_monitor(
                    body=Monitor(
                        name=f"{metric} high",
                        type=MonitorType("metric alert"),
                        query=f"max(last_1m):avg:{metric}{{*}} > 50",
                        message="member",
                        options=MonitorOptions(thresholds=MonitorThresholds(critical=50.0)),
                    )
                )

            with client(server) as c:
                mapi = MonitorsApi(c)
                a = metric_monitor(mapi, "e2e.comp.a")
                b = metric_monitor(mapi, "e2e.comp.b")
                lone = metric_monitor(mapi, "e2e.comp.lone")
                both = mapi.create_monitor(
                    body=Monitor(name="a and b", type=MonitorType("composite"), query=f"{a.id} && {b.id}", message="both")
                )
                # Members must exist in the org and not be composites.
                for query, text in [
                    (f"{a.id} && 987654321", "Some monitor IDs are invalid"),
                    (f"{a.id} || {both.id}", "cannot contain another one"),
                ]:
                    with pytest.raises(ApiException) as e:
                        mapi.validate_monitor(body=Monitor(name="x", type=MonitorType("composite"), query=query, message="x"))
                    assert e.value.status == 400 and text in body_of(e.value)["errors"][0], e.value.body

                # The composite alerts only when both members do.
                now = int(time.time())
                for metric, value in [("e2e.comp.a", 90.0), ("e2e.comp.b", 10.0)]:
                    assert api.Metric.send(metric=metric, points=[(now, value)]).get("status") == "ok"
                wait_state(server, a.id, "*", "Alert")
                wait_state(server, b.id, "*", "OK")
                time.sleep(2)
                assert str(mapi.get_monitor(both.id).overall_state) == "OK"
                assert api.Metric.send(metric="e2e.comp.b", points=[(now + 1, 95.0)]).get("status") == "ok"
                wait_state(server, both.id, "*", "Alert")

                # Referenced members are not deleted without force.
                with pytest.raises(ApiException) as e:
                    mapi.check_can_delete_monitor(monitor_ids=[a.id, lone.id])
                assert e.value.status == 409
                answer = body_of(e.value)
                assert answer["data"]["ok"] == [lone.id]
                assert f"[{both.id},a and b]" in answer["errors"][str(a.id)][0]
                with pytest.raises(ApiException) as e:
                    mapi.delete_monitor(a.id)
                assert e.value.status == 400 and "force=true" in body_of(e.value)["errors"][0]
                assert mapi.check_can_delete_monitor(monitor_ids=[lone.id]).data.ok == [lone.id]
                assert mapi.delete_monitor(a.id, force="true").deleted_monitor_id == a.id
                # A deleted member counts as OK: the composite recovers.
                wait_state(server, both.id, "*", "OK")
        finally:
            assert server.stop() == 0, server.log_text()


def test_a_stored_query_that_no_longer_parses_shows_skipped_with_the_reason():
    """A definition an older Whippet accepted but this one cannot parse is
    not skipped in silence: its group shows Skipped and why."""
    import sqlite3

    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        data = Path(d) / "data"
        env = {"WHIPPET_MONITOR_INTERVAL_SECS": "1"}
        server = Server(data, extra_env=env)
        try:
            with client(server) as c:
                m = MonitorsApi(c).create_monitor(
                    body=Monitor(
                        name="old",
                        type=MonitorType("metric alert"),
                        query="avg(last_5m):avg:e2e.old.metric{*} > 1",
                        message="x",
                        options=MonitorOptions(thresholds=MonitorThresholds(critical=1.0)),
                    )
                )
        finally:
            assert server.stop() == 0, server.log_text()
        db = sqlite3.connect(data / "meta.db")
        (text,) = db.execute("SELECT definition FROM monitors WHERE id = ?", (m.id,)).fetchone()
        definition = json.loads(text)
        definition["query"] = "avg(last_5m):frobnicate:e2e.old.metric{*} > 1"
        db.execute("UPDATE monitors SET definition = ? WHERE id = ?", (json.dumps(definition), m.id))
        db.commit()
        db.close()
        server = Server(data, extra_env=env)
        try:
            got = wait_state(server, m.id, "*", "Skipped")
            assert "no longer parses" in got.state.groups["*"].message, got.state.groups["*"]
        finally:
            assert server.stop() == 0, server.log_text()
