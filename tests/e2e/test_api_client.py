"""datadog-api-client (the generated OpenAPI client) against Whippet: every
intake call it makes for metrics, distributions, service checks, events and
key validation, then the stored data read back through the export API."""

import time

import pytest
from conftest import api_client as client
from datadog_api_client.v1.api.authentication_api import AuthenticationApi
from datadog_api_client.v1.api.events_api import EventsApi as EventsV1
from datadog_api_client.v1.api.metrics_api import MetricsApi as MetricsV1
from datadog_api_client.v1.api.service_checks_api import ServiceChecksApi
from datadog_api_client.v1.model.distribution_point import DistributionPoint
from datadog_api_client.v1.model.distribution_points_payload import DistributionPointsPayload
from datadog_api_client.v1.model.distribution_points_series import DistributionPointsSeries
from datadog_api_client.v1.model.event_create_request import EventCreateRequest as EventV1
from datadog_api_client.v1.model.service_check import ServiceCheck
from datadog_api_client.v1.model.service_check_status import ServiceCheckStatus
from datadog_api_client.v1.model.service_checks import ServiceChecks
from datadog_api_client.v2.api.events_api import EventsApi as EventsV2
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.event_category import EventCategory
from datadog_api_client.v2.model.event_create_request import EventCreateRequest
from datadog_api_client.v2.model.event_create_request_payload import EventCreateRequestPayload
from datadog_api_client.v2.model.event_payload import EventPayload
from datadog_api_client.v2.model.event_create_request_type import EventCreateRequestType
from datadog_api_client.v2.model.change_event_custom_attributes import ChangeEventCustomAttributes
from datadog_api_client.v2.model.change_event_custom_attributes_changed_resource import (
    ChangeEventCustomAttributesChangedResource,
)
from datadog_api_client.v2.model.change_event_custom_attributes_changed_resource_type import (
    ChangeEventCustomAttributesChangedResourceType,
)
from datadog_api_client.v2.model.metric_content_encoding import MetricContentEncoding
from datadog_api_client.v2.model.metric_intake_type import MetricIntakeType
from datadog_api_client.v2.model.metric_payload import MetricPayload
from datadog_api_client.v2.model.metric_point import MetricPoint
from datadog_api_client.v2.model.metric_resource import MetricResource
from datadog_api_client.v2.model.metric_series import MetricSeries


def test_validate(server):
    with client(server) as c:
        assert AuthenticationApi(c).validate().valid is True


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate", "zstd1"])
def test_submit_metrics_v2_in_every_encoding(server, encoding):
    now = int(time.time())
    metric = f"e2e.v2.{encoding or 'plain'}"
    body = MetricPayload(
        series=[
            MetricSeries(
                metric=metric,
                type=MetricIntakeType.GAUGE,
                points=[MetricPoint(timestamp=now - 20, value=1.5), MetricPoint(timestamp=now - 10, value=2.25)],
                resources=[MetricResource(name="web-1", type="host")],
                tags=["env:e2e", "team:core"],
            ),
            MetricSeries(
                metric=metric + ".count",
                type=MetricIntakeType.COUNT,
                interval=10,
                points=[MetricPoint(timestamp=now - 10, value=7.0)],
                tags=["env:e2e"],
            ),
        ]
    )
    kw = {} if encoding is None else {"content_encoding": MetricContentEncoding(encoding)}
    with client(server) as c:
        resp = MetricsApi(c).submit_metrics(body=body, **kw)
    assert resp.errors == []
    [s] = server.export(metric)
    assert s["type"] == "gauge"
    assert sorted(s["tags"]) == ["env:e2e", "host:web-1", "team:core"]
    assert s["points"] == [[now - 20, 1.5], [now - 10, 2.25]]
    [c] = server.export(metric + ".count")
    assert (c["type"], c["interval"], c["points"]) == ("count", 10, [[now - 10, 7.0]])


def test_distribution_points(server):
    now = int(time.time())
    body = DistributionPointsPayload(
        series=[
            DistributionPointsSeries(
                metric="e2e.dist.apiclient",
                points=[DistributionPoint([float(now - 10), [1.0, 2.0, 3.0, 100.0]])],
                tags=["env:e2e"],
                host="web-2",
            )
        ]
    )
    with client(server) as c:
        MetricsV1(c).submit_distribution_points(body=body)
    [s] = server.export("e2e.dist.apiclient")
    assert s["type"] == "distribution"
    assert sorted(s["tags"]) == ["env:e2e", "host:web-2"]
    [[ts, sk]] = s["sketches"]
    assert ts == now - 10
    assert (sk["count"], sk["sum"], sk["min"], sk["max"]) == (4, 106.0, 1.0, 100.0)


def test_service_check(server):
    now = int(time.time())
    body = ServiceChecks(
        [ServiceCheck(check="e2e.app.ok", host_name="web-3", status=ServiceCheckStatus.WARNING, tags=["env:e2e"], timestamp=now - 5, message="slow")]
    )
    with client(server) as c:
        ServiceChecksApi(c).submit_service_check(body=body)
    [s] = server.export("service_check.status", scope="check:e2e.app.ok")
    assert sorted(s["tags"]) == ["check:e2e.app.ok", "env:e2e", "host:web-3"]
    assert s["points"] == [[now - 5, 1.0]]


def test_events_v1_and_v2_are_stored_and_listed(server):
    now = int(time.time())
    with client(server) as c:
        created = EventsV1(c).create_event(body=EventV1(title="e2e deploy", text="deployed v1.2", tags=["env:e2e"]))
        assert created.status == "ok"
        v2 = EventsV2(c).create_event(
            body=EventCreateRequestPayload(
                data=EventCreateRequest(
                    type=EventCreateRequestType.EVENT,
                    attributes=EventPayload(
                        category=EventCategory.CHANGE,
                        title="e2e flag flipped",
                        message="new checkout on",
                        tags=["env:e2e"],
                        attributes=ChangeEventCustomAttributes(
                            changed_resource=ChangeEventCustomAttributesChangedResource(
                                name="new_checkout", type=ChangeEventCustomAttributesChangedResourceType.FEATURE_FLAG
                            )
                        ),
                    ),
                )
            )
        )
        assert v2 is not None
        listed = EventsV1(c).list_events(start=now - 3600, end=now + 3600, tags="env:e2e")
    titles = sorted(e.title for e in listed.events)
    assert titles == ["e2e deploy", "e2e flag flipped"]
    with client(server) as c:
        one = EventsV1(c).get_event(event_id=created.event.id)
    assert one.event.text == "deployed v1.2"
