"""The Agent's protobuf series (`POST /api/v2/series`, `MetricPayload`),
encoded here field by field as the Agent's serializer writes them. The
server remembers what each series resolved to (its series cache): a series
sent again must land on the same series, keep the type it is sent with,
and have bad points rejected as on the first send."""

import json
import struct
import time

from conftest import API_KEY


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_len(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, n):
    return varint(number << 3) + varint(n)


def series(metric, points, mtype=3, interval=0, host="pb-host", tags=("env:e2e",)):
    """A `MetricSeries`: resources (1), metric (2), tags (3), points (4:
    value (1, double), timestamp (2)), type (5), interval (8)."""
    body = field_len(1, field_len(1, b"host") + field_len(2, host.encode()))
    body += field_len(2, metric.encode())
    for t in tags:
        body += field_len(3, t.encode())
    for ts, value in points:
        body += field_len(4, varint(1 << 3 | 1) + struct.pack("<d", value) + field_varint(2, ts))
    body += field_varint(5, mtype)
    if interval:
        body += field_varint(8, interval)
    return field_len(1, body)


def post(server, payload):
    status, body = server.request(
        "POST",
        "/api/v2/series",
        body=payload,
        headers={"Content-Type": "application/x-protobuf", "DD-API-KEY": API_KEY},
    )
    assert status == 202, (status, body)
    return json.loads(body)


def test_protobuf_series_sent_again_land_on_the_same_series(server):
    now = int(time.time()) // 10 * 10
    metric = "e2e.pb.cached"
    other = "e2e.pb.other"
    # First send: the server resolves the series the long way.
    post(server, series(metric, [(now - 60, 1.5), (now - 50, 2.5)]))
    # Second send, same identity bytes: from the cache. A series with a
    # NaN point is skipped whole; the good series of the body is kept.
    post(
        server,
        series(metric, [(now - 40, 3.5)])
        + series(metric, [(now - 30, 9.0), (now - 20, float("nan"))])
        + series(other, [(now - 40, 7.0)]),
    )
    # Another path changes the series' type; the cached path changes it
    # back, as an uncached write would (last write wins).
    status, body = server.request(
        "POST",
        "/api/v1/series",
        body=json.dumps(
            {
                "series": [
                    {
                        "metric": metric,
                        "points": [[now - 10, 4.5]],
                        "type": "count",
                        "interval": 10,
                        "host": "pb-host",
                        "tags": ["env:e2e"],
                    }
                ]
            }
        ).encode(),
        headers={"Content-Type": "application/json", "DD-API-KEY": API_KEY},
    )
    assert status == 202, (status, body)
    post(server, series(metric, [(now, 5.5)]))

    exported = server.export(metric, scope="host:pb-host")
    assert len(exported) == 1, exported
    s = exported[0]
    assert sorted(s["tags"]) == ["env:e2e", "host:pb-host"], s
    assert s["type"] == "gauge", s
    assert s["points"] == [
        [now - 60, 1.5],
        [now - 50, 2.5],
        [now - 40, 3.5],
        [now - 10, 4.5],
        [now, 5.5],
    ], s
    assert [x["points"] for x in server.export(other)] == [[[now - 40, 7.0]]]
