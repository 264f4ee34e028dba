from unittest import mock

import pytest

from alerts.models import SUBSCRIBABLE_EVENT_TYPES, WebhookEndpoint

from .webhook_receiver import WebhookReceiver, start_receiver


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    server = start_receiver(receiver)
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_receiver():
    servers = []

    def make() -> WebhookReceiver:
        receiver = WebhookReceiver()
        servers.append(start_receiver(receiver))
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def endpoint_for(organization, receiver, **fields) -> WebhookEndpoint:
    """An endpoint of `organization` posting to `receiver`, whose secret the receiver checks."""
    fields.setdefault("name", f"Receiver {WebhookEndpoint.objects.count() + 1}")
    fields.setdefault("event_types", list(SUBSCRIBABLE_EVENT_TYPES))
    endpoint = WebhookEndpoint.objects.create(organization=organization, url=receiver.url, **fields)
    receiver.secrets.append(endpoint.secret)
    return endpoint


@pytest.fixture
def published():
    """The outbound events follow-ups publish, as (event_type, data, idempotency_key)."""
    events: list[tuple[str, dict, str]] = []

    def record(*, organization, event_type, data, idempotency_key):
        events.append((organization.pk, event_type, data, idempotency_key))
        return []

    def record_batch(*, organization, events: list):
        for event in events:
            record(
                organization=organization,
                event_type=event.event_type,
                data=event.data,
                idempotency_key=event.idempotency_key,
            )
        return len(events)

    with (
        mock.patch("alerts.followups.outbound_event_publish", side_effect=record),
        mock.patch("alerts.followups.outbound_events_publish", side_effect=record_batch),
    ):
        yield events
