"""Notifications through the config file's integrations: a `[[webhooks]]`
entry, a Slack-compatible incoming webhook under `[slack.channels]` and an
e-mail through the `[smtp]` relay. A metric monitor created with
datadog-api-client mentions all three; the `datadog` package pushes a point
over the threshold; a local HTTP receiver and a tiny SMTP server started
here must each get the alert."""

import email
import email.policy
import json
import socketserver
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from conftest import Server, whippet_bin
from receiver import Receiver
from datadog import api, initialize
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_options import MonitorOptions
from datadog_api_client.v1.model.monitor_thresholds import MonitorThresholds
from datadog_api_client.v1.model.monitor_type import MonitorType


class SmtpServer:
    """A minimal SMTP server (the standard library has none any more): it
    speaks just enough of RFC 5321 for one client, undoes the dot-stuffing
    and keeps every message with its envelope."""

    def __init__(self):
        self.messages = []
        self.dialogues = []
        messages, dialogues = self.messages, self.dialogues

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                envelope = {"from": None, "to": []}
                commands = []
                self.reply("220 fake.test ESMTP")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    assert raw.endswith(b"\r\n"), raw
                    line = raw.decode().rstrip("\r\n")
                    commands.append(line)
                    verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250-fake.test\r\n250 8BITMIME\r\n")
                    elif verb == "MAIL":
                        envelope["from"] = line.split(":", 1)[1].strip().strip("<>")
                        self.reply("250 2.1.0 ok")
                    elif verb == "RCPT":
                        envelope["to"].append(line.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 2.1.5 ok")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        data = []
                        while True:
                            l = self.rfile.readline()
                            assert l.endswith(b"\r\n"), l
                            if l == b".\r\n":
                                break
                            data.append(l[1:] if l.startswith(b".") else l)
                        messages.append(dict(envelope, data=b"".join(data)))
                        self.reply("250 2.0.0 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        dialogues.append(commands)
                        return
                    else:
                        self.reply("502 5.5.1 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def wait_for(what, get, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = get()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout} s")


def test_file_webhook_slack_and_email_receive_the_alert():
    receiver = Receiver()
    smtp = SmtpServer()
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        config = Path(d) / "whippet.toml"
        config.write_text(
            f"""
[[webhooks]]
name = "filehook"
url = "{receiver.base}/file/$ALERT_ID"
custom_headers = '{{"X-Team": "ops"}}'

[slack.channels]
ops = "{receiver.base}/slack/ops"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
from = "whippet@example.com"
helo = "whippet.test"
"""
        )
        server = Server(
            Path(d) / "data",
            extra_env={"WHIPPET_MONITOR_INTERVAL_SECS": "1", "WHIPPET_CONFIG": str(config)},
        )
        try:
            cfg = Configuration(host=server.url)
            cfg.api_key["apiKeyAuth"] = server.api_key
            cfg.api_key["appKeyAuth"] = server.app_key
            with ApiClient(cfg) as c:
                MonitorsApi(c).create_monitor(
                    body=Monitor(
                        name="Queue depth on {{host.name}}",
                        type=MonitorType("metric alert"),
                        query="avg(last_1m):avg:e2e.integrations.depth{*} by {host} > 90",
                        message=(
                            "{{#is_alert}}Queue **deep** on {{host.name}}: {{value}}\n"
                            ".a line that starts with a dot{{/is_alert}}"
                            " @webhook-filehook @slack-ops @oncall@example.com"
                        ),
                        options=MonitorOptions(
                            thresholds=MonitorThresholds(critical=90.0), new_group_delay=0
                        ),
                    )
                )
            initialize(api_key=server.api_key, app_key=server.app_key, api_host=server.url)
            r = api.Metric.send(
                metric="e2e.integrations.depth", points=[(int(time.time()), 95.0)], host="q-1"
            )
            assert r.get("status") == "ok", r

            # The [[webhooks]] entry: Datadog's default payload, its header.
            file_posts = wait_for("[[webhooks]] POST", lambda: [p for p in list(receiver.posts) if p["path"].startswith("/file/")])
            body = json.loads(file_posts[0]["body"])
            assert "Queue **deep** on q-1" in body["body"], body
            assert "Triggered" in body["title"], body
            assert file_posts[0]["headers"].get("X-Team") == "ops"
            assert file_posts[0]["headers"].get("X-Whippet-Notification-Id")

            # The Slack channel: {"text": "*TITLE*\nMESSAGE"}.
            slack_posts = wait_for("Slack POST", lambda: receiver.at("/slack/ops"))
            assert len(slack_posts) == 1
            text = json.loads(slack_posts[0]["body"])["text"]
            assert text.startswith("*[Triggered") and "Queue **deep** on q-1" in text, text
            assert slack_posts[0]["headers"].get("Content-Type") == "application/json"

            # The e-mail: envelope, subject the title, body the text.
            mails = wait_for("e-mail", lambda: list(smtp.messages))
            assert len(mails) == 1
            mail = mails[0]
            assert mail["from"] == "whippet@example.com"
            assert mail["to"] == ["oncall@example.com"]
            msg = email.message_from_bytes(mail["data"], policy=email.policy.default)
            assert msg["To"] == "oncall@example.com"
            assert msg["Subject"].startswith("[Triggered") and "q-1" in msg["Subject"], msg["Subject"]
            assert msg["Message-ID"]
            text = msg.get_content()
            assert "Queue deep on q-1" in text, text  # Markdown stripped
            assert any(l.startswith(".a line that starts with a dot") for l in text.splitlines()), text
            dialogue = smtp.dialogues[0]
            assert dialogue[0] == "EHLO whippet.test" and dialogue[-1] == "QUIT", dialogue

            # Nothing is sent twice.
            time.sleep(3)
            assert len(receiver.at("/slack/ops")) == 1
            assert len(smtp.messages) == 1
            assert len([p for p in receiver.posts if p["path"].startswith("/file/")]) == 1
        finally:
            assert server.stop() == 0, server.log_text()
    receiver.httpd.shutdown()
    smtp.server.shutdown()


def test_a_bad_notification_table_stops_the_start_with_a_clear_error():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        config = Path(d) / "whippet.toml"
        config.write_text('[smtp]\nhost = "mail.internal"\nport = 0\nfrom = "whippet@example.com"\n')
        out = subprocess.run(
            [whippet_bin(), "serve", "--data-dir", str(Path(d) / "data"), "--http-addr", "127.0.0.1:0"],
            env={"WHIPPET_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode != 0
        assert "[smtp] `port` must be 1 to 65535" in out.stderr, out.stderr
        assert str(config) in out.stderr, out.stderr
