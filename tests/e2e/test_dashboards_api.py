"""Dashboards through datadog-api-client's DashboardsApi (v1): create, get,
list (paging, filters), update, delete, bulk delete and restore; a dashboard
exported from Datadog (fixtures/dashboard_export.json) imports and reads
back unchanged; bad bodies are 400s that name the problem, unknown ids
404s, and another org sees nothing. The built-in "Whippet internals"
dashboard is listed in every org, read-only, parses in the client, and each
of its queries runs on /api/v1/query and shows Whippet's own metrics."""

import copy
import json
import re
import tempfile
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

import pytest
import requests
from conftest import Server
from conftest import api_client as client
from datadog_api_client.exceptions import ForbiddenException, NotFoundException
from datadog_api_client.v1.api.dashboards_api import DashboardsApi
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.dashboard_bulk_action_data import DashboardBulkActionData
from datadog_api_client.v1.model.dashboard_bulk_action_data_list import DashboardBulkActionDataList
from datadog_api_client.v1.model.dashboard_bulk_delete_request import DashboardBulkDeleteRequest
from datadog_api_client.v1.model.dashboard_layout_type import DashboardLayoutType
from datadog_api_client.v1.model.dashboard_resource_type import DashboardResourceType
from datadog_api_client.v1.model.dashboard_restore_request import DashboardRestoreRequest
from datadog_api_client.v1.model.dashboard_template_variable import DashboardTemplateVariable
from datadog_api_client.v1.model.heat_map_widget_definition import HeatMapWidgetDefinition
from datadog_api_client.v1.model.heat_map_widget_definition_type import HeatMapWidgetDefinitionType
from datadog_api_client.v1.model.heat_map_widget_request import HeatMapWidgetRequest
from datadog_api_client.v1.model.note_widget_definition import NoteWidgetDefinition
from datadog_api_client.v1.model.note_widget_definition_type import NoteWidgetDefinitionType
from datadog_api_client.v1.model.query_value_widget_definition import QueryValueWidgetDefinition
from datadog_api_client.v1.model.query_value_widget_definition_type import QueryValueWidgetDefinitionType
from datadog_api_client.v1.model.query_value_widget_request import QueryValueWidgetRequest
from datadog_api_client.v1.model.timeseries_widget_definition import TimeseriesWidgetDefinition
from datadog_api_client.v1.model.timeseries_widget_definition_type import TimeseriesWidgetDefinitionType
from datadog_api_client.v1.model.timeseries_widget_request import TimeseriesWidgetRequest
from datadog_api_client.v1.model.toplist_widget_definition import ToplistWidgetDefinition
from datadog_api_client.v1.model.toplist_widget_definition_type import ToplistWidgetDefinitionType
from datadog_api_client.v1.model.toplist_widget_request import ToplistWidgetRequest
from datadog_api_client.v1.model.widget import Widget
from datadog_api_client.v1.model.widget_aggregator import WidgetAggregator
from datadog_api_client.v1.model.widget_display_type import WidgetDisplayType

FIXTURES = Path(__file__).resolve().parent / "fixtures"
INTERNALS = "wpt-int-dsh"
ID_FORM = re.compile(r"^[a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3}$")
# What the server writes on every answer; everything else comes back as given.
SERVER_FIELDS = {"id", "url", "author_handle", "author_name", "created_at", "modified_at"}
JSON = {"Content-Type": "application/json"}


def errors_of(exc_or_body):
    body = getattr(exc_or_body, "body", exc_or_body)
    return (json.loads(body) if isinstance(body, (str, bytes)) else body)["errors"]


