"""Prometheus remote write 1.0 at /api/v1/write: real request bodies
(protobuf written by hand below, snappy block with literal-only chunks, which
every snappy decoder reads), keys, good and bad input with the status and
text Whippet answers, and the good samples of a refused request (none stored,
as Prometheus rolls the request back)."""

import base64
import json
import struct
import time
import urllib.parse

# --- remote write 1.0 encoding (prompb WriteRequest), by hand --------------


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    return varint(num << 3 | wire) + payload


def ld(num, data):
    """A length-delimited field."""
    return field(num, 2, varint(len(data)) + data)


def label(name, value):
    name = name if isinstance(name, bytes) else name.encode()
    value = value if isinstance(value, bytes) else value.encode()
    return ld(1, name) + ld(2, value)


def sample(ts_ms, value):
    return field(1, 1, struct.pack("<d", value)) + field(2, 0, varint(ts_ms))


def series(labels, samples):
    """labels: [(name, value)], samples: [(ts_ms, value)]."""
    return b"".join(ld(1, label(n, v)) for n, v in labels) + b"".join(ld(2, sample(t, v)) for t, v in samples)


def write_request(all_series):
    return b"".join(ld(1, series(lab, s)) for lab, s in all_series)


def snappy_block(data):
    """The snappy block format with literal chunks only (no compression)."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i : i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        else:
            out.append(61 << 2)
            out += struct.pack("<H", n)
        out += chunk
    return bytes(out)


HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def send(server, proto=None, raw=None, headers=None, keys=None):
    body = raw if raw is not None else snappy_block(proto)
    h = dict(HEADERS)
    h.update(headers or {})
    status, text = server.request("POST", "/api/v1/write", body, h, keys=keys)
    return status, text.decode()


def now_ms():
    return int(time.time() * 1000)


def points(server, metric):
    return {tuple(s["tags"]): s["points"] for s in server.export(metric)}


# --- tests ----------------------------------------------------------------


def test_good_batch_is_stored_and_queryable(server):
    t = now_ms() - 60_000
    body = write_request(
        [
            (
                [("__name__", "http_requests_total"), ("job", "api"), ("instance", "web-1:9090"), ("empty", "")],
                [(t, 1.0), (t + 15_000, 2.5)],
            ),
            ([("__name__", "http_requests_total"), ("job", "api"), ("instance", "web-2:9090")], [(t, 3.0)]),
            # Dotted names are kept as they are (Prometheus 2.42 stores them too).
            ([("__name__", "system.cpu.user"), ("host", "h1")], [(t, 0.5)]),
        ]
    )
    status, text = send(server, body)
    assert (status, text) == (204, ""), text
    got = points(server, "http_requests_total")
    assert got == {
        ("instance:web-1:9090", "job:api"): [[t / 1000, 1.0], [(t + 15_000) / 1000, 2.5]],
        ("instance:web-2:9090", "job:api"): [[t / 1000, 3.0]],
    }
    assert points(server, "system.cpu.user") == {("host:h1",): [[t / 1000, 0.5]]}
    # The Datadog query language sees label job="api" as the tag job:api.
    q = urllib.parse.urlencode(
        {
            "from": t // 1000 - 60,
            "to": t // 1000 + 120,
            "query": "avg:http_requests_total{job:api}",
        }
    )
    status, body = server.request("GET", f"/api/v1/query?{q}")
    assert status == 200, body
    res = json.loads(body)["series"]
    assert len(res) == 1, res
    # 10-second buckets: (1.0 + 3.0) / 2 at t, then 2.5 at t + 15 s.
    assert [p[1] for p in res[0]["pointlist"] if p[1] is not None] == [2.0, 2.5]


def test_keys_header_basic_auth_bearer_and_refusals(server):
    t = now_ms() - 30_000
    body = write_request([([("__name__", "e2e_rw_auth")], [(t, 1.0)])])
    basic = base64.b64encode(f"prometheus:{server.api_key}".encode()).decode()
    no_keys = ("", "")
    assert send(server, body, headers={"Authorization": f"Basic {basic}"}, keys=no_keys)[0] == 204
    body2 = write_request([([("__name__", "e2e_rw_auth")], [(t + 1000, 2.0)])])
    assert send(server, body2, headers={"Authorization": f"Bearer {server.api_key}"}, keys=no_keys)[0] == 204
    assert points(server, "e2e_rw_auth") == {(): [[t / 1000, 1.0], [(t + 1000) / 1000, 2.0]]}
    later = write_request([([("__name__", "e2e_rw_auth")], [(t + 5000, 9.0)])])
    status, text = send(server, later, keys=no_keys)
    assert (status, text) == (403, "API key required\n")
    status, text = send(server, later, keys=("wrong0key", ""))
    assert (status, text) == (403, "Forbidden\n")
    bad_basic = base64.b64encode(b"prometheus:wrong0key").decode()
    assert send(server, later, headers={"Authorization": f"Basic {bad_basic}"}, keys=no_keys)[0] == 403
    assert points(server, "e2e_rw_auth") == {(): [[t / 1000, 1.0], [(t + 1000) / 1000, 2.0]]}


def test_malformed_snappy_and_protobuf(server):
    status, text = send(server, raw=b"\xff\xff\xff\xff\xff\xff")
    assert status == 400 and text.startswith("snappy: corrupt input"), text
    status, text = send(server, b"\x0a\xff\x01\x02")
    assert (status, text) == (
        400,
        "malformed protobuf at byte 3 of the decompressed request: length runs past the end of its message\n",
    )
    # Another Content-Encoding than snappy.
    status, text = send(server, raw=b"x", headers={"Content-Encoding": "gzip"})
    assert status == 415 and "only snappy" in text, text
    # An empty body is an empty request.
    assert send(server, raw=b"")[0] == 204


def test_invalid_and_over_limit_label_sets(server):
    t = now_ms() - 30_000
    good = ([("__name__", "e2e_rw_labels_good")], [(t, 1.0)])
    cases = [
        ([("job", "x")], "series 1 {job=\"x\"}: no metric name (label __name__)"),
        ([("__name__", "e2e_rw_labels"), ("a-b", "x")], 'invalid label name "a-b"'),
        ([("__name__", "e2e_rw_labels"), ("a", "x"), ("a", "y")], 'label name "a" is not unique'),
        ([("__name__", "e2e_rw_labels"), ("a", b"\xff")], "label value is not valid UTF-8"),
        ([("__name__", "e2e_rw_labels")] + [(f"l{i:02}", "v") for i in range(40)], "41 labels, over the limit of 40"),
        ([("__name__", "e2e_rw_labels"), ("n" * 257, "v")], "is 257 bytes, over the limit of 256"),
        ([("__name__", "e2e_rw_labels"), ("a", "v" * 768)], 'the value of label "a" is 768 bytes, over the limit of 767'),
    ]
    for labels, want in cases:
        status, text = send(server, write_request([good, (labels, [(t, 1.0)])]))
        assert status == 400, (labels, status, text)
        assert text.startswith("series 1 {"), text
        assert want in text, (want, text)
    # The good series of the refused requests were not stored.
    assert server.export("e2e_rw_labels_good") == []
    assert server.export("e2e_rw_labels") == []


def test_out_of_order_and_duplicates_against_stored_samples(server):
    t = now_ms() - 60_000
    a = [("__name__", "e2e_rw_order"), ("job", "a")]
    assert send(server, write_request([(a, [(t, 1.0), (t + 10_000, 2.0)])]))[0] == 204
    other = [("__name__", "e2e_rw_order_other")]
    # Older than the newest stored sample: 400, and the good samples of the
    # request (other series, later samples) are not stored either.
    status, text = send(server, write_request([(other, [(t, 5.0)]), (a, [(t + 5_000, 3.0), (t + 20_000, 4.0)])]))
    assert status == 400, text
    assert text.startswith("out of order sample: series 1 {__name__=\"e2e_rw_order\", job=\"a\"}"), text
    assert f"timestamp {t + 5_000} is older than the series' newest stored sample at {t + 10_000}" in text, text
    # Same timestamp, another value: duplicate.
    status, text = send(server, write_request([(other, [(t, 5.0)]), (a, [(t + 10_000, 7.0)])]))
    assert status == 400, text
    assert text.startswith("duplicate sample for timestamp: series 1"), text
    assert "already stored with value 2" in text and "this sample has 7" in text, text
    # (The series may be known, resolved before the check, but has no points.)
    assert [s["points"] for s in server.export("e2e_rw_order_other")] in ([], [[]])
    assert points(server, "e2e_rw_order") == {("job:a",): [[t / 1000, 1.0], [(t + 10_000) / 1000, 2.0]]}
    # Same timestamp and same value: accepted, nothing changes; later samples stored.
    status, text = send(server, write_request([(a, [(t + 10_000, 2.0), (t + 20_000, 4.0)])]))
    assert (status, text) == (204, ""), text
    assert points(server, "e2e_rw_order") == {
        ("job:a",): [[t / 1000, 1.0], [(t + 10_000) / 1000, 2.0], [(t + 20_000) / 1000, 4.0]]
    }


def test_conflicts_inside_one_request_are_dropped_first_wins(server):
    t = now_ms() - 60_000
    b = [("__name__", "e2e_rw_inreq")]
    # Out of order and duplicate within the request, the series sent twice:
    # Prometheus 2.42 answers 204 and keeps the first sample of each time.
    body = write_request([(b, [(t + 10_000, 1.0), (t, 2.0), (t + 10_000, 3.0), (t + 20_000, 4.0)]), (b, [(t + 15_000, 5.0), (t + 30_000, 6.0)])])
    status, text = send(server, body)
    assert (status, text) == (204, ""), text
    assert points(server, "e2e_rw_inreq") == {
        (): [[(t + 10_000) / 1000, 1.0], [(t + 20_000) / 1000, 4.0], [(t + 30_000) / 1000, 6.0]]
    }


def test_staleness_markers_are_stored(server):
    t = now_ms() - 30_000
    stale = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
    body = write_request([([("__name__", "e2e_rw_stale")], [(t, 1.0), (t + 1000, stale)])])
    assert send(server, body)[0] == 204
    # NaN (a staleness marker) exports as null.
    assert points(server, "e2e_rw_stale") == {(): [[t / 1000, 1.0], [(t + 1000) / 1000, None]]}
    # Sending the same marker again is an identical duplicate: accepted.
    again = write_request([([("__name__", "e2e_rw_stale")], [(t + 1000, stale)])])
    assert send(server, again)[0] == 204


def test_self_monitoring_counts_points_and_rejections(server):
    t = now_ms() - 30_000
    assert send(server, write_request([([("__name__", "e2e_rw_count")], [(t, 1.0), (t + 1, 2.0)])]))[0] == 204
    assert send(server, raw=b"\xff\xff\xff")[0] == 400
    text = server.get("/metrics").decode()
    lines = [line for line in text.splitlines() if 'endpoint="prom_write"' in line]
    assert any(line.startswith("whippet_intake_points") for line in lines), lines
    assert any(line.startswith("whippet_intake_rejected") and 'reason="bad_snappy"' in line for line in lines), lines
    assert any(line.startswith("whippet_intake_requests") and 'status="204"' in line for line in lines), lines


def test_too_large_bodies_get_413(server):
    # Over the body limit (16 MiB as sent).
    status, text = send(server, raw=b"\0" * (16 * 1024 * 1024 + 1))
    assert (status, text) == (413, "Payload too large: the limit is 16777216 bytes\n"), text
    # A small block announcing more than the decompressed limit (32 MiB):
    # refused before anything is allocated.
    status, text = send(server, raw=varint(32 * 1024 * 1024 + 1) + b"\x00a")
    assert status == 413, text
    assert text.startswith("the request decompresses to 33554433 bytes, over the limit of 33554432 bytes"), text


def test_a_real_prometheus_sends_its_own_metrics(server, tmp_path):
    """Prometheus 2.42 (Debian's `prometheus`) scraping itself and remote
    writing to Whippet with the API key as its basic auth password."""
    import shutil
    import subprocess

    import pytest

    from conftest import free_port

    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: e2e_rw_self
    static_configs:
      - targets: ["127.0.0.1:{port}"]
remote_write:
  - url: {server.url}/api/v1/write
    basic_auth:
      username: prometheus
      password: {server.api_key}
    queue_config:
      batch_send_deadline: 1s
"""
    )
    log = open(tmp_path / "prometheus.log", "w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        series = server.wait_export(
            "up",
            lambda s: any("job:e2e_rw_self" in x["tags"] and len(x["points"]) >= 2 for x in s),
            timeout=60,
        )
        mine = [x for x in series if "job:e2e_rw_self" in x["tags"]]
        assert mine[0]["tags"] == [f"instance:127.0.0.1:{port}", "job:e2e_rw_self"]
        assert all(p[1] == 1.0 for p in mine[0]["points"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert "status=400" not in (tmp_path / "prometheus.log").read_text()


def test_after_a_restart_the_newest_stored_sample_still_orders(tmp_path):
    """The receiver's memory of newest samples is empty after a restart:
    the newest stored timestamp comes from the storage engine, without its
    value, so a later-but-older sample is still refused and a sample at
    exactly that time is accepted (see whippet_prom_write::order)."""
    from conftest import Server

    data = tmp_path / "data"
    t = now_ms() - 60_000
    labels = [("__name__", "e2e_rw_restart")]
    server = Server(data)
    try:
        assert send(server, write_request([(labels, [(t, 1.0), (t + 10_000, 2.0)])]))[0] == 204
    finally:
        assert server.stop() == 0, server.log_text()
    server = Server(data)
    try:
        status, text = send(server, write_request([(labels, [(t + 5_000, 3.0)])]))
        assert status == 400, text
        assert f"older than the series' newest stored sample at {t + 10_000}" in text, text
        assert send(server, write_request([(labels, [(t + 10_000, 2.0), (t + 20_000, 4.0)])]))[0] == 204
        assert points(server, "e2e_rw_restart") == {
            (): [[t / 1000, 1.0], [(t + 10_000) / 1000, 2.0], [(t + 20_000) / 1000, 4.0]]
        }
        # Now remembered with its value: a different value at t + 20 s is a duplicate.
        status, text = send(server, write_request([(labels, [(t + 20_000, 5.0)])]))
        assert status == 400 and text.startswith("duplicate sample for timestamp"), text
    finally:
        assert server.stop() == 0, server.log_text()
