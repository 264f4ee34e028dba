"""Outbound webhooks end to end against a real HTTP receiver: signatures checked with README's
snippet (current secret, both during a rotation, the old one refused after it), retries driven
by the sweeper under a frozen clock, idempotent publishing, one send of a delivery however many
senders race for it, Slack's body, timeouts and refused connections, tenant isolation."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest
import time_machine
from django.db import connection

from alerts import outbound
from alerts.models import (
    DeliveryStatus,
    EndpointKind,
    OutboundEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from alerts.outbound import (
    EventToPublish,
    RedeliveryRefused,
    outbound_event_publish,
    outbound_events_publish,
    webhook_deliveries_sweep,
    webhook_delivery_redeliver,
    webhook_delivery_send,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_send_test,
    webhook_log_prune,
)
from tests.factories import OrganizationFactory

from .conftest import endpoint_for

T0 = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC)


def publish(org, capture, *, key="alert-1", event_type="alert.opened", data=None):
    with capture(execute=True):
        return outbound_event_publish(
            organization=org,
            event_type=event_type,
            data=data if data is not None else {"campaign": "Auto", "missed_rate": 7.5},
            idempotency_key=key,
        )


def sweep(capture) -> int:
    with capture(execute=True):
        return webhook_deliveries_sweep()


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_an_event_is_posted_signed_with_the_current_secret(
    org, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    (delivery,) = publish(org, django_capture_on_commit_callbacks)

    (request,) = receiver.received
    assert request.verified == {endpoint.secret: True}
    assert request.headers["X-PPC-Event"] == "alert.opened"
    assert request.headers["X-PPC-Delivery"] == str(delivery.pk)
    assert request.headers["Idempotency-Key"] == "alert-1"
    assert request.headers["X-PPC-Signature"].count("v1=") == 1
    payload = request.json
    assert payload["id"] == "alert-1"
    assert payload["type"] == "alert.opened"
    assert payload["organization"] == "acme"
    assert payload["data"] == {"campaign": "Auto", "missed_rate": 7.5}
    assert dt.datetime.fromisoformat(payload["created"]).tzinfo is not None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.last_response_ms is not None and delivery.delivered_at is not None
    assert delivery.next_attempt_at is None


def test_a_wrong_secret_or_a_tampered_body_is_refused_by_the_snippet(
    org, receiver, django_capture_on_commit_callbacks
):
    from .webhook_receiver import readme_verifier

    endpoint = endpoint_for(org, receiver)
    receiver.secrets.append("whsec_not-the-one")
    publish(org, django_capture_on_commit_callbacks)
    (request,) = receiver.received
    assert request.verified == {endpoint.secret: True, "whsec_not-the-one": False}
    verify = readme_verifier()
    assert verify(request.headers, request.body, endpoint.secret)
    assert not verify(request.headers, request.body.replace(b"7.5", b"0.5"), endpoint.secret)


def test_during_a_rotation_both_secrets_sign_and_either_verifies(
    org, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    old = endpoint.secret
    new = webhook_endpoint_secret_rotate(endpoint=endpoint)
    receiver.secrets.append(new)
    assert new != old and new.startswith("whsec_")

    publish(org, django_capture_on_commit_callbacks)
    (request,) = receiver.received
    assert request.verified == {old: True, new: True}
    assert request.headers["X-PPC-Signature"].count("v1=") == 2


def test_the_previous_secret_is_refused_once_the_rotation_window_is_over(
    org, receiver, frozen, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    old = endpoint.secret
    new = webhook_endpoint_secret_rotate(endpoint=endpoint)
    receiver.secrets.append(new)

    frozen.move_to(T0 + dt.timedelta(hours=23, minutes=59))
    publish(org, django_capture_on_commit_callbacks, key="inside")
    frozen.move_to(T0 + dt.timedelta(hours=24, minutes=1))
    publish(org, django_capture_on_commit_callbacks, key="after")

    inside, after = receiver.received
    assert inside.verified == {old: True, new: True}
    assert after.verified == {old: False, new: True}
    assert after.headers["X-PPC-Signature"].count("v1=") == 1


def test_a_500_is_retried_after_the_backoff_by_the_sweeper_then_succeeds(
    org, receiver, frozen, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    receiver.statuses = [500]
    (delivery,) = publish(org, django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert delivery.last_error == "HTTP 500: receiver says no"
    # 30 s, plus at most 10 % of jitter.
    wait = (delivery.next_attempt_at - T0).total_seconds()
    assert 30 <= wait <= 33

    frozen.move_to(T0 + dt.timedelta(seconds=29))
    assert sweep(django_capture_on_commit_callbacks) == 0
    assert len(receiver.received) == 1

    frozen.move_to(T0 + dt.timedelta(seconds=34))
    assert sweep(django_capture_on_commit_callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    first, second = receiver.received
    # The same event, byte for byte, signed anew at the time of the retry.
    assert first.body == second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "alert-1"
    assert int(second.headers["X-PPC-Timestamp"]) == int(T0.timestamp()) + 34
    assert second.verified == {endpoint.secret: True}
    codes = list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
    )
    assert codes == [(1, 500), (2, 200)]
    # Done: later sweeps send nothing more.
    frozen.move_to(T0 + dt.timedelta(hours=7))
    assert sweep(django_capture_on_commit_callbacks) == 0
    assert len(receiver.received) == 2


def test_the_backoff_grows_until_the_attempts_run_out_then_the_delivery_fails(
    org, receiver, frozen, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    endpoint_for(org, receiver)
    receiver.statuses = [503] * 10
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    waits = []
    now = T0
    for _ in range(3):
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at + dt.timedelta(seconds=1)
        frozen.move_to(now)
        assert sweep(django_capture_on_commit_callbacks) == 1
    delivery.refresh_from_db()
    # 30 s, 2 min, 10 min, each with up to 10 % of jitter.
    for wait, base in zip(waits, (30, 120, 600), strict=True):
        assert base <= wait <= base * 1.1
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 4 and delivery.next_attempt_at is None
    frozen.move_to(now + dt.timedelta(days=1))
    assert sweep(django_capture_on_commit_callbacks) == 0
    assert len(receiver.received) == 4


def test_publishing_the_same_key_again_creates_and_sends_nothing_new(
    org, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver)
    first = publish(org, django_capture_on_commit_callbacks)
    again = publish(org, django_capture_on_commit_callbacks, data={"campaign": "changed"})
    assert [d.pk for d in again] == [d.pk for d in first]
    assert OutboundEvent.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    assert len(receiver.received) == 1
    # The same key in another tenant is another event.
    other = OrganizationFactory()
    assert publish(other, django_capture_on_commit_callbacks) == []
    assert OutboundEvent.objects.count() == 2


def test_only_active_endpoints_subscribed_to_the_type_get_the_event(
    org, make_receiver, django_capture_on_commit_callbacks
):
    subscribed, other_type, inactive = make_receiver(), make_receiver(), make_receiver()
    endpoint_for(org, subscribed, event_types=["alert.opened"])
    endpoint_for(org, other_type, event_types=["followup.created"])
    endpoint_for(org, inactive, active=False)
    deliveries = publish(org, django_capture_on_commit_callbacks)
    assert len(deliveries) == 1
    assert (len(subscribed.received), len(other_type.received), len(inactive.received)) == (1, 0, 0)
    with pytest.raises(ValueError, match="unknown event type"):
        outbound_event_publish(
            organization=org, event_type="alert.typo", data={}, idempotency_key="x"
        )


def test_a_batch_publishes_each_new_key_once_to_its_subscribers_in_a_few_statements(
    org, make_receiver, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    followups, alerts_only = make_receiver(), make_receiver()
    endpoint_for(org, followups, event_types=["followup.created"])
    endpoint_for(org, alerts_only, event_types=["alert.opened"])
    publish(
        org,
        django_capture_on_commit_callbacks,
        key="followup-1-created",
        event_type="followup.created",
    )

    def batch(count: int) -> list[EventToPublish]:
        return [
            EventToPublish("followup.created", {"n": n}, f"followup-{n}-created")
            for n in range(1, count + 1)
        ]

    with django_capture_on_commit_callbacks() as sends, django_assert_max_num_queries(6):
        # Key 1 was published already, and key 2 is in the batch twice.
        recorded = outbound_events_publish(organization=org, events=[*batch(40), *batch(2)])
    for send in sends:
        send()
    assert recorded == 39
    assert OutboundEvent.objects.filter(organization=org).count() == 40
    assert WebhookDelivery.objects.filter(organization=org).count() == 40  # one subscriber
    assert (len(followups.received), len(alerts_only.received)) == (40, 0)
    with pytest.raises(ValueError, match="unknown event type"):
        outbound_events_publish(organization=org, events=[EventToPublish("followup.typo", {}, "x")])


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_delivery_post_it_once(receiver, monkeypatch):
    org = OrganizationFactory(slug="racing")
    endpoint_for(org, receiver)
    receiver.delay = 0.3  # the first send is still in flight when the others try
    # The broker takes the task; four senders (workers, the sweeper's copies) then race for it.
    monkeypatch.setattr(outbound, "task_enqueue", lambda *args, **kwargs: True)
    (delivery,) = outbound_event_publish(
        organization=org, event_type="alert.opened", data={}, idempotency_key="race"
    )
    start = threading.Barrier(4)
    results = []

    def sender() -> None:
        start.wait()
        try:
            results.append(webhook_delivery_send(organization_id=org.pk, delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.received) == 1
    assert sum(result is not None for result in results) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1


def test_a_delivery_that_succeeded_is_never_sent_again(
    org, receiver, frozen, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver)
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    frozen.move_to(T0 + dt.timedelta(hours=1))
    assert webhook_delivery_send(organization_id=org.pk, delivery_id=delivery.pk) is None
    with pytest.raises(RedeliveryRefused, match="succeeded"):
        webhook_delivery_redeliver(delivery=delivery)
    assert len(receiver.received) == 1


def test_a_failed_delivery_is_redelivered_once_on_request(
    org, receiver, frozen, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    endpoint_for(org, receiver)
    receiver.statuses = [500]
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert len(receiver.received) == 2


def test_a_slack_endpoint_gets_text_and_no_signature(
    org, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver, kind=EndpointKind.SLACK)
    publish(org, django_capture_on_commit_callbacks, data={"text": "Auto is leaking: 7.5 % missed"})
    publish(org, django_capture_on_commit_callbacks, key="plain", data={"campaign": "Auto"})
    with_text, plain = receiver.received
    assert with_text.json == {"text": "[acme] Auto is leaking: 7.5 % missed"}
    assert plain.json == {"text": "[acme] alert.opened (campaign: Auto)"}
    assert "X-PPC-Signature" not in with_text.headers
    assert with_text.headers["Content-Type"] == "application/json"


def test_the_test_event_goes_to_that_endpoint_only(
    org, make_receiver, django_capture_on_commit_callbacks
):
    chosen, other = make_receiver(), make_receiver()
    endpoint = endpoint_for(org, chosen, active=False)
    endpoint_for(org, other)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_endpoint_send_test(endpoint=endpoint)
    (request,) = chosen.received
    assert request.json["type"] == "test" and request.verified == {endpoint.secret: True}
    assert other.received == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_a_timeout_is_recorded_and_retried(
    org, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    endpoint_for(org, receiver)
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error == "Timed out after 0.3 s."
    assert delivery.last_status_code is None
    assert 250 <= delivery.last_response_ms < 1000


def test_a_refused_connection_is_recorded_and_retried(org, django_capture_on_commit_callbacks):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from .webhook_receiver import WebhookReceiver

    endpoint_for(org, WebhookReceiver(url=f"http://127.0.0.1:{port}/hook"))
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.startswith("Connection failed:")
    assert "refused" in delivery.last_error.lower()
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.error == delivery.last_error and attempt.status_code is None


def test_the_sweeper_sends_each_tenants_events_to_that_tenants_endpoints_only(
    org, other_org, make_receiver, frozen, monkeypatch, django_capture_on_commit_callbacks
):
    ours, theirs = make_receiver(), make_receiver()
    our_endpoint = endpoint_for(org, ours)
    their_endpoint = endpoint_for(other_org, theirs)
    # The broker is down when the events are published: nothing is sent then.
    monkeypatch.setattr(outbound, "task_enqueue", lambda *args, **kwargs: False)
    publish(org, django_capture_on_commit_callbacks, key="ours")
    publish(other_org, django_capture_on_commit_callbacks, key="theirs")
    assert ours.received == theirs.received == []
    monkeypatch.undo()

    frozen.move_to(T0 + dt.timedelta(seconds=15))
    assert sweep(django_capture_on_commit_callbacks) == 2
    (mine,) = ours.received
    (yours,) = theirs.received
    assert (mine.json["id"], mine.json["organization"]) == ("ours", "acme")
    assert (yours.json["id"], yours.json["organization"]) == ("theirs", "rival")
    # Each signed with its own endpoint's secret only.
    assert mine.verified == {our_endpoint.secret: True}
    assert yours.verified == {their_endpoint.secret: True}
    assert their_endpoint.secret != our_endpoint.secret


def test_a_send_task_with_another_tenants_delivery_id_sends_nothing(
    org, other_org, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(other_org, receiver)
    # Published in the test's transaction, whose on_commit never runs: nothing sent yet.
    (delivery,) = outbound_event_publish(
        organization=other_org, event_type="alert.opened", data={}, idempotency_key="k"
    )
    assert webhook_delivery_send(organization_id=org.pk, delivery_id=delivery.pk) is None
    assert receiver.received == []


def test_a_queued_send_lost_with_its_worker_is_enqueued_again_after_the_lease(
    org, receiver, frozen, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver)
    # Published; its task was queued (enqueued_at set) but never ran.
    outbound_event_publish(
        organization=org, event_type="alert.opened", data={}, idempotency_key="lost"
    )
    frozen.move_to(T0 + dt.timedelta(minutes=1))
    assert sweep(django_capture_on_commit_callbacks) == 0  # its task may still be in the queue
    frozen.move_to(T0 + dt.timedelta(minutes=6))
    assert sweep(django_capture_on_commit_callbacks) == 1
    assert len(receiver.received) == 1


def test_a_private_target_is_refused_at_send_time_when_local_targets_are_off(
    org, receiver, settings, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver)  # saved while allowed; the setting changed since
    settings.WEBHOOKS_ALLOW_LOCAL_TARGETS = False
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert receiver.received == []
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.startswith("Use https")


def test_the_log_keeps_thirty_days_and_every_open_delivery(
    org, receiver, frozen, settings, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver)
    receiver.statuses = [500]
    (open_one,) = publish(org, django_capture_on_commit_callbacks, key="still-retrying")
    (done,) = publish(org, django_capture_on_commit_callbacks, key="done")
    frozen.move_to(T0 + dt.timedelta(days=29))
    (recent,) = publish(org, django_capture_on_commit_callbacks, key="recent")
    WebhookDelivery.objects.filter(pk=open_one.pk).update(
        next_attempt_at=T0 + dt.timedelta(days=60)
    )

    frozen.move_to(T0 + dt.timedelta(days=30, minutes=1))
    assert webhook_log_prune() == 1
    kept = set(OutboundEvent.objects.values_list("idempotency_key", flat=True))
    assert kept == {"still-retrying", "recent"}
    assert not WebhookAttempt.objects.filter(delivery_id=done.pk).exists()
    assert WebhookDelivery.objects.filter(pk__in=[open_one.pk, recent.pk]).count() == 2


def test_a_delivery_to_an_endpoint_deactivated_meanwhile_fails_without_a_post(
    org, receiver, frozen, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(org, receiver)
    receiver.statuses = [500]
    (delivery,) = publish(org, django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    frozen.move_to(T0 + dt.timedelta(minutes=1))
    assert sweep(django_capture_on_commit_callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "The endpoint is inactive: nothing was sent."
    assert len(receiver.received) == 1  # the first attempt only


def test_decimals_and_datetimes_in_the_data_are_posted_as_strings(
    org, receiver, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    endpoint_for(org, receiver)
    data = {"revenue": Decimal("123.40"), "due_at": T0, "nested": {"rate": Decimal("0.05")}}
    publish(org, django_capture_on_commit_callbacks, data=data)
    (request,) = receiver.received
    assert request.json["data"] == {
        "revenue": "123.40",
        "due_at": "2026-11-30T22:00:00Z",
        "nested": {"rate": "0.05"},
    }
