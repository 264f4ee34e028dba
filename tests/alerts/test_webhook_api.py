"""The webhook API: endpoints (the secret returned once, rotation, a test event), the delivery
log (filters, redeliver), the same rules as the pages, and another tenant's rows as 404s."""

from __future__ import annotations

import pytest

from alerts.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from alerts.outbound import outbound_event_publish
from ppc_dashboard.tenancy.models import Role

from .conftest import endpoint_for

ENDPOINTS = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"


def test_creating_an_endpoint_returns_its_secret_once(api_client, org, receiver):
    response = api_client.post(
        ENDPOINTS,
        {"name": "CRM", "url": receiver.url, "event_types": ["followup.created"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["kind"] == "signed_json" and body["active"] is True
    read = api_client.get(f"{ENDPOINTS}{endpoint.pk}/").json()
    assert "secret" not in read and read["event_types"] == ["followup.created"]
    assert all("secret" not in row for row in api_client.get(ENDPOINTS).json()["results"])


def test_event_types_default_to_every_subscribable_type(api_client, receiver):
    body = api_client.post(ENDPOINTS, {"name": "All", "url": receiver.url}, format="json").json()
    assert body["event_types"] == [
        "alert.opened",
        "alert.resolved",
        "followup.created",
        "followup.updated",
    ]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "http://hooks.example.com/x"}, "url"),
        ({"event_types": ["alert.typo"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["alert.opened", "alert.opened"]}, "event_types"),
        ({"event_types": ["test"]}, "event_types"),
        ({"kind": "teams"}, "kind"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_bad_endpoint_input_is_a_400_naming_the_field(api_client, fields, field):
    data = {"name": "Bad", "url": "https://hooks.example.com/x", **fields}
    response = api_client.post(ENDPOINTS, data, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and field in body["errors"]


def test_private_targets_are_refused_when_local_targets_are_off(api_client, settings):
    settings.WEBHOOKS_ALLOW_LOCAL_TARGETS = False
    for url in ("http://127.0.0.1:9000/x", "https://10.0.0.8/x", "https://169.254.169.254/"):
        response = api_client.post(ENDPOINTS, {"name": "In", "url": url}, format="json")
        assert response.status_code == 400 and "url" in response.json()["errors"], url


def test_a_name_is_unique_in_the_organization(api_client, org, other_org, receiver):
    endpoint_for(other_org, receiver, name="CRM")  # another tenant's: no clash
    data = {"name": "CRM", "url": receiver.url}
    assert api_client.post(ENDPOINTS, data, format="json").status_code == 201
    again = api_client.post(ENDPOINTS, data, format="json")
    assert again.status_code == 400 and "name" in again.json()["errors"]


def test_rotating_returns_the_new_secret_and_the_end_of_the_overlap(api_client, org, receiver):
    endpoint = endpoint_for(org, receiver)
    old = endpoint.secret
    response = api_client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json()["secret"] == endpoint.secret != old
    assert endpoint.previous_secret == old
    assert response.json()["previous_secret_expires_at"]
    assert endpoint.signing_secrets() == [endpoint.secret, old]


def test_the_test_action_posts_a_signed_test_event(
    api_client, org, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{ENDPOINTS}{endpoint.pk}/test/")
    assert response.status_code == 202
    assert response.json()["event_type"] == "test"
    (request,) = receiver.received
    assert request.json["type"] == "test" and request.verified == {endpoint.secret: True}
    detail = api_client.get(f"{DELIVERIES}{response.json()['id']}/").json()
    assert detail["status"] == "succeeded"
    assert detail["attempt_log"][0]["status_code"] == 200


def _published(org, key, event_type="alert.opened"):
    return outbound_event_publish(
        organization=org, event_type=event_type, data={}, idempotency_key=key
    )


def test_the_delivery_log_filters_by_status_and_event_type(api_client, org, receiver):
    endpoint_for(org, receiver)
    (opened,) = _published(org, "a")
    (resolved,) = _published(org, "b", "alert.resolved")
    WebhookDelivery.objects.filter(pk=resolved.pk).update(status=DeliveryStatus.FAILED)

    rows = api_client.get(DELIVERIES).json()["results"]
    assert [row["id"] for row in rows] == [resolved.pk, opened.pk]  # newest first
    failed = api_client.get(DELIVERIES, {"status": "failed"}).json()["results"]
    assert [row["idempotency_key"] for row in failed] == ["b"]
    by_type = api_client.get(DELIVERIES, {"event_type": "alert.opened"}).json()["results"]
    assert [row["id"] for row in by_type] == [opened.pk]
    bad = api_client.get(DELIVERIES, {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_redelivering_a_succeeded_delivery_is_a_409(api_client, org, receiver):
    endpoint_for(org, receiver)
    (delivery,) = _published(org, "done")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SUCCEEDED)
    response = api_client.post(f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "succeeded" in response.json()["detail"]


def test_a_failed_delivery_is_redelivered(
    api_client, org, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver)
    (delivery,) = _published(org, "again")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and len(receiver.received) == 1


def test_readers_may_list_but_not_change(make_member_client, org, receiver):
    endpoint = endpoint_for(org, receiver)
    (delivery,) = _published(org, "r")
    viewer = make_member_client(org, Role.VIEWER)
    assert viewer.get(ENDPOINTS).status_code == 200
    assert viewer.get(DELIVERIES).status_code == 200
    for path in (
        ENDPOINTS,
        f"{ENDPOINTS}{endpoint.pk}/rotate-secret/",
        f"{ENDPOINTS}{endpoint.pk}/test/",
        f"{DELIVERIES}{delivery.pk}/redeliver/",
    ):
        data = {"name": "x", "url": receiver.url}
        assert viewer.post(path, data, format="json").status_code == 403, path
    endpoint.refresh_from_db()
    assert receiver.received == []


def test_another_tenants_endpoints_and_deliveries_are_404(
    api_client, other_api_client, org, other_org, receiver
):
    endpoint = endpoint_for(org, receiver)
    (delivery,) = _published(org, "mine")
    assert other_api_client.get(ENDPOINTS).json()["results"] == []
    assert other_api_client.get(DELIVERIES).json()["results"] == []
    for method, path in (
        ("get", f"{ENDPOINTS}{endpoint.pk}/"),
        ("patch", f"{ENDPOINTS}{endpoint.pk}/"),
        ("delete", f"{ENDPOINTS}{endpoint.pk}/"),
        ("post", f"{ENDPOINTS}{endpoint.pk}/rotate-secret/"),
        ("post", f"{ENDPOINTS}{endpoint.pk}/test/"),
        ("get", f"{DELIVERIES}{delivery.pk}/"),
        ("post", f"{DELIVERIES}{delivery.pk}/redeliver/"),
    ):
        assert getattr(other_api_client, method)(path).status_code == 404, (method, path)
    # Filtering by another tenant's endpoint is refused as a missing one is.
    refused = other_api_client.get(DELIVERIES, {"endpoint": endpoint.pk})
    assert refused.status_code == 400 and "endpoint" in refused.json()["errors"]
    endpoint.refresh_from_db()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert receiver.received == []
