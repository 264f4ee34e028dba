"""routing.live_state: the Redis and the database implementations keep one contract."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from routing.live_state import (
    DatabaseLiveState,
    RedisLiveState,
    live_state,
    live_state_redis_client,
    period_keys,
)
from routing.rules import TargetLive, TargetRule
from tests.factories import BuyerFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
AT = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York


def rule(buyer, **settings) -> TargetRule:
    values = {
        "target_id": buyer.pk,
        "name": buyer.name,
        "destination": buyer.phone_number,
        "timezone": "America/New_York",
        "hours": {},
        "tier": 1,
        "weight": 1,
        "ring_timeout_seconds": 20,
    }
    return TargetRule(**{**values, **settings})


@pytest.fixture
def redis_state():
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    client = live_state_redis_client(REDIS_URL)
    client.flushdb()
    yield RedisLiveState(client)
    client.flushdb()


@pytest.fixture(params=["redis", "database"])
def state(request, db):
    if request.param == "redis":
        return request.getfixturevalue("redis_state")
    return DatabaseLiveState()


def test_concurrency_cap_refuses_a_call_until_a_slot_is_released(state, org):
    target = rule(BuyerFactory(organization=org), concurrency_cap=2)
    assert state.acquire(org.pk, target, "CA1", AT)
    assert state.acquire(org.pk, target, "CA2", AT)
    assert not state.acquire(org.pk, target, "CA3", AT)
    assert state.snapshot(org.pk, [target], AT)[target.target_id].in_progress == 2
    state.release(org.pk, target.target_id, "CA1")
    assert state.acquire(org.pk, target, "CA3", AT)


def test_release_is_idempotent(state, org):
    target = rule(
        BuyerFactory(organization=org), concurrency_cap=1, hourly_cap=9, daily_cap=9, monthly_cap=9
    )
    assert state.acquire(org.pk, target, "CA1", AT)
    state.release(org.pk, target.target_id, "CA1")
    state.release(org.pk, target.target_id, "CA1")
    state.release(org.pk, target.target_id, "CA-never-sent")
    assert state.snapshot(org.pk, [target], AT)[target.target_id] == TargetLive(0, 1, 1, 1)


def test_acquiring_again_for_the_same_call_counts_it_once(state, org):
    target = rule(
        BuyerFactory(organization=org), concurrency_cap=1, hourly_cap=5, daily_cap=9, monthly_cap=9
    )
    assert state.acquire(org.pk, target, "CA1", AT)
    assert state.acquire(org.pk, target, "CA1", AT + dt.timedelta(seconds=30))
    assert state.snapshot(org.pk, [target], AT)[target.target_id] == TargetLive(1, 1, 1, 1)


def test_a_snapshot_reads_the_counts_a_cap_limits_and_zero_for_the_others(state, org):
    daily = rule(BuyerFactory(organization=org), daily_cap=9)
    uncapped = rule(BuyerFactory(organization=org))
    for target in (daily, uncapped):
        assert state.acquire(org.pk, target, f"CA-{target.target_id}", AT)
    live = state.snapshot(org.pk, [daily, uncapped], AT)
    assert live == {daily.target_id: TargetLive(0, 0, 1, 0), uncapped.target_id: TargetLive()}


def test_hourly_cap_counts_calls_sent_not_calls_in_progress(state, org):
    target = rule(BuyerFactory(organization=org), hourly_cap=2)
    for sid in ("CA1", "CA2"):
        assert state.acquire(org.pk, target, sid, AT)
        state.release(org.pk, target.target_id, sid)
    assert not state.acquire(org.pk, target, "CA3", AT + dt.timedelta(minutes=59))
    # The next hour of the target's clock starts from zero.
    assert state.acquire(org.pk, target, "CA3", AT + dt.timedelta(hours=1))


def test_daily_cap_resets_at_midnight_in_the_targets_time_zone(state, org):
    target = rule(BuyerFactory(organization=org), daily_cap=1, timezone="America/Los_Angeles")
    late = dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC)  # 23:30 Nov 30 in Los Angeles
    assert state.acquire(org.pk, target, "CA1", late)
    # 00:30 UTC Dec 1 is still Nov 30 in Los Angeles, a UTC day would have reset already.
    assert not state.acquire(org.pk, target, "CA2", late - dt.timedelta(hours=7))
    assert state.acquire(org.pk, target, "CA2", late + dt.timedelta(hours=1))


def test_monthly_cap(state, org):
    target = rule(BuyerFactory(organization=org), monthly_cap=1)
    mid_november = AT - dt.timedelta(days=15)
    assert state.acquire(org.pk, target, "CA1", mid_november)
    assert not state.acquire(org.pk, target, "CA2", AT)
    assert state.acquire(org.pk, target, "CA2", AT + dt.timedelta(days=1))  # December


def test_stale_slot_expires_after_ring_timeout_and_longest_call(state, org, settings):
    settings.ROUTING_MAX_CALL_SECONDS = 600
    target = rule(BuyerFactory(organization=org), concurrency_cap=1, ring_timeout_seconds=20)
    assert state.acquire(org.pk, target, "CA-lost", AT)
    just_before = AT + dt.timedelta(seconds=619)
    assert not state.acquire(org.pk, target, "CA2", just_before)
    assert state.snapshot(org.pk, [target], just_before)[target.target_id].in_progress == 1
    after = AT + dt.timedelta(seconds=620)
    assert state.snapshot(org.pk, [target], after)[target.target_id].in_progress == 0
    assert state.acquire(org.pk, target, "CA2", after)


def test_other_tenant_counts_are_not_seen_or_taken(state, org, other_org):
    target = rule(BuyerFactory(organization=org), concurrency_cap=1, hourly_cap=1)
    assert state.acquire(org.pk, target, "CA1", AT)
    assert state.snapshot(other_org.pk, [target], AT)[target.target_id] == TargetLive()
    state.release(other_org.pk, target.target_id, "CA1")
    assert state.snapshot(org.pk, [target], AT)[target.target_id].in_progress == 1


def test_redis_snapshot_reads_every_targets_counts_in_one_command(redis_state, db, org):
    # A ringing call waits for the snapshot: one script for all targets, not a command each.
    zones = ("America/New_York", "America/Los_Angeles", "Europe/London")
    caps = {"concurrency_cap": 99, "hourly_cap": 99, "daily_cap": 99, "monthly_cap": 99}
    targets = [
        rule(BuyerFactory(organization=org), timezone=zones[n % 3], **caps) for n in range(6)
    ]
    for n, target in enumerate(targets):
        for call in range(n):
            assert redis_state.acquire(org.pk, target, f"CA{n}-{call}", AT)
    redis_state.snapshot(org.pk, targets, AT)  # loads the script into Redis
    commands = []
    send = redis_state.client.execute_command

    def counted(*args, **options):
        commands.append(args[0])
        return send(*args, **options)

    redis_state.client.execute_command = counted
    live = redis_state.snapshot(org.pk, targets, AT)
    assert commands == ["EVALSHA"]
    assert live == {t.target_id: TargetLive(n, n, n, n) for n, t in enumerate(targets)}


def test_redis_snapshot_of_uncapped_targets_asks_redis_nothing(redis_state, db, org):
    targets = [rule(BuyerFactory(organization=org)) for _ in range(3)]
    commands = []
    send = redis_state.client.execute_command
    redis_state.client.execute_command = lambda *args, **options: (
        commands.append(args[0]) or send(*args, **options)
    )
    live = redis_state.snapshot(org.pk, targets, AT)
    assert commands == []
    assert live == {t.target_id: TargetLive() for t in targets}


def test_database_state_refuses_a_target_of_another_tenant(db, org, other_org):
    target = rule(BuyerFactory(organization=org))
    assert not DatabaseLiveState().acquire(other_org.pk, target, "CA1", AT)


def test_hour_keys_tell_apart_the_repeated_hour_when_clocks_go_back():
    first = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)  # 01:30 EDT
    second = first + dt.timedelta(hours=1)  # 01:30 EST
    assert period_keys("America/New_York", first)[0] != period_keys("America/New_York", second)[0]
    assert period_keys("America/New_York", first)[1:] == period_keys("America/New_York", second)[1:]


def test_live_state_is_redis_when_configured(settings):
    settings.REDIS_URL = ""
    assert isinstance(live_state(), DatabaseLiveState)
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    assert isinstance(live_state(), RedisLiveState)


def test_redis_down_fails_open_fast(db, org, caplog):
    started = time.monotonic()
    # Nothing listens on port 1: the route must still answer, without live counts.
    down = RedisLiveState(live_state_redis_client("redis://127.0.0.1:1/0"))
    target = rule(BuyerFactory(organization=org), concurrency_cap=0)
    assert down.snapshot(org.pk, [target], AT) == {}
    assert down.acquire(org.pk, target, "CA1", AT)
    down.release(org.pk, target.target_id, "CA1")
    assert "Redis unavailable" in caplog.text
    assert time.monotonic() - started < 2


def _parallel_acquires(state, organization_id, targets, calls: int) -> dict[int, int]:
    """`calls` concurrent calls, each sent to the first target that accepts it."""
    start = threading.Barrier(min(calls, 50))
    taken: dict[int, int] = {target.target_id: 0 for target in targets}
    lock = threading.Lock()

    def route(index: int) -> None:
        try:
            if index < 50:
                start.wait()
            for target in targets:
                if state.acquire(organization_id, target, f"CA{index:04d}", AT):
                    with lock:
                        taken[target.target_id] += 1
                    return
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(route, range(calls)))
    return taken


@needs_redis
def test_200_parallel_calls_never_exceed_a_cap_or_a_slot_on_redis(redis_state, db, org):
    concurrency = rule(BuyerFactory(organization=org), concurrency_cap=7)
    hourly = rule(BuyerFactory(organization=org), hourly_cap=30, tier=2)
    daily = rule(BuyerFactory(organization=org), daily_cap=40, tier=3)
    targets = [concurrency, hourly, daily]

    taken = _parallel_acquires(redis_state, org.pk, targets, 200)

    assert taken == {concurrency.target_id: 7, hourly.target_id: 30, daily.target_id: 40}
    live = redis_state.snapshot(org.pk, targets, AT)
    assert live[concurrency.target_id].in_progress == 7
    assert live[hourly.target_id].hour_count == 30
    assert live[daily.target_id].day_count == 40


@pytest.mark.django_db(transaction=True)
def test_parallel_calls_never_exceed_a_cap_or_a_slot_in_the_database(org):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    concurrency = rule(BuyerFactory(organization=org), concurrency_cap=4)
    hourly = rule(BuyerFactory(organization=org), hourly_cap=6, tier=2)

    taken = _parallel_acquires(DatabaseLiveState(), org.pk, [concurrency, hourly], 40)

    assert taken == {concurrency.target_id: 4, hourly.target_id: 6}


def test_answer_refreshes_the_slot_to_the_longest_call_from_then(state, org, settings):
    settings.ROUTING_MAX_CALL_SECONDS = 600
    target = rule(BuyerFactory(organization=org), concurrency_cap=1, ring_timeout_seconds=20)
    assert state.acquire(org.pk, target, "CA1", AT)
    answered = AT + dt.timedelta(seconds=15)
    state.refresh(org.pk, target.target_id, "CA1", answered)
    # Sent + ring + longest call (620 s) has passed; answered + longest call (615 s) has too.
    assert (
        state.snapshot(org.pk, [target], AT + dt.timedelta(seconds=614))[
            target.target_id
        ].in_progress
        == 1
    )
    assert (
        state.snapshot(org.pk, [target], AT + dt.timedelta(seconds=615))[
            target.target_id
        ].in_progress
        == 0
    )


def test_refresh_does_not_take_back_a_released_or_expired_slot(state, org, settings):
    settings.ROUTING_MAX_CALL_SECONDS = 600
    target = rule(BuyerFactory(organization=org), concurrency_cap=1)
    assert state.acquire(org.pk, target, "CA1", AT)
    state.release(org.pk, target.target_id, "CA1")
    state.refresh(org.pk, target.target_id, "CA1", AT)
    assert state.snapshot(org.pk, [target], AT)[target.target_id].in_progress == 0
    assert state.acquire(org.pk, target, "CA2", AT)
    late = AT + dt.timedelta(seconds=700)  # CA2's slot expired at 620 s
    state.refresh(org.pk, target.target_id, "CA2", late)
    assert state.snapshot(org.pk, [target], late)[target.target_id].in_progress == 0
