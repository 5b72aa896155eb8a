"""End-to-end test harness: starts a real `whippet serve` on free ports with
a fresh data directory and known keys, and tears it down with SIGTERM.

The binary is the one `cargo build` made (WHIPPET_BIN overrides the path).
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e0api0key0000000000000000000001"
APP_KEY = "e2e0app0key000000000000000000000000000001"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def whippet_bin():
    return os.environ.get("WHIPPET_BIN", str(ROOT / "target" / "debug" / "whippet"))


class Server:
    """A running `whippet serve`."""

    def __init__(self, data_dir, extra_env=None, keys=(API_KEY, APP_KEY)):
        self.data_dir = Path(data_dir)
        self.http_port = free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.socket_path = str(self.data_dir / "dsd.socket")
        self.api_key, self.app_key = keys
        env = dict(os.environ)
        env.update(
            {
                "WHIPPET_DATA_DIR": str(self.data_dir),
                "WHIPPET_HTTP_ADDR": f"127.0.0.1:{self.http_port}",
                "WHIPPET_DOGSTATSD_ADDR": f"127.0.0.1:{self.udp_port}",
                "WHIPPET_DOGSTATSD_SOCKET": self.socket_path,
                "WHIPPET_API_KEY": self.api_key,
                "WHIPPET_APP_KEY": self.app_key,
                "WHIPPET_SELF_MONITORING_INTERVAL_SECS": "1",
                "WHIPPET_LOG": "info",
            }
        )
        env.update(extra_env or {})
        self.log_path = self.data_dir / "server.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([whippet_bin(), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.http_port}"
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"whippet exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                self.get("/api/v1/validate")
                break
            except Exception:
                if time.time() > deadline:
                    raise RuntimeError(f"whippet did not become ready:\n{self.log_text()}")
                time.sleep(0.1)

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text()

    def request(self, method, path, body=None, headers=None, keys=None):
        api, app = keys or (self.api_key, self.app_key)
        h = {"DD-API-KEY": api, "DD-APPLICATION-KEY": app}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path, **kw):
        status, body = self.request("GET", path, **kw)
        if status >= 300:
            raise RuntimeError(f"GET {path}: {status} {body!r}")
        return body

    def export(self, metric, scope="*", start=None, end=None, keys=None):
        """Every stored series of `metric` as parsed JSON lines."""
        now = time.time()
        q = urllib.parse.urlencode(
            {"metric": metric, "scope": scope, "from": int(start or now - 86400 * 400), "to": int(end or now + 600)}
        )
        status, body = self.request("GET", f"/api/v1/export?{q}", keys=keys)
        assert status == 200, (status, body)
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def wait_export(self, metric, predicate, timeout=40, **kw):
        """Polls the export until `predicate(series)` holds (DogStatsD
        flushes closed 10-second buckets, so data arrives after a delay)."""
        deadline = time.time() + timeout
        while True:
            series = self.export(metric, **kw)
            if predicate(series):
                return series
            if time.time() > deadline:
                raise AssertionError(f"{metric}: condition not met; last export: {series}\nserver log:\n{self.log_text()}")
            time.sleep(0.5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        self.log.close()
        return self.proc.returncode

    def cli(self, *args):
        env = dict(os.environ, WHIPPET_DATA_DIR=str(self.data_dir))
        out = subprocess.run([whippet_bin(), *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout


def api_client(server, keys=None):
    """A datadog-api-client ApiClient for `server`, with its keys or `keys`
    (api, app)."""
    from datadog_api_client import ApiClient, Configuration

    cfg = Configuration(host=server.url)
    api, app = keys or (server.api_key, server.app_key)
    cfg.api_key["apiKeyAuth"] = api
    cfg.api_key["appKeyAuth"] = app
    return ApiClient(cfg)


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        s = Server(Path(d) / "data")
        yield s
        code = s.stop()
        assert code == 0, s.log_text()


@pytest.fixture
def fresh_server():
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        s = Server(Path(d) / "data")
        yield s
        s.stop()
