"""Monitors fed by DogStatsD, end to end with the real clients.

`datadog-api-client` creates the webhooks and the monitors, the `datadog`
package's DogStatsD client pushes the points over UDP, and receivers started
here (plain HTTP, and HTTPS with the committed test certificates) get what
the server delivers:

* an alert and its recovery, across a crash (SIGKILL) and restart in the
  middle: one alert, one recovery, each with its rendered message;
* a renotification while the value stays over the threshold
  (`renotify_interval` is in minutes, 1 at least: about 70 s), and, behind
  WHIPPET_E2E_SLOW=1 (about 140 s), `renotify_occurrences` capping them;
* a webhook over `https://`, trusted through `SSL_CERT_FILE`, and refused
  (with a TLS error, retried) by a server that does not trust the test CA;
* the default payload's `"id"` (`$ID`): one number per notification,
  never "0".

DogStatsD points reach storage when the server flushes a closed 10-second
bucket, so every wait polls with a deadline.
"""

import json
import os
import re
import ssl
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, Server, api_client as client
from receiver import Receiver
from datadog import api, initialize
from datadog.dogstatsd import DogStatsd
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.api.webhooks_integration_api import WebhooksIntegrationApi
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_options import MonitorOptions
from datadog_api_client.v1.model.monitor_thresholds import MonitorThresholds
from datadog_api_client.v1.model.monitor_type import MonitorType
from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration

TLS_DIR = ROOT / "control" / "whippet" / "testdata" / "tls"


def tls_server_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
    return ctx


def statsd(server):
    """The `datadog` package's DogStatsD client on the server's UDP port,
    one datagram per call (no buffering) so nothing waits in the client."""
    return DogStatsd(host="127.0.0.1", port=server.udp_port, disable_telemetry=True, disable_buffering=True)


def create_webhook(server, name, url):
    with client(server) as c:
        WebhooksIntegrationApi(c).create_webhooks_integration(body=WebhooksIntegration(name=name, url=url))


def create_monitor(server, **kw):
    with client(server) as c:
        return MonitorsApi(c).create_monitor(body=Monitor(type=MonitorType("metric alert"), **kw))


def group_status(server, monitor_id):
    with client(server) as c:
        got = MonitorsApi(c).get_monitor(monitor_id, group_states="all")
    return {k: str(v.status) for k, v in got.state.groups.items()}


def crash(server):
    """SIGKILL: no shutdown path runs; only what is on disk survives."""
    server.proc.kill()
    server.proc.wait(timeout=30)
    server.log.close()


