"""The webhook settings pages: writers create, edit, rotate, test and redeliver; readers see
the same without a form; another tenant's endpoints and deliveries are 404s."""

from __future__ import annotations

import pytest

from alerts.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from alerts.outbound import outbound_event_publish
from ppc_dashboard.tenancy.models import Role

from .conftest import endpoint_for


def text(response) -> str:
    return response.content.decode()


def _published(org, key):
    (delivery,) = outbound_event_publish(
        organization=org, event_type="alert.opened", data={"campaign": "Auto"}, idempotency_key=key
    )
    return delivery


def test_a_manager_creates_an_endpoint_and_sees_its_secret_once(member_client, org, receiver):
    response = member_client.post(
        "/settings/webhooks/new/",
        {
            "name": "CRM",
            "url": receiver.url,
            "kind": "signed_json",
            "event_types": ["followup.created", "followup.updated"],
            "active": "on",
        },
    )
    assert response.status_code == 200, text(response)
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert endpoint.event_types == ["followup.created", "followup.updated"]
    assert endpoint.secret in text(response)
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    # Never again: the edit page does not show it.
    assert endpoint.secret not in text(member_client.get(f"/settings/webhooks/{endpoint.pk}/"))


def test_a_bad_url_is_shown_on_the_form(member_client, org):
    response = member_client.post(
        "/settings/webhooks/new/",
        {"name": "CRM", "url": "http://crm.example.com/x", "kind": "signed_json",
         "event_types": ["alert.opened"]},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Use https" in text(response)
    assert not WebhookEndpoint.objects.exists()


def test_rotating_from_the_page_shows_the_new_secret(member_client, org, receiver):
    endpoint = endpoint_for(org, receiver)
    old = endpoint.secret
    assert "Rotate the secret" in text(
        member_client.get(f"/settings/webhooks/{endpoint.pk}/rotate-secret/")
    )
    response = member_client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in text(response) and old not in text(response)


def test_the_test_button_posts_a_test_event_and_opens_its_delivery(
    member_client, org, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(f"/settings/webhooks/{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == f"/settings/webhooks/deliveries/{delivery.pk}/"
    (request,) = receiver.received
    assert request.json["type"] == "test"
    page = text(member_client.get(response["Location"]))
    assert "Succeeded" in page and "200" in page


def test_the_delivery_log_lists_and_filters_and_redelivers_a_failed_one(
    member_client, org, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver, name="CRM")
    failed = _published(org, "failed-one")
    waiting = _published(org, "waiting-one")
    WebhookDelivery.objects.filter(pk=failed.pk).update(
        status=DeliveryStatus.FAILED, attempts=6, last_status_code=503
    )
    page = text(member_client.get("/settings/webhooks/deliveries/"))
    assert f"#{failed.pk}" in page and f"#{waiting.pk}" in page and "503" in page
    only_failed = text(member_client.get("/settings/webhooks/deliveries/?status=failed"))
    assert f"#{failed.pk}" in only_failed and f"#{waiting.pk}" not in only_failed
    assert "Redeliver now" in text(member_client.get(f"/settings/webhooks/deliveries/{failed.pk}/"))

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(f"/settings/webhooks/deliveries/{failed.pk}/redeliver/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SUCCEEDED and failed.attempts == 7
    again = member_client.post(f"/settings/webhooks/deliveries/{failed.pk}/redeliver/", follow=True)
    assert "Only a failed or retrying delivery can be redelivered" in text(again)
    assert len(receiver.received) == 1


def test_readers_see_the_pages_without_any_way_to_change(make_member_client, org, receiver):
    endpoint = endpoint_for(org, receiver, name="CRM")
    delivery = _published(org, "seen")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    analyst = make_member_client(org, Role.ANALYST)
    listing = text(analyst.get("/settings/webhooks/"))
    assert "CRM" in listing and "New endpoint" not in listing
    detail = text(analyst.get(f"/settings/webhooks/{endpoint.pk}/"))
    assert "Save endpoint" not in detail and "Send test event" not in detail
    assert "Rotate the secret" not in detail and endpoint.secret not in detail
    assert "Redeliver now" not in text(analyst.get(f"/settings/webhooks/deliveries/{delivery.pk}/"))
    for path in (
        "/settings/webhooks/new/",
        f"/settings/webhooks/{endpoint.pk}/rotate-secret/",
        f"/settings/webhooks/{endpoint.pk}/delete/",
    ):
        assert analyst.get(path).status_code == 403, path
    for path in (
        "/settings/webhooks/new/",
        f"/settings/webhooks/{endpoint.pk}/",
        f"/settings/webhooks/{endpoint.pk}/rotate-secret/",
        f"/settings/webhooks/{endpoint.pk}/test/",
        f"/settings/webhooks/deliveries/{delivery.pk}/redeliver/",
    ):
        assert analyst.post(path, {"name": "x"}).status_code == 403, path
    endpoint.refresh_from_db()
    assert endpoint.name == "CRM" and endpoint.previous_secret == ""
    assert receiver.received == []


@pytest.mark.parametrize(
    "path",
    [
        "/settings/webhooks/{endpoint}/",
        "/settings/webhooks/{endpoint}/rotate-secret/",
        "/settings/webhooks/{endpoint}/delete/",
        "/settings/webhooks/deliveries/{delivery}/",
    ],
)
def test_another_tenants_endpoint_and_delivery_pages_are_404(
    make_member_client, org, other_org, receiver, path
):
    endpoint = endpoint_for(org, receiver)
    delivery = _published(org, "ours")
    outsider = make_member_client(other_org, Role.OWNER)
    url = path.format(endpoint=endpoint.pk, delivery=delivery.pk)
    assert outsider.get(url).status_code == 404
    if "deliveries" not in path:  # the delivery page takes no POST at all (405)
        assert outsider.post(url).status_code == 404


def test_another_tenants_test_and_redeliver_buttons_are_404(
    make_member_client, org, other_org, receiver
):
    endpoint = endpoint_for(org, receiver, name="Ours only")
    delivery = _published(org, "ours")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    outsider = make_member_client(other_org, Role.OWNER)
    assert outsider.post(f"/settings/webhooks/{endpoint.pk}/test/").status_code == 404
    redeliver = f"/settings/webhooks/deliveries/{delivery.pk}/redeliver/"
    assert outsider.post(redeliver).status_code == 404
    assert "Ours only" not in text(outsider.get("/settings/webhooks/"))
    assert f"#{delivery.pk}" not in text(outsider.get("/settings/webhooks/deliveries/"))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and receiver.received == []
