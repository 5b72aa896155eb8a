"""The monitor API through datadog-api-client's MonitorsApi: create, get
(with group_states), list with filters, update, validate, delete, and the
400s Datadog gives for bad definitions."""

import json

import pytest
from conftest import api_client as client
from datadog_api_client.exceptions import ApiException, NotFoundException
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_options import MonitorOptions
from datadog_api_client.v1.model.monitor_thresholds import MonitorThresholds
from datadog_api_client.v1.model.monitor_type import MonitorType
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest


def cpu_monitor(name, threshold=90.0, **thresholds):
    return Monitor(
        name=name,
        type=MonitorType("metric alert"),
        query=f"avg(last_5m):avg:system.cpu.user{{env:prod}} by {{host}} > {threshold:g}",
        message="CPU is high on {{host.name}} @webhook-ops",
        tags=["team:core", "env:prod"],
        priority=2,
        options=MonitorOptions(
            thresholds=MonitorThresholds(critical=threshold, **thresholds),
            notify_no_data=True,
            no_data_timeframe=10,
            new_group_delay=60,
        ),
    )


def test_monitor_crud_through_the_client(server):
    with client(server) as c:
        api = MonitorsApi(c)
        created = api.create_monitor(body=cpu_monitor("e2e high cpu", warning=80.0))
        mid = created.id
        assert mid > 0
        assert created.name == "e2e high cpu"
        assert str(created.overall_state) == "No Data"
        assert created.multi is True
        assert created.options.thresholds.critical == 90.0
        assert created.options.thresholds.warning == 80.0
        assert created.options.include_tags is True  # a default filled in

        got = api.get_monitor(mid, group_states="all")
        assert got.id == mid and got.query == created.query
        assert got.state.groups == {}

        other = api.create_monitor(body=cpu_monitor("e2e other", 50.0))
        names = [m.name for m in api.list_monitors(name="E2E HIGH")]
        assert names == ["e2e high cpu"]
        tagged = {m.id for m in api.list_monitors(monitor_tags="team:core")}
        assert {mid, other.id} <= tagged
        assert api.list_monitors(monitor_tags="team:nobody") == []
        page = api.list_monitors(page=0, page_size=1, id_offset=mid - 1)
        assert [m.id for m in page] == [mid]

        updated = api.update_monitor(
            mid,
            body=MonitorUpdateRequest(
                query="avg(last_10m):avg:system.cpu.user{env:prod} by {host} > 95",
                options=MonitorOptions(thresholds=MonitorThresholds(critical=95.0)),
            ),
        )
        assert updated.query.endswith("> 95")
        assert updated.name == "e2e high cpu"
        assert api.get_monitor(mid).options.thresholds.critical == 95.0

        assert api.validate_monitor(body=cpu_monitor("ok")) == {}

        assert api.delete_monitor(mid).deleted_monitor_id == mid
        with pytest.raises(NotFoundException) as e:
            api.get_monitor(mid)
        assert e.value.body == {"errors": ["Monitor not found"]}
        api.delete_monitor(other.id)


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"name": "x", "type": "metric alert", "query": "avg(last_5m):avg:m{*} > 2",
             "options": {"thresholds": {"critical": 3}}},
            "Alert threshold (3.0) does not match that used in the query (2.0).",
        ),
        (
            {"name": "x", "type": "metric alert", "query": "avg(last_5m):avg:m{*} > 2",
             "options": {"thresholds": {"warning": 1}}},
            "Alert status is required.",
        ),
        (
            {"name": "x", "type": "metric alert", "query": "avg(last_5m):avg:m{*}"},
            "The value provided for parameter 'query' is invalid: ",
        ),
        (
            {"name": "x", "type": "metric alert", "query": "avg(last_5m):avg:m{*} > 90",
             "options": {"thresholds": {"critical": 90, "warning": 95}}},
            "Warning threshold (95.0)",
        ),
    ],
)
def test_bad_definitions_are_400_with_datadogs_message(server, body, message):
    for path in ["/api/v1/monitor/validate", "/api/v1/monitor"]:
        status, answer = server.request(
            "POST",
            path,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 400, (path, status, answer)
        errors = json.loads(answer)["errors"]
        assert errors and errors[0].startswith(message), errors


def test_bad_group_states_filter_and_missing_keys(server):
    status, body = server.request("GET", "/api/v1/monitor?group_states=loud")
    assert status == 400 and b"Invalid group_state filters." in body
    status, _ = server.request("GET", "/api/v1/monitor", keys=(server.api_key, ""))
    assert status == 403
    with client(server) as c:
        with pytest.raises(ApiException) as e:
            MonitorsApi(c).get_monitor(999999999)
        assert e.value.status == 404
