"""Outbound webhooks: the one way alerts and follow-ups tell a tenant's systems (its own signed
receiver, Slack) that something happened.

`outbound_event_publish` records the event and one delivery per subscribed endpoint; each
delivery is sent by a Celery task after the transaction commits, claimed first so that it is
never posted twice at once, and retried with backoff until a 2xx answers or the attempts run
out. Retries wait in the database (`next_attempt_at`), where beat's sweeper finds them: no
task sleeps, and a broker that was down when an event was published loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import requests
import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ppc_dashboard.celery import task_enqueue
from ppc_dashboard.tenancy.models import Organization

from .models import (
    ERROR_MAX_CHARS,
    EVENT_TYPES,
    OPEN_STATUSES,
    TEST_EVENT,
    DeliveryStatus,
    EndpointKind,
    OutboundEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_webhook_secret,
)
from .webhook_signing import retry_delay_seconds, webhook_body, webhook_signature_header
from .webhook_targets import webhook_host_problem

__all__ = [
    "EVENT_TYPES",
    "outbound_event_publish",
    "webhook_deliveries_sweep",
    "webhook_delivery_redeliver",
    "webhook_delivery_send",
    "webhook_endpoint_secret_rotate",
    "webhook_endpoint_send_test",
    "webhook_log_prune",
]

WEBHOOK_SEND_TASK = "alerts.tasks.webhook_delivery_send_task"
USER_AGENT = "ppc-dashboard-webhooks/1"
# A queued send not started after this long is taken as lost (the sweeper enqueues it again).
ENQUEUE_LEASE = dt.timedelta(minutes=5)
# The most due deliveries one sweep enqueues; the next sweep takes the rest.
SWEEP_BATCH = 1000


# --- Publishing ------------------------------------------------------------------------------


def outbound_event_publish(
    *, organization: Organization, event_type: str, data: dict, idempotency_key: str
) -> list[WebhookDelivery]:
    """Record one event and one delivery per active endpoint of the organization subscribed to
    event_type; each is sent by a Celery task after the transaction commits. Publishing the
    same idempotency_key again for the same organization creates nothing new (returns the
    existing deliveries).

    `data` is any JSON-able dict (decimals and datetimes become strings); a `text` in it is
    the sentence a Slack endpoint shows.
    """
    with transaction.atomic():
        event, created = _event_record(organization, event_type, data, idempotency_key)
        if not created:
            return list(event.deliveries.order_by("pk"))
        return _deliveries_create(
            (event, endpoint)
            for endpoint in _active_endpoints(organization)
            if event_type in endpoint.event_types
        )


@dataclass(frozen=True)
class EventToPublish:
    event_type: str
    data: dict
    idempotency_key: str


def outbound_events_publish(*, organization: Organization, events: list[EventToPublish]) -> int:
    """Publish many events of one organization at once (a follow-up scan's): each as
    `outbound_event_publish` would, in a few statements for the lot instead of a few per
    event (publishing one at a time was 94% of a scan of thousands of calls). A key already
    published, or repeated in `events`, is published once. Returns the events recorded.

    Keys new to the read are inserted as they are: one published meanwhile by another
    process makes the insert fail, and the caller's transaction with it (the follow-up scan
    holds its tenant's scan lock, and its keys name follow-ups it has just created)."""
    for event in events:
        _event_check(event.event_type, event.data, event.idempotency_key)
    with transaction.atomic():
        keys = {event.idempotency_key for event in events}
        published = set(
            OutboundEvent.objects.for_organization(organization)
            .filter(idempotency_key__in=keys)
            .values_list("idempotency_key", flat=True)
        )
        created_at = timezone.now()
        new: dict[str, OutboundEvent] = {}
        for event in events:
            key = event.idempotency_key
            if key in published or key in new:
                continue
            new[key] = OutboundEvent(
                organization=organization,
                idempotency_key=key,
                event_type=event.event_type,
                payload=_event_payload(organization, event.event_type, event.data, key, created_at),
                created_at=created_at,
            )
        recorded = OutboundEvent.objects.bulk_create(new.values())
        endpoints = _active_endpoints(organization)
        _deliveries_create(
            (event, endpoint)
            for event in recorded
            for endpoint in endpoints
            if event.event_type in endpoint.event_types
        )
    return len(recorded)


def webhook_endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test event to this one endpoint (active or not, whatever it subscribes to)."""
    with transaction.atomic():
        event, _ = _event_record(
            endpoint.organization,
            TEST_EVENT,
            {
                "text": f"Test event for the endpoint “{endpoint.name}”: it is reachable.",
                "endpoint": {"id": endpoint.pk, "name": endpoint.name},
            },
            f"test-{uuid.uuid4()}",
        )
        (delivery,) = _deliveries_create([(event, endpoint)])
    return delivery


def _event_check(event_type: str, data: dict, idempotency_key: str) -> None:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; one of {', '.join(EVENT_TYPES)}")
    if not isinstance(data, dict):
        raise ValueError("an event's data is a dict")
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("an idempotency key has 1 to 200 characters")


def _event_payload(
    organization: Organization,
    event_type: str,
    data: dict,
    idempotency_key: str,
    created_at: dt.datetime,
) -> dict:
    return {
        "id": idempotency_key,
        "type": event_type,
        "created": created_at.isoformat().replace("+00:00", "Z"),
        "organization": organization.slug,
        # Plain JSON from here on: the stored payload is posted byte for byte on every try.
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


def _event_record(
    organization: Organization, event_type: str, data: dict, idempotency_key: str
) -> tuple[OutboundEvent, bool]:
    _event_check(event_type, data, idempotency_key)
    existing = OutboundEvent.objects.for_organization(organization).filter(
        idempotency_key=idempotency_key
    )
    if event := existing.first():
        return event, False
    created_at = timezone.now()
    payload = _event_payload(organization, event_type, data, idempotency_key, created_at)
    # Two publishers of one key at once: the unique constraint lets one in, the other reads it.
    return OutboundEvent.objects.get_or_create(
        organization=organization,
        idempotency_key=idempotency_key,
        defaults={"event_type": event_type, "payload": payload, "created_at": created_at},
    )


def _active_endpoints(organization: Organization) -> list[WebhookEndpoint]:
    return list(
        WebhookEndpoint.objects.for_organization(organization).filter(active=True).order_by("pk")
    )


def _deliveries_create(
    pairs: Iterable[tuple[OutboundEvent, WebhookEndpoint]],
) -> list[WebhookDelivery]:
    """One delivery per (event, endpoint), in one statement, each sent after commit."""
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organization_id=event.organization_id,
            event=event,
            endpoint=endpoint,
            next_attempt_at=now,
            enqueued_at=now,
            created_at=now,
        )
        for event, endpoint in pairs
    )
    for delivery in deliveries:
        _send_on_commit(delivery)
    return deliveries


def _send_on_commit(delivery: WebhookDelivery) -> None:
    organization_id, delivery_id = delivery.organization_id, delivery.pk

    def enqueue() -> None:
        if not task_enqueue(WEBHOOK_SEND_TASK, organization_id, delivery_id):
            # The broker is down: the sweeper takes it as soon as it can.
            WebhookDelivery.objects.filter(pk=delivery_id).update(enqueued_at=None)

    transaction.on_commit(enqueue)


# --- Sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    status_code: int | None
    response_ms: int | None
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _delivery_claim(organization_id: int, delivery_id: int, now: dt.datetime) -> bool:
    """Take the delivery for one attempt, or False when it is not due, already taken by
    another sender, or done.

    One conditional UPDATE: it counts the attempt and moves `next_attempt_at` past the time a
    send can take (a lease), so a second sender's UPDATE matches no row. A sender that dies
    mid-send leaves the lease to run out, and the sweeper tries again.
    """
    lease = dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    claimed = WebhookDelivery.objects.filter(
        organization_id=organization_id,
        pk=delivery_id,
        status__in=OPEN_STATUSES,
        next_attempt_at__lte=now,
    ).update(next_attempt_at=now + lease, attempts=F("attempts") + 1)
    return claimed == 1


def webhook_delivery_send(*, organization_id: int, delivery_id: int) -> WebhookDelivery | None:
    """One attempt at a delivery, if it is due and no one else holds it; the outcome is logged
    and the next attempt scheduled (or the delivery closed). None when it was not taken (not
    due, held by another sender, closed, gone with its endpoint, or another tenant's id)."""
    now = timezone.now()
    if not _delivery_claim(organization_id, delivery_id, now):
        return None
    delivery = (
        WebhookDelivery.objects.for_organization(organization_id)
        .select_related("event", "endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:  # its endpoint was deleted since the claim
        return None
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.active and event.event_type != TEST_EVENT:
        outcome = AttemptOutcome(None, None, "The endpoint is inactive: nothing was sent.")
        return _attempt_record(delivery, now, outcome, final=True)
    problem = webhook_host_problem(endpoint.url, allow_local=settings.WEBHOOKS_ALLOW_LOCAL_TARGETS)
    outcome = AttemptOutcome(None, None, problem) if problem else _post(delivery, now)
    return _attempt_record(delivery, now, outcome)


def webhook_request(delivery: WebhookDelivery, now: dt.datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (README "Outbound webhooks" documents them)."""
    endpoint, event = delivery.endpoint, delivery.event
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PPC-Event": event.event_type,
        "X-PPC-Delivery": str(delivery.pk),
        "Idempotency-Key": event.idempotency_key,
    }
    if endpoint.kind == EndpointKind.SLACK:
        return webhook_body(slack_message(event.payload)), headers
    body = webhook_body(event.payload)
    timestamp = int(now.timestamp())
    headers["X-PPC-Timestamp"] = str(timestamp)
    headers["X-PPC-Signature"] = webhook_signature_header(
        endpoint.signing_secrets(), timestamp, body
    )
    return body, headers


def slack_message(payload: dict) -> dict:
    """What a Slack-compatible incoming webhook shows: `{"text": ...}`, the event's own
    sentence (`data["text"]`) when it has one, else its type and plain fields."""
    data = payload.get("data") or {}
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        fields = ", ".join(
            f"{key}: {value}"
            for key, value in sorted(data.items())
            if not isinstance(value, dict | list)
        )
        text = payload["type"] + (f" ({fields})" if fields else "")
    return {"text": f"[{payload['organization']}] {text}"}


def _post(delivery: WebhookDelivery, now: dt.datetime) -> AttemptOutcome:
    body, headers = webhook_request(delivery, now)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.perf_counter()
    try:
        # Redirects are not followed: the check of the target covered this URL only. Streamed,
        # so that no more of an answer's body is read than the log keeps.
        response = requests.post(
            delivery.endpoint.url, data=body, headers=headers, timeout=timeout,
            allow_redirects=False, stream=True,
        )  # fmt: skip
    except requests.Timeout:
        return AttemptOutcome(None, _ms_since(started), f"Timed out after {timeout:g} s.")
    except requests.ConnectionError as exc:
        return AttemptOutcome(None, _ms_since(started), f"Connection failed: {_reason(exc)}")
    except requests.RequestException as exc:
        return AttemptOutcome(None, _ms_since(started), f"Request failed: {_reason(exc)}")
    elapsed = _ms_since(started)
    with response:
        if 200 <= response.status_code < 300:
            return AttemptOutcome(response.status_code, elapsed, "")
        try:
            excerpt = response.raw.read(200, decode_content=True).decode(errors="replace").strip()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError):
            excerpt = ""  # what it said cannot be read; its status code is the news
    error = f"HTTP {response.status_code}" + (f": {excerpt}" if excerpt else "")
    return AttemptOutcome(response.status_code, elapsed, error)


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _reason(exc: Exception) -> str:
    # requests nests the cause (urllib3's pool, then the socket's): its innermost text says it.
    cause: BaseException = exc
    while cause.__context__ is not None and cause.__context__ is not cause:
        cause = cause.__context__
    return str(cause) or type(cause).__name__


def _attempt_record(
    delivery: WebhookDelivery, now: dt.datetime, outcome: AttemptOutcome, *, final: bool = False
) -> WebhookDelivery:
    """Log the attempt and decide what follows: done, failed, or tried again after a wait."""
    number = delivery.attempts
    error = outcome.error[:ERROR_MAX_CHARS]
    WebhookAttempt.objects.create(
        organization_id=delivery.organization_id,
        delivery=delivery,
        number=number,
        started_at=now,
        status_code=outcome.status_code,
        response_ms=outcome.response_ms,
        error=error,
    )
    finished = timezone.now()
    delivery.last_status_code = outcome.status_code
    delivery.last_response_ms = outcome.response_ms
    delivery.last_error = error
    delivery.enqueued_at = None
    if outcome.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = finished
        delivery.next_attempt_at = None
    elif final or number >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.status = DeliveryStatus.RETRYING
        wait = retry_delay_seconds(number, settings.WEBHOOK_RETRY_SCHEDULE_SECONDS, random.random())
        delivery.next_attempt_at = finished + dt.timedelta(seconds=wait)
    delivery.save(
        update_fields=[
            "status",
            "last_status_code",
            "last_response_ms",
            "last_error",
            "next_attempt_at",
            "enqueued_at",
            "delivered_at",
        ]
    )
    return delivery


def webhook_deliveries_sweep() -> int:
    """Enqueue every open delivery that is due and has no live send task queued: the retries
    whose wait is over, and the sends whose enqueue was lost (broker down, worker killed).
    Returns how many were enqueued."""
    now = timezone.now()
    due = (
        WebhookDelivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - ENQUEUE_LEASE))
        .order_by("next_attempt_at")
        .values_list("organization_id", "pk")[:SWEEP_BATCH]
    )
    due = list(due)
    WebhookDelivery.objects.filter(pk__in=[pk for _, pk in due]).update(enqueued_at=now)
    for organization_id, delivery_id in due:
        # Each delivery is sent with its own organization's scope (the task's first argument).
        if not task_enqueue(WEBHOOK_SEND_TASK, organization_id, delivery_id):
            WebhookDelivery.objects.filter(pk=delivery_id).update(enqueued_at=None)
    return len(due)


def webhook_log_prune() -> int:
    """Delete the events (with their deliveries and attempts) older than
    `WEBHOOK_LOG_DAYS` whose deliveries are all closed; returns how many events went.

    The log is for looking into recent trouble; kept forever it would outgrow the calls. An
    event's idempotency key is forgotten with it: publishers use keys that name what happened
    (an alert's id and its transition), which do not come back after a month.
    """
    cutoff = timezone.now() - dt.timedelta(days=settings.WEBHOOK_LOG_DAYS)
    old = list(
        OutboundEvent.objects.filter(created_at__lt=cutoff)
        .exclude(deliveries__status__in=OPEN_STATUSES)
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    OutboundEvent.objects.filter(pk__in=old).delete()
    return len(old)


# --- The tenant's actions ----------------------------------------------------------------------


class RedeliveryRefused(ValueError):
    pass


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed (or waiting) delivery again now: one more attempt, and the remaining
    retries if it had any. A delivery that succeeded is never sent again."""
    with transaction.atomic():
        now = timezone.now()
        reopened = WebhookDelivery.objects.filter(
            pk=delivery.pk,
            organization_id=delivery.organization_id,
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.RETRYING],
        ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, enqueued_at=now)
        delivery.refresh_from_db()
        if not reopened:
            raise RedeliveryRefused(
                f"Only a failed or retrying delivery can be redelivered; this one is "
                f"{delivery.get_status_display().lower()}."
            )
        _send_on_commit(delivery)
    return delivery


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, returned once; the replaced one keeps signing (beside it) for
    `WEBHOOK_SECRET_OVERLAP`, so the receiver can switch without missing a delivery. A second
    rotation inside that window drops the oldest secret at once."""
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + settings.WEBHOOK_SECRET_OVERLAP
    endpoint.secret = new_webhook_secret()
    endpoint.secret_rotated_at = now
    endpoint.save(
        update_fields=[
            "secret",
            "previous_secret",
            "previous_secret_expires_at",
            "secret_rotated_at",
        ]
    )
    return endpoint.secret
