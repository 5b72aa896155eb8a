"""The webhooks integration API through datadog-api-client's
WebhooksIntegrationApi: create, get, update (partial, and a rename),
delete, the 404 for an unknown name and the 400s for bad input."""

import json

import pytest
from conftest import api_client as client
from datadog_api_client.exceptions import ApiException, NotFoundException
from datadog_api_client.v1.api.webhooks_integration_api import WebhooksIntegrationApi
from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration
from datadog_api_client.v1.model.webhooks_integration_encoding import WebhooksIntegrationEncoding
from datadog_api_client.v1.model.webhooks_integration_update_request import WebhooksIntegrationUpdateRequest

PATH = "/api/v1/integration/webhooks/configuration/webhooks"


def test_webhook_crud_through_the_client(server):
    with client(server) as c:
        api = WebhooksIntegrationApi(c)
        created = api.create_webhooks_integration(
            body=WebhooksIntegration(name="e2e-ops", url="http://127.0.0.1:9/hook")
        )
        assert created.name == "e2e-ops"
        assert created.url == "http://127.0.0.1:9/hook"
        # Datadog's defaults.
        assert str(created.encode_as) == "json"
        assert created.payload is None
        assert created.custom_headers is None

        got = api.get_webhooks_integration("e2e-ops")
        assert got.to_dict() == created.to_dict()

        payload = json.dumps({"text": "$EVENT_TITLE", "id": "$ID"})
        headers = json.dumps({"X-Token": "secret"})
        updated = api.update_webhooks_integration(
            "e2e-ops",
            body=WebhooksIntegrationUpdateRequest(
                payload=payload,
                custom_headers=headers,
                encode_as=WebhooksIntegrationEncoding("form"),
            ),
        )
        assert updated.url == "http://127.0.0.1:9/hook"  # untouched
        assert updated.payload == payload
        assert updated.custom_headers == headers
        assert str(updated.encode_as) == "form"
        assert api.get_webhooks_integration("e2e-ops").to_dict() == updated.to_dict()

        renamed = api.update_webhooks_integration(
            "e2e-ops", body=WebhooksIntegrationUpdateRequest(name="e2e-ops-2", url="http://127.0.0.1:9/other")
        )
        assert renamed.name == "e2e-ops-2" and renamed.payload == payload
        with pytest.raises(NotFoundException):
            api.get_webhooks_integration("e2e-ops")

        api.delete_webhooks_integration("e2e-ops-2")
        with pytest.raises(NotFoundException) as e:
            api.get_webhooks_integration("e2e-ops-2")
        assert e.value.body == {"errors": ["Webhook e2e-ops-2 not found"]}


def test_payload_null_goes_back_to_the_default(server):
    with client(server) as c:
        api = WebhooksIntegrationApi(c)
        api.create_webhooks_integration(
            body=WebhooksIntegration(name="e2e-default", url="http://127.0.0.1:9/", payload="{}")
        )
        status, body = server.request(
            "PUT",
            f"{PATH}/e2e-default",
            body=json.dumps({"payload": None, "custom_headers": None}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, body
        assert json.loads(body)["payload"] is None
        api.delete_webhooks_integration("e2e-default")


def test_unknown_webhook_is_404_everywhere(server):
    with client(server) as c:
        api = WebhooksIntegrationApi(c)
        for call in [
            lambda: api.get_webhooks_integration("e2e-nope"),
            lambda: api.delete_webhooks_integration("e2e-nope"),
            lambda: api.update_webhooks_integration(
                "e2e-nope", body=WebhooksIntegrationUpdateRequest(url="http://127.0.0.1:9/")
            ),
        ]:
            with pytest.raises(NotFoundException) as e:
                call()
            assert e.value.body == {"errors": ["Webhook e2e-nope not found"]}


def test_existing_name_is_a_conflict(server):
    with client(server) as c:
        api = WebhooksIntegrationApi(c)
        body = WebhooksIntegration(name="e2e-twice", url="http://127.0.0.1:9/")
        api.create_webhooks_integration(body=body)
        with pytest.raises(ApiException) as e:
            api.create_webhooks_integration(body=body)
        assert e.value.status == 409
        api.delete_webhooks_integration("e2e-twice")


@pytest.mark.parametrize(
    "body, message",
    [
        ({"name": "e2e-bad", "url": "not-a-url"}, "webhook URL must start with http:// or https://"),
        ({"name": "e2e-bad", "url": "ftp://example.com/"}, "webhook URL must start with http:// or https://"),
        ({"name": "bad name", "url": "http://127.0.0.1:9/"}, "webhook name"),
        ({"name": "e2e-bad", "url": "http://127.0.0.1:9/", "encode_as": "xml"}, "webhook encode_as"),
        ({"name": "e2e-bad", "url": "http://127.0.0.1:9/", "custom_headers": "{oops"}, "Invalid webhook: 'custom_headers'"),
        ({"name": "e2e-bad"}, "Invalid webhook: 'url' is required"),
        ({"name": "e2e-bad", "url": 5}, "Invalid webhook: 'url' must be a string"),
    ],
)
def test_bad_webhooks_are_400(server, body, message):
    status, answer = server.request(
        "POST", PATH, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert status == 400, (status, answer)
    errors = json.loads(answer)["errors"]
    assert errors and errors[0].startswith(message), errors


def test_bad_url_through_the_client_is_400(server):
    with client(server) as c:
        with pytest.raises(ApiException) as e:
            WebhooksIntegrationApi(c).create_webhooks_integration(
                body=WebhooksIntegration(name="e2e-bad-url", url="example.com/hook")
            )
        assert e.value.status == 400
        assert "http://" in e.value.body["errors"][0]


def test_both_keys_are_needed(server):
    status, _ = server.request("GET", f"{PATH}/anything", keys=(server.api_key, ""))
    assert status == 403
    status, _ = server.request("GET", f"{PATH}/anything", keys=("", server.app_key))
    assert status == 403