def raw(server, method, path, body=None, keys=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    status, out = server.request(method, path, data, JSON, keys=keys)
    return status, (json.loads(out) if out else None)


def second_org(server, name):
    out = server.cli("orgs", "create", name)
    return (
        re.search(r"API key:\s+(\S+)", out).group(1),
        re.search(r"Application key:\s+(\S+)", out).group(1),
    )


def service_dashboard(title="e2e service overview"):
    return Dashboard(
        title=title,
        description="made by the e2e test",
        layout_type=DashboardLayoutType.ORDERED,
        tags=["team:core"],
        template_variables=[
            DashboardTemplateVariable(name="host", prefix="host", available_values=[], default="*"),
            DashboardTemplateVariable(name="env", prefix="env", available_values=["prod"], default="prod"),
        ],
        widgets=[
            Widget(
                definition=TimeseriesWidgetDefinition(
                    title="CPU by host",
                    type=TimeseriesWidgetDefinitionType.TIMESERIES,
                    requests=[
                        TimeseriesWidgetRequest(q="avg:system.cpu.user{$host,$env} by {host}", display_type=WidgetDisplayType.LINE)
                    ],
                )
            ),
            Widget(
                definition=QueryValueWidgetDefinition(
                    title="Load",
                    type=QueryValueWidgetDefinitionType.QUERY_VALUE,
                    precision=2,
                    requests=[QueryValueWidgetRequest(q="avg:system.load.1{$env}", aggregator=WidgetAggregator.AVERAGE)],
                )
            ),
            Widget(
                definition=ToplistWidgetDefinition(
                    title="Top hosts",
                    type=ToplistWidgetDefinitionType.TOPLIST,
                    requests=[ToplistWidgetRequest(q="top(avg:system.cpu.user{*} by {host}, 10, 'mean', 'desc')")],
                )
            ),
            Widget(
                definition=HeatMapWidgetDefinition(
                    title="Latency",
                    type=HeatMapWidgetDefinitionType.HEATMAP,
                    requests=[HeatMapWidgetRequest(q="avg:request.latency{*} by {host}")],
                )
            ),
            Widget(definition=NoteWidgetDefinition(content="**hello**", type=NoteWidgetDefinitionType.NOTE)),
        ],
    )


def widget_ids(widgets):
    out = []
    for w in widgets:
        out.append(w["id"])
        out.extend(widget_ids(w["definition"].get("widgets", [])))
    return out


def test_crud_through_the_client(server):
    with client(server) as c:
        api = DashboardsApi(c)
        before = time.time()
        d = api.create_dashboard(body=service_dashboard())
        assert ID_FORM.match(d.id), d.id
        assert d.id != INTERNALS
        assert d.url == f"/dashboard/{d.id}/e2e-service-overview"
        assert d.title == "e2e service overview" and d.layout_type == DashboardLayoutType.ORDERED
        assert d.author_handle and d.is_read_only is False
        assert isinstance(d.created_at, datetime) and d.created_at == d.modified_at
        assert abs(d.created_at.timestamp() - before) < 60
        assert [t.name for t in d.template_variables] == ["host", "env"]
        types = [type(w.definition.get_oneof_instance()).__name__ for w in d.widgets]
        assert types == [
            "TimeseriesWidgetDefinition",
            "QueryValueWidgetDefinition",
            "ToplistWidgetDefinition",
            "HeatMapWidgetDefinition",
            "NoteWidgetDefinition",
        ]
        ids = [w.id for w in d.widgets]
        assert all(isinstance(i, int) and i > 0 for i in ids) and len(set(ids)) == 5, ids
        assert not d._unparsed

        got = api.get_dashboard(d.id)
        assert got.to_dict() == d.to_dict()

        listed = api.list_dashboards().dashboards
        assert listed[0].id == INTERNALS
        mine = next(s for s in listed if s.id == d.id)
        assert (mine.title, mine.url, mine.is_read_only, mine.description) == (
            d.title,
            d.url,
            False,
            "made by the e2e test",
        )

        # PUT replaces the whole definition; widgets sent back with their
        # ids keep them, new widgets get new ones.
        time.sleep(0.01)
        body = api.get_dashboard(d.id)
        body.title = "e2e service overview v2"
        body.widgets = body.widgets[:2] + [
            Widget(definition=NoteWidgetDefinition(content="new", type=NoteWidgetDefinitionType.NOTE))
        ]
        body.description = None
        up = api.update_dashboard(d.id, body=body)
        assert up.id == d.id and up.title == "e2e service overview v2"
        assert up.url == f"/dashboard/{d.id}/e2e-service-overview-v2"
        assert [w.id for w in up.widgets[:2]] == ids[:2]
        assert up.widgets[2].id not in ids[:2]
        assert up.description is None
        assert up.created_at == d.created_at and up.modified_at > d.modified_at
        assert api.get_dashboard(d.id).to_dict() == up.to_dict()

        assert api.delete_dashboard(d.id).deleted_dashboard_id == d.id
        with pytest.raises(NotFoundException) as e:
            api.get_dashboard(d.id)
        assert errors_of(e.value) == [f"Dashboard with ID {d.id} not found"]
        with pytest.raises(NotFoundException):
            api.delete_dashboard(d.id)
        with pytest.raises(NotFoundException):
            api.update_dashboard(d.id, body=service_dashboard())
        assert d.id not in [s.id for s in api.list_dashboards().dashboards]


def test_an_exported_dashboard_imports_and_reads_back_unchanged(server):
    export = json.loads((FIXTURES / "dashboard_export.json").read_text())
    status, created = raw(server, "POST", "/api/v1/dashboard", export)
    assert status == 200, created
    # The export's own id, url, author and times are Datadog's; Whippet
    # writes its own.
    assert ID_FORM.match(created["id"]) and created["id"] != export["id"]
    assert created["url"] == f"/dashboard/{created['id']}/checkout-service-prod"
    status, got = raw(server, "GET", f"/api/v1/dashboard/{created['id']}")
    assert status == 200
    assert got == created
    for key, value in export.items():
        if key not in SERVER_FIELDS:
            assert got[key] == value, key
    assert widget_ids(got["widgets"]) == widget_ids(export["widgets"])

    # The client reads every widget, the group's too, as its own type.
    with client(server) as c:
        d = DashboardsApi(c).get_dashboard(created["id"])
    assert not d._unparsed
    assert [type(w.definition.get_oneof_instance()).__name__ for w in d.widgets] == [
        "NoteWidgetDefinition",
        "TimeseriesWidgetDefinition",
        "TimeseriesWidgetDefinition",
        "QueryValueWidgetDefinition",
        "ToplistWidgetDefinition",
        "GroupWidgetDefinition",
    ]
    group = d.widgets[5].definition.get_oneof_instance()
    assert [type(w.definition.get_oneof_instance()).__name__ for w in group.widgets] == [
        "HeatMapWidgetDefinition",
        "QueryValueWidgetDefinition",
    ]

    # Putting back what was read changes nothing but modified_at.
    status, again = raw(server, "PUT", f"/api/v1/dashboard/{created['id']}", got)
    assert status == 200, again
    assert {k: v for k, v in again.items() if k != "modified_at"} == {k: v for k, v in got.items() if k != "modified_at"}

    # Widgets without ids get new ones, in order, after the largest given
    # (here the group's inner widgets keep theirs).
    stripped = copy.deepcopy(export)
    for w in stripped["widgets"]:
        del w["id"]
    status, fresh = raw(server, "POST", "/api/v1/dashboard", stripped)
    assert status == 200, fresh
    inner = [w["id"] for w in export["widgets"][5]["definition"]["widgets"]]
    assert [w["id"] for w in fresh["widgets"]] == [max(inner) + i for i in range(1, 7)]
    assert [w["id"] for w in fresh["widgets"][5]["definition"]["widgets"]] == inner


def test_unknown_widget_types_and_fields_are_stored_as_given(server):
    body = {
        "title": "odd",
        "layout_type": "free",
        "x_future_field": {"a": [1, 2.5, None]},
        "widgets": [
            {
                "definition": {"type": "sankey_of_the_future", "requests": [{"anything": {"goes": True}}]},
                "layout": {"x": 0, "y": 0, "width": 4, "height": 2},
            },
            {
                "definition": {"type": "image", "url": "https://example.com/a.png", "sizing": "cover"},
                "layout": {"x": 4, "y": 0, "width": 2, "height": 2, "is_column_break": False},
            },
        ],
    }
    status, d = raw(server, "POST", "/api/v1/dashboard", body)
    assert status == 200, d
    assert d["x_future_field"] == body["x_future_field"]
    for got, given in zip(d["widgets"], body["widgets"]):
        assert (got["definition"], got["layout"]) == (given["definition"], given["layout"])
    # The client still reads it (the unknown widget stays unparsed).
    with client(server) as c:
        back = DashboardsApi(c).get_dashboard(d["id"])
    assert back.id == d["id"] and back.widgets[1].definition.get_oneof_instance().url == "https://example.com/a.png"


BASE = {"title": "t", "layout_type": "ordered", "widgets": []}


def without(key):
    return {k: v for k, v in BASE.items() if k != key}


@pytest.mark.parametrize(
    "body,message",
    [
        (without("title"), "Invalid dashboard: 'title' is a required property"),
        ({**BASE, "title": ""}, "Invalid dashboard: 'title' must not be empty"),
        (without("layout_type"), "Invalid dashboard: 'layout_type' is a required property"),
        ({**BASE, "layout_type": "grid"}, "Invalid dashboard: 'layout_type' must be one of 'ordered', 'free', got \"grid\""),
        ({**BASE, "reflow_type": "auto", "layout_type": "free"}, "Invalid dashboard: 'reflow_type' is only for the 'ordered' layout"),
        (without("widgets"), "Invalid dashboard: 'widgets' is a required property"),
        ({**BASE, "widgets": {"type": "note"}}, "Invalid dashboard: 'widgets' must be a list"),
        ({**BASE, "widgets": [{"layout": {"x": 0, "y": 0, "width": 1, "height": 1}}]}, "Invalid widget widgets[0]: 'definition' is a required property"),
        ({**BASE, "widgets": [{"definition": {"title": "no type"}}]}, "Invalid widget widgets[0]: 'type' is a required property of its definition"),
        (
            {**BASE, "widgets": [{"definition": {"type": "note"}, "layout": {"x": -1, "y": 0, "width": 1, "height": 1}}]},
            "Invalid widget widgets[0]: 'x' of its layout must be a non-negative integer",
        ),
        (
            {**BASE, "layout_type": "free", "widgets": [{"definition": {"type": "note", "content": "x"}}]},
            "Invalid widget widgets[0]: 'layout' is a required property on this dashboard (layout_type 'free', or reflow_type 'fixed')",
        ),
        (
            {**BASE, "widgets": [{"id": 3, "definition": {"type": "note"}}, {"id": 3, "definition": {"type": "note"}}]},
            "Invalid widget widgets[1]: id 3 is used by another widget",
        ),
        ({**BASE, "template_variables": [{"prefix": "host"}]}, "Invalid template variable template_variables[0]: 'name' is a required property"),
        ({**BASE, "tags": ["a", "b", "c", "d", "e", "f"]}, "Invalid dashboard: 'tags' takes at most 5 tags, got 6"),
        ([BASE], "Invalid dashboard: the body must be a JSON object"),
    ],
)
def test_bad_bodies_are_400s_that_name_the_problem(server, body, message):
    for method, path in (("POST", "/api/v1/dashboard"), ("PUT", f"/api/v1/dashboard/{existing_id(server)}")):
        status, out = raw(server, method, path, body)
        assert (status, out) == (400, {"errors": [message]}), (method, out)


_existing = {}


def existing_id(server):
    """One dashboard the PUT cases aim at (made once per server)."""
    if server.url not in _existing:
        status, d = raw(server, "POST", "/api/v1/dashboard", {**BASE, "title": "target of bad PUTs"})
        assert status == 200, d
        _existing[server.url] = d["id"]
    return _existing[server.url]


def test_no_body_bad_json_unknown_ids_and_keys(server):
    assert raw(server, "POST", "/api/v1/dashboard", b"")[0] == 400
    status, out = raw(server, "POST", "/api/v1/dashboard", b"{not json")
    assert status == 400 and out["errors"][0].startswith("Invalid JSON in the request body"), out
    for bad_id in ("abc-def-ghi", "not-an-id-at-all", "ABC-DEF-GHI"):
        for method, body in (("GET", None), ("PUT", BASE), ("DELETE", None)):
            status, out = raw(server, method, f"/api/v1/dashboard/{urllib.parse.quote(bad_id)}", body)
            assert (status, out) == (404, {"errors": [f"Dashboard with ID {bad_id} not found"]}), (method, bad_id)
    status, out = raw(server, "GET", "/api/v1/dashboard", keys=("", ""))
    assert (status, out) == (403, {"errors": ["API key required"]})
    status, _ = raw(server, "POST", "/api/v1/dashboard", BASE, keys=(server.api_key, "wrong"))
    assert status == 403


def test_another_org_sees_none_of_the_first_orgs_dashboards(server):
    keys_b = second_org(server, "e2e-dash-second")
    status, a = raw(server, "POST", "/api/v1/dashboard", {**BASE, "title": "org a only"})
    assert status == 200
    status, listing = raw(server, "GET", "/api/v1/dashboard", keys=keys_b)
    assert [d["id"] for d in listing["dashboards"]] == [INTERNALS]
    for method, body in (("GET", None), ("PUT", BASE), ("DELETE", None)):
        status, out = raw(server, method, f"/api/v1/dashboard/{a['id']}", body, keys=keys_b)
        assert (status, out) == (404, {"errors": [f"Dashboard with ID {a['id']} not found"]}), method
    status, out = raw(server, "DELETE", "/api/v1/dashboard", {"data": [{"id": a["id"], "type": "dashboard"}]}, keys=keys_b)
    assert status == 404, out
    assert raw(server, "GET", f"/api/v1/dashboard/{a['id']}")[0] == 200


def test_listing_pages_and_filters(fresh_server):
    server = fresh_server
    created = [raw(server, "POST", "/api/v1/dashboard", {**BASE, "title": f"page {i}"})[1] for i in range(4)]
    # The listing is ordered by creation time, then by id: two dashboards
    # made in the same millisecond are listed in their ids' order.
    made = [d["id"] for d in sorted(created, key=lambda d: (d["created_at"], d["id"]))]
    with client(server) as c:
        api = DashboardsApi(c)
        assert [d.id for d in api.list_dashboards().dashboards] == [INTERNALS] + made
        assert [d.id for d in api.list_dashboards(count=2).dashboards] == [INTERNALS, made[0]]
        assert [d.id for d in api.list_dashboards(start=2, count=2).dashboards] == made[1:3]
        assert [d.id for d in api.list_dashboards(start=10).dashboards] == []
        assert api.list_dashboards(filter_shared=True).dashboards == []
        assert api.list_dashboards(filter_deleted=True).dashboards == []
        assert len(api.list_dashboards(filter_shared=False, filter_deleted=False).dashboards) == 5
    for bad in ("count=-1", "start=x", "filter%5Bshared%5D=yes"):
        status, out = raw(server, "GET", f"/api/v1/dashboard?{bad}")
        assert status == 400, (bad, out)


def bulk(ids):
    return DashboardBulkActionDataList([DashboardBulkActionData(id=i, type=DashboardResourceType.DASHBOARD) for i in ids])


def test_bulk_delete_is_all_or_nothing_and_restore_finds_nothing(server):
    ids = [raw(server, "POST", "/api/v1/dashboard", {**BASE, "title": f"bulk {i}"})[1]["id"] for i in range(3)]
    with client(server) as c:
        api = DashboardsApi(c)
        with pytest.raises(NotFoundException) as e:
            api.delete_dashboards(body=DashboardBulkDeleteRequest(data=bulk([ids[0], "zzz-zzz-zz9"])))
        assert errors_of(e.value) == ["Dashboards with IDs zzz-zzz-zz9 not found"]
        assert api.get_dashboard(ids[0]).id == ids[0], "nothing was deleted"
        api.delete_dashboards(body=DashboardBulkDeleteRequest(data=bulk(ids[:2])))
        listed = [d.id for d in api.list_dashboards().dashboards]
        assert ids[0] not in listed and ids[1] not in listed and ids[2] in listed
        with pytest.raises(NotFoundException) as e:
            api.restore_dashboards(body=DashboardRestoreRequest(data=bulk(ids[:1])))
        assert "nothing to restore" in errors_of(e.value)[0]
        api.restore_dashboards(body=DashboardRestoreRequest(data=bulk(ids[2:])))
        with pytest.raises(ForbiddenException):
            api.delete_dashboards(body=DashboardBulkDeleteRequest(data=bulk([ids[2], INTERNALS])))
        assert api.get_dashboard(ids[2]).id == ids[2]
    for body in ({}, {"data": []}, {"data": [{"id": ids[2], "type": "monitor"}]}, {"data": [{"type": "dashboard"}]}):
        status, out = raw(server, "DELETE", "/api/v1/dashboard", body)
        assert status == 400, (body, out)


def internals_queries(d):
    out = []

    def walk(widgets):
        for w in widgets:
            for r in w["definition"].get("requests", []):
                if "q" in r:
                    out.append(r["q"])
            walk(w["definition"].get("widgets", []))

    walk(d["widgets"])
    return out


def test_the_internals_dashboard_is_built_in_read_only_and_every_query_runs(server):
    keys_b = second_org(server, "e2e-dash-internals")
    for keys in (None, keys_b):
        status, listing = raw(server, "GET", "/api/v1/dashboard", keys=keys)
        first = listing["dashboards"][0]
        assert (first["id"], first["title"], first["is_read_only"]) == (INTERNALS, "Whippet internals", True)

    with client(server) as c:
        api = DashboardsApi(c)
        d = api.get_dashboard(INTERNALS)
        assert d.is_read_only is True and not d._unparsed
        kinds = {type(w.definition.get_oneof_instance()).__name__ for w in d.widgets}
        assert {"NoteWidgetDefinition", "TimeseriesWidgetDefinition", "QueryValueWidgetDefinition", "ToplistWidgetDefinition", "GroupWidgetDefinition"} <= kinds
        with pytest.raises(ForbiddenException) as e:
            api.update_dashboard(INTERNALS, body=service_dashboard())
        assert "read-only" in errors_of(e.value)[0]
        with pytest.raises(ForbiddenException) as e:
            api.delete_dashboard(INTERNALS)
        assert "clone it" in errors_of(e.value)[0]
        # A clone is an ordinary dashboard.
        status, body = raw(server, "GET", f"/api/v1/dashboard/{INTERNALS}")
        clone = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
        clone.update(title="My internals", is_read_only=False)
        status, mine = raw(server, "POST", "/api/v1/dashboard", clone)
        assert status == 200 and mine["widgets"] == body["widgets"], mine
        assert raw(server, "DELETE", f"/api/v1/dashboard/{mine['id']}")[0] == 200

    # Push a little so the intake counters move, then wait for
    # self-monitoring (every second here) to write them.
    now = int(time.time())
    series = {"series": [{"metric": "e2e.dash.internals", "points": [[now, 1.0]], "tags": ["a:b"]}]}
    assert server.request("POST", "/api/v1/series", json.dumps(series).encode(), JSON)[0] == 202
    empty = {"series": [{"metric": "e2e.dash.internals", "points": []}]}
    server.request("POST", "/api/v1/series", json.dumps(empty).encode(), JSON)

    queries = internals_queries(body)
    assert len(queries) >= 15
    deadline = time.time() + 30
    while True:
        now = int(time.time())
        results = {}
        for q in queries:
            params = urllib.parse.urlencode({"from": now - 600, "to": now + 60, "query": q})
            status, out = raw(server, "GET", f"/api/v1/query?{params}")
            assert status == 200 and out["status"] == "ok", (q, out)
            results[q] = out["series"]
        points = results["sum:whippet.intake.points{*} by {endpoint}.as_count()"]
        scopes = {s["scope"] for s in points}
        stored = sum(p[1] for s in points if s["scope"] == "endpoint:series_v1" for p in s["pointlist"] if p[1])
        if "endpoint:series_v1" in scopes and stored >= 1 and results["avg:whippet.storage.series{*}"]:
            break
        assert time.time() < deadline, f"self-monitoring never showed up: {results}"
        time.sleep(0.5)
    # The storage gauges and the latency ratio have values too.
    for q in ("avg:whippet.storage.series{*}", "avg:whippet.storage.wal.bytes{*}"):
        assert any(p[1] is not None and p[1] > 0 for s in results[q] for p in s["pointlist"]), q
    ratio = "sum:whippet.intake.request.seconds{*} by {endpoint}.as_count() / sum:whippet.intake.requests{*} by {endpoint}.as_count()"
    assert any(s["scope"] == "endpoint:series_v1" for s in results[ratio]), results[ratio]


def test_signed_in_users_author_dashboards_and_read_only_users_cannot_change_them():
    password = "e2e-dash-admin-1"
    ui = {"X-Whippet-UI": "1"}
    with tempfile.TemporaryDirectory(prefix="whippet-e2e-") as d:
        server = Server(Path(d) / "data", extra_env={"WHIPPET_ADMIN_PASSWORD": password})
        try:
            adm = requests.Session()
            r = adm.post(f"{server.url}/api/ui/login", json={"email": "admin@localhost", "password": password})
            assert r.status_code == 200, r.text
            r = adm.post(f"{server.url}/api/v1/dashboard", json={**BASE, "title": "by the admin"}, headers=ui)
            assert r.status_code == 200, r.text
            made = r.json()
            assert made["author_handle"] == "admin@localhost"
            listed = adm.get(f"{server.url}/api/v1/dashboard").json()["dashboards"]
            assert [x["author_handle"] for x in listed] == ["whippet", "admin@localhost"]
            # With keys, the author is the keys' stand-in.
            status, by_keys = raw(server, "POST", "/api/v1/dashboard", {**BASE, "title": "by keys"})
            assert (status, by_keys["author_handle"]) == (200, "api-key")

            r = adm.post(
                f"{server.url}/api/ui/users",
                json={"email": "viewer@example.com", "name": "Viewer", "role": "read_only", "password": "password-123"},
                headers=ui,
            )
            assert r.status_code == 201, r.text
            viewer = requests.Session()
            assert viewer.post(f"{server.url}/api/ui/login", json={"email": "viewer@example.com", "password": "password-123"}).status_code == 200
            url = f"{server.url}/api/v1/dashboard/{made['id']}"
            assert viewer.get(url).json()["title"] == "by the admin"
            for method, path, body in (
                ("POST", "/api/v1/dashboard", BASE),
                ("PUT", f"/api/v1/dashboard/{made['id']}", BASE),
                ("DELETE", f"/api/v1/dashboard/{made['id']}", None),
            ):
                r = viewer.request(method, f"{server.url}{path}", json=body, headers=ui)
                assert r.status_code == 403, (method, r.text)
            assert viewer.get(url).json() == adm.get(url).json()
        finally:
            server.stop()
