from unittest import mock

import pytest


@pytest.fixture
def published():
    """The outbound events follow-ups publish, as (event_type, data, idempotency_key)."""
    events: list[tuple[str, dict, str]] = []

    def record(*, organization, event_type, data, idempotency_key):
        events.append((organization.pk, event_type, data, idempotency_key))
        return []

    with mock.patch("alerts.followups.outbound_event_publish", side_effect=record):
        yield events