def counter_lines(server, fragment):
    """The lines of `GET /metrics` (Prometheus text) that contain `fragment`."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return [line for line in text.splitlines() if fragment in line and not line.startswith("#")]


def wait_until(what, predicate, timeout, server=None):
    deadline = time.time() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.time() > deadline:
            log = server.log_text()[-4000:] if server else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{log}")
        time.sleep(0.3)


LOAD_MESSAGE = (
    "{{#is_alert}}DSD load high on {{host.name}}: {{value}}{{/is_alert}}"
    "{{#is_recovery}}DSD load normal on {{host.name}}: {{value}}{{/is_recovery}}"
    " @webhook-dsd-hook"
)


def test_dogstatsd_alert_and_recovery_across_a_crash_and_restart():
    receiver = Receiver()
    env = {"WHIPPET_MONITOR_INTERVAL_SECS": "1"}
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        data = Path(d) / "data"
        server = Server(data, extra_env=env)
        try:
            create_webhook(server, "dsd-hook", receiver.base + "/dsd")
            # `min` over the window: alerts on the first point over 50 and
            # recovers on the first one under it (with `max` the high point
            # would hold the alert for a whole minute after it).
            monitor = create_monitor(
                server,
                name="DSD load on {{host.name}}",
                query="min(last_1m):avg:e2e.dsd.load{*} by {host} > 50",
                message=LOAD_MESSAGE,
                options=MonitorOptions(thresholds=MonitorThresholds(critical=50.0), new_group_delay=0),
            )
            dsd = statsd(server)
            dsd.gauge("e2e.dsd.load", 87.5, tags=["host:dsd-1", "env:e2e"])
            dsd.gauge("e2e.dsd.load", 20.0, tags=["host:dsd-2", "env:e2e"])
            dsd.close_socket()

            alerts = receiver.wait_for(lambda b: "DSD load high on dsd-1" in b["body"], "alert", timeout=45)
            assert len(alerts) == 1, receiver.bodies()
            alert = alerts[0]
            assert alert["body"] == "DSD load high on dsd-1: 87.5 @webhook-dsd-hook", alert
            assert alert["title"] == "[Triggered on {host:dsd-1}] DSD load on dsd-1", alert
            assert alert["event_type"] == "metric_alert_monitor", alert
            assert receiver.posts[0]["headers"].get("X-Whippet-Notification-Id")
            wait_until(
                "dsd-1 in Alert, dsd-2 OK",
                lambda: group_status(server, monitor.id) == {"host:dsd-1": "Alert", "host:dsd-2": "OK"},
                15,
                server,
            )
            # The delivery is recorded just after the receiver's 200: give
            # the store that moment before pulling the plug.
            wait_until(
                "the delivery counted",
                lambda: [l for l in counter_lines(server, "notifications") if 'outcome="delivered"' in l],
                10,
                server,
            )
            time.sleep(1)
        except BaseException:
            server.stop()
            raise
        crash(server)

        # Same data directory, new ports. The Alert and its delivery are on
        # disk: the same state must not alert again.
        server = Server(data, extra_env=env)
        try:
            wait_until(
                "dsd-1 still in Alert after the restart",
                lambda: group_status(server, monitor.id).get("host:dsd-1") == "Alert",
                15,
                server,
            )
            time.sleep(4)  # a few evaluation rounds of the restarted server
            assert len(receiver.posts) == 1, receiver.bodies()

            dsd = statsd(server)
            dsd.gauge("e2e.dsd.load", 12.5, tags=["host:dsd-1", "env:e2e"])
            dsd.gauge("e2e.dsd.load", 20.0, tags=["host:dsd-2", "env:e2e"])
            dsd.close_socket()
            recoveries = receiver.wait_for(lambda b: "DSD load normal on dsd-1" in b["body"], "recovery", timeout=45)
            assert len(recoveries) == 1, receiver.bodies()
            recovery = recoveries[0]
            assert recovery["body"] == "DSD load normal on dsd-1: 12.5 @webhook-dsd-hook", recovery
            assert recovery["title"] == "[Recovered on {host:dsd-1}] DSD load on dsd-1", recovery
            wait_until(
                "dsd-1 back to OK",
                lambda: group_status(server, monitor.id).get("host:dsd-1") == "OK",
                15,
                server,
            )
            time.sleep(2)
            # Exactly two deliveries in all, each its own notification, and
            # dsd-2 (never over the threshold) named by none.
            bodies = receiver.bodies()
            assert [b["body"].split(":")[0] for b in bodies] == ["DSD load high on dsd-1", "DSD load normal on dsd-1"], bodies
            ids = [p["headers"].get("X-Whippet-Notification-Id") for p in receiver.posts]
            assert len(set(ids)) == 2, ids
            assert not any("dsd-2" in b["body"] or "dsd-2" in b["title"] for b in bodies), bodies
        finally:
            assert server.stop() == 0, server.log_text()
    receiver.close()


def renotify_monitor(server, name, occurrences=None):
    options = {"thresholds": MonitorThresholds(critical=50.0), "new_group_delay": 0, "renotify_interval": 1}
    if occurrences is not None:
        options["renotify_occurrences"] = occurrences
    return create_monitor(
        server,
        name=name,
        query="min(last_1m):avg:e2e.dsd.queue{*} by {host} > 50",
        message=(
            "{{#is_renotify}}STILL {{/is_renotify}}"
            "{{#is_alert}}queue deep on {{host.name}}: {{value}}{{/is_alert}}"
            " @webhook-renotify-hook"
        ),
        options=MonitorOptions(**options),
    )


def test_renotify_while_the_value_stays_over_the_threshold():
    # `renotify_interval` is in minutes and 1 is the smallest: the reminder
    # comes a minute after the alert, so this test takes about 75 s.
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1"})
        try:
            create_webhook(server, "renotify-hook", receiver.base + "/renotify")
            monitor = renotify_monitor(server, "queue", occurrences=1)
            dsd = statsd(server)
            dsd.gauge("e2e.dsd.queue", 70.0, tags=["host:q-1"])
            dsd.close_socket()
            receiver.wait_for(lambda b: b["body"].startswith("queue deep on q-1"), "alert", timeout=45)
            alerted = time.time()
            # The value stays over the threshold (and, without
            # notify_no_data, so does the state once the point leaves the
            # window): a reminder a minute later.
            reminders = receiver.wait_for(lambda b: b["body"].startswith("STILL "), "renotification", timeout=80)
            waited = time.time() - alerted
            assert 55 <= waited <= 75, waited
            assert reminders[0]["body"] == "STILL queue deep on q-1: 70 @webhook-renotify-hook", reminders
            # Datadog's renotified form of the transition word.
            assert reminders[0]["title"] == "[Re-Triggered on {host:q-1}] queue", reminders
            assert len(receiver.posts) == 2, receiver.bodies()
            assert group_status(server, monitor.id) == {"host:q-1": "Alert"}
        finally:
            assert server.stop() == 0, server.log_text()
    receiver.close()


@pytest.mark.skipif(
    not os.environ.get("WHIPPET_E2E_SLOW"),
    reason="takes about 140 s (two 1-minute renotify intervals); set WHIPPET_E2E_SLOW=1",
)
def test_renotify_occurrences_stops_the_reminders():
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1"})
        try:
            create_webhook(server, "renotify-hook", receiver.base + "/renotify")
            renotify_monitor(server, "capped", occurrences=1)
            renotify_monitor(server, "unlimited")
            dsd = statsd(server)
            dsd.gauge("e2e.dsd.queue", 70.0, tags=["host:q-1"])
            dsd.close_socket()

            def count(name, prefix):
                return len([b for b in receiver.bodies() if b["title"].endswith("] " + name) and b["body"].startswith(prefix)])

            wait_until("both alerts", lambda: count("capped", "queue") == 1 and count("unlimited", "queue") == 1, 45, server)
            wait_until("two reminders of the unlimited monitor", lambda: count("unlimited", "STILL") >= 2, 140, server)
            time.sleep(3)
            assert count("capped", "STILL") == 1, receiver.bodies()
            assert count("unlimited", "STILL") == 2, receiver.bodies()
        finally:
            assert server.stop() == 0, server.log_text()
    receiver.close()


def send_high(server, metric, host):
    initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
    r = api.Metric.send(metric=metric, points=[(int(time.time()), 95.0)], host=host)
    assert r.get("status") == "ok", r


def test_https_webhook_trusted_through_ssl_cert_file_and_refused_without_it():
    https = Receiver(tls_context=tls_server_context())
    plain = Receiver()
    ca = str((TLS_DIR / "ca.pem").resolve())
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        trusting = Server(
            Path(d) / "trusting", extra_env={"SSL_CERT_FILE": ca, "WHIPPET_MONITOR_INTERVAL_SECS": "1"}
        )
        # The test runner's own SSL_CERT_FILE (if any) must not leak in:
        # empty means "built-in roots only".
        distrusting = Server(
            Path(d) / "distrusting", extra_env={"SSL_CERT_FILE": "", "WHIPPET_MONITOR_INTERVAL_SECS": "1"}
        )
        try:
            create_webhook(trusting, "tls-hook", f"{https.base}/trusting")
            create_monitor(
                trusting,
                name="tls",
                query="avg(last_1m):avg:e2e.tls.load{*} by {host} > 90",
                message="{{#is_alert}}tls alert on {{host.name}}{{/is_alert}} @webhook-tls-hook",
                options=MonitorOptions(thresholds=MonitorThresholds(critical=90.0), new_group_delay=0),
            )
            create_webhook(distrusting, "tls-hook", f"{https.base}/distrusting")
            create_webhook(distrusting, "plain-hook", f"{plain.base}/control")
            create_monitor(
                distrusting,
                name="tls",
                query="avg(last_1m):avg:e2e.tls.load{*} by {host} > 90",
                message="{{#is_alert}}tls alert on {{host.name}}{{/is_alert}} @webhook-tls-hook @webhook-plain-hook",
                options=MonitorOptions(thresholds=MonitorThresholds(critical=90.0), new_group_delay=0),
            )
            send_high(trusting, "e2e.tls.load", "tls-1")
            send_high(distrusting, "e2e.tls.load", "tls-2")

            # Trusted: the alert arrives over TLS, verified for `localhost`.
            got = https.wait_for(lambda b: "tls alert on tls-1" in b["body"], "https alert", timeout=30, path="/trusting")
            assert len(got) == 1
            assert https.at("/trusting")[0]["headers"].get("X-Whippet-Notification-Id")
            wait_until(
                "delivered webhook counted",
                lambda: [l for l in counter_lines(trusting, "notifications") if 'outcome="delivered"' in l],
                10,
                trusting,
            )

            # Not trusted: the plain control arrives, the https one never
            # does; the handshake is refused (the receiver sees it fail),
            # counted with reason "tls", logged, and retried.
            plain.wait_for(lambda b: "tls alert on tls-2" in b["body"], "plain-http control alert", timeout=30)
            wait_until("a failed handshake", lambda: len(https.tls_errors) >= 1, 15, distrusting)
            tls_failures = wait_until(
                "a tls failure counted",
                lambda: [
                    l for l in counter_lines(distrusting, "notifications") if 'outcome="failed"' in l and 'reason="tls"' in l
                ],
                10,
                distrusting,
            )
            assert re.search(r"\s[1-9][0-9.]*$", tls_failures[0]), tls_failures
            log = distrusting.log_text()
            assert "notification delivery failed" in log, log[-3000:]
            assert re.search(r"TLS handshake with localhost: .*(UnknownIssuer|unknown issuer)", log, re.I), log[-3000:]
            # The first retry comes 5 s after the first failure.
            wait_until("a retried handshake", lambda: len(https.tls_errors) >= 2, 15, distrusting)
            assert https.at("/distrusting") == [], https.bodies()
            assert len(plain.posts) == 1, plain.bodies()
        finally:
            assert trusting.stop() == 0, trusting.log_text()
            assert distrusting.stop() == 0, distrusting.log_text()
    https.close()
    plain.close()


def test_default_payload_id_names_the_notification_event():
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1"})
        try:
            create_webhook(server, "id-hook", receiver.base + "/id")
            create_monitor(
                server,
                name="ids",
                query="avg(last_1m):avg:e2e.id.load{*} by {host} > 90",
                message="{{#is_alert}}up{{/is_alert}}{{#is_recovery}}down{{/is_recovery}} @webhook-id-hook",
                options=MonitorOptions(thresholds=MonitorThresholds(critical=90.0), new_group_delay=0),
            )
            send_high(server, "e2e.id.load", "id-1")
            receiver.wait_for(lambda b: b["body"].startswith("up"), "alert", timeout=30)
            r = api.Metric.send(metric="e2e.id.load", points=[(int(time.time()), 10.0)], host="id-1")
            assert r.get("status") == "ok", r
            receiver.wait_for(lambda b: b["body"].startswith("down"), "recovery", timeout=30)
            ids = [b["id"] for b in receiver.bodies()]
            assert len(ids) == 2, receiver.bodies()
            # Two events (the alert's, the recovery's): two ids, neither 0.
            assert "0" not in ids and len(set(ids)) == 2, ids
        finally:
            assert server.stop() == 0, server.log_text()
    receiver.close()
