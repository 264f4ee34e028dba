"""Redis (broker and cache) dropped for ~10 s under a live worker, then back on its port.

The worker used to exit ("Unrecoverable error") when Redis dropped while it held a countdown
task, and KPIs stopped refreshing until someone restarted it. Now the API keeps answering
while Redis is away (throttling fails open, enqueues are logged and skipped: the dirty marks
are in the database), the worker reconnects, and beat's safety net refreshes what the lost
tasks would have: the KPIs catch up by themselves.
"""

from __future__ import annotations

import time

import pytest

from .conftest import (
    REQUIRES_STACK,
    assert_kpis_count_each_call_once,
    assert_stored_once,
    call_item,
    kpis_fresh_totals,
    wait_until,
)

pytestmark = REQUIRES_STACK
OUTAGE_SECONDS = 10


def _post(stack, numbers) -> list[str]:
    response = stack.api.post(
        "/api/v1/calls/?create_missing=true", json=[call_item(n) for n in numbers]
    )
    assert response.status_code == 201, response.text
    return [call_item(n)["external_id"] for n in numbers]


@pytest.mark.django_db(transaction=True)
def test_redis_dropped_under_a_live_worker_then_kpis_catch_up_by_themselves(stack):
    worker = stack.celery.worker()
    acknowledged = _post(stack, range(0, 100))
    first = wait_until(lambda: kpis_fresh_totals(stack.api), timeout=60)
    assert first and first["calls"] == 100, first

    # A write whose refresh the worker holds (a countdown task), then Redis goes away.
    acknowledged += _post(stack, range(100, 200))
    stack.redis.kill()
    down_at = time.monotonic()
    # Reads and writes keep working while Redis is down.
    acknowledged += _post(stack, range(200, 300))
    listed = stack.api.get("/api/v1/calls/")
    assert listed.status_code == 200
    during = stack.api.get("/api/v1/kpis/", params={"date_from": "2026-11-01"})
    assert during.status_code == 200
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    assert worker.poll() is None, "the worker exited when Redis dropped"

    stack.redis.start()
    back_at = time.monotonic()
    assert_kpis_count_each_call_once(
        stack.api, assert_stored_once(stack.organization, acknowledged), timeout=90
    )
    print(f"\nKPIs fresh {time.monotonic() - back_at:.1f} s after Redis came back")
    assert worker.poll() is None
    # And the write path enqueues again.
    acknowledged += _post(stack, range(300, 350))
    stored = assert_stored_once(stack.organization, acknowledged)
    assert_kpis_count_each_call_once(stack.api, stored, timeout=60)
