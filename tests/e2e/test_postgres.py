"""The same server with its metadata in a real PostgreSQL: keys, orgs and
events behave as with SQLite, and survive a restart."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import Server, free_port, whippet_bin


def run_as_postgres(args, **kw):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def postgres_url():
    url = os.environ.get("WHIPPET_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    assert bins, "PostgreSQL is needed: apt-get install -y postgresql (scripts/test-deps does it)"
    bindir = Path(bins[-1])
    root = Path(tempfile.mkdtemp(prefix="whippet-e2e-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    run_as_postgres([str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
    run_as_postgres(
        [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-t", "60",
         "-o", f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off", "start"]
    )
    try:
        run_as_postgres([str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", "CREATE DATABASE whippet"])
        yield f"postgres://postgres@127.0.0.1:{port}/whippet"
    finally:
        run_as_postgres([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def test_server_with_postgres_metadata(postgres_url):
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        env = {"WHIPPET_METADATA_URL": postgres_url}
        s = Server(Path(d) / "data", extra_env=env)
        try:
            now = int(time.time())
            body = json.dumps({"series": [{"metric": "e2e.pg", "points": [[now - 5, 4.0]], "tags": ["db:pg"]}]}).encode()
            assert s.request("POST", "/api/v1/series", body, {"Content-Type": "application/json"})[0] == 202
            assert [x["points"] for x in s.export("e2e.pg")] == [[[now - 5, 4.0]]]
            status, resp = s.request("POST", "/api/v1/events", json.dumps({"title": "pg event", "text": "x"}).encode(),
                                     {"Content-Type": "application/json"})
            assert status == 202, resp
            out = subprocess.run(
                [whippet_bin(), "orgs", "list", "--metadata-url", postgres_url],
                capture_output=True, text=True, timeout=60,
            )
            assert out.returncode == 0 and "default" in out.stdout, out
            # No key in the PostgreSQL tables is stored in clear.
            assert s.request("GET", "/api/v1/validate", keys=("wrong", "wrong"))[0] == 403
        finally:
            assert s.stop() == 0
        # A restart finds the org and keys in PostgreSQL: no second bootstrap.
        s = Server(Path(d) / "data", extra_env=env)
        try:
            assert "Created org" not in s.log_text()
            now = int(time.time())
            status, body = s.request("GET", f"/api/v1/events?start={now - 600}&end={now + 600}")
            assert status == 200 and [e["title"] for e in json.loads(body)["events"]] == ["pg event"]
        finally:
            assert s.stop() == 0
