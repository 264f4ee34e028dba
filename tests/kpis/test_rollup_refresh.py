"""The recompute of dirty days: idempotent, safe under concurrency, debounced, tenant-tight."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from calls.ingest import call_ingest_batch
from calls.models import Call
from calls.services import campaign_settings_changed
from kpis.models import (
    CallRollupDaily,
    CallRollupDailyTag,
    CallRollupHourly,
    DirtyDay,
    DurationBucketDaily,
)
from kpis.rollups import (
    RECOMPUTED_ROLLUPS,
    rollups_mark_dirty,
    rollups_rebuild_full,
    rollups_refresh,
)
from kpis.selectors import KpiFilter, kpi_counts
from tests.factories import CampaignFactory, OrganizationFactory

DAY = dt.date(2026, 11, 2)
WEEK = KpiFilter(dt.date(2026, 10, 30), dt.date(2026, 11, 5))


def post_calls(org, campaign, n=10, start=None, **overrides):
    start = start or dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
    items = [
        {
            "external_id": f"{campaign.name}-{i}",
            "campaign_id": campaign.id,
            "started_at": (start + dt.timedelta(minutes=i)).isoformat(),
            "status": "answered",
            "duration_seconds": 60 + i * 10,
            "revenue": "10",
            "cost": "2.5",
            "caller_number": f"+1312555{i:04d}",
            **overrides,
        }
        for i in range(n)
    ]
    result = call_ingest_batch(organization=org, items=items)
    assert result.ok, result.errors


def rollup_rows(org):
    return sorted(
        CallRollupDaily.objects.filter(organization=org).values_list(
            "day", "campaign_id", "calls", "answered", "qualified", "talk_seconds", "revenue"
        )
    )


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, name="Auto", qualifying_seconds=90)


def test_write_marks_its_local_day_dirty_and_refresh_clears_it(org, campaign):
    post_calls(org, campaign)
    assert list(DirtyDay.objects.filter(organization=org).values_list("day", flat=True)) == [DAY]
    assert rollups_refresh(org.pk) == 1
    assert not DirtyDay.objects.filter(organization=org).exists()
    counts = kpi_counts(org, WEEK)
    assert (counts.calls, counts.answered) == (10, 10)
    # 60..150 s against a 90 s threshold: 90, 100, ... 150 qualify.
    assert counts.qualified == 7
    assert counts.revenue == Decimal("100.0000")


def test_refresh_twice_gives_the_same_rows(org, campaign):
    post_calls(org, campaign)
    rollups_refresh(org.pk)
    first = rollup_rows(org)
    rollups_mark_dirty(org.pk, [DAY])
    rollups_refresh(org.pk)
    assert rollup_rows(org) == first
    assert rollups_refresh(org.pk) == 0


def test_refresh_of_a_day_without_calls_removes_its_rows(org, campaign):
    post_calls(org, campaign)
    rollups_refresh(org.pk)
    from calls.models import Call

    Call.objects.filter(organization=org).delete()  # behind the services' back
    rollups_mark_dirty(org.pk, [DAY])
    rollups_refresh(org.pk)
    assert not CallRollupDaily.objects.filter(organization=org).exists()
    assert not CallRollupHourly.objects.filter(organization=org).exists()
    assert not DurationBucketDaily.objects.filter(organization=org).exists()


def test_a_write_during_a_refresh_keeps_its_mark(org, campaign, monkeypatch):
    post_calls(org, campaign)
    import kpis.rollups

    original = kpis.rollups._recompute

    def recompute_while_someone_writes(*args, **kwargs):
        original(*args, **kwargs)
        rollups_mark_dirty(org.pk, [DAY])  # bumps the version the refresh read

    monkeypatch.setattr(kpis.rollups, "_recompute", recompute_while_someone_writes)
    rollups_refresh(org.pk)
    assert DirtyDay.objects.filter(organization=org, day=DAY).exists()


def test_a_refresh_that_dies_halfway_leaves_its_marks_for_the_next_run(org, campaign, monkeypatch):
    post_calls(org, campaign)
    import kpis.rollups

    def die(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(kpis.rollups, "_recompute", die)
    with pytest.raises(RuntimeError):
        rollups_refresh(org.pk)
    monkeypatch.undo()
    assert DirtyDay.objects.filter(organization=org, day=DAY).exists()
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).calls == 10


def test_tenants_never_mix(org, other_org, campaign):
    other_campaign = CampaignFactory(organization=other_org, name="Auto")
    post_calls(org, campaign, n=3)
    post_calls(other_org, other_campaign, n=7)
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).calls == 3
    # The other tenant's days are still dirty: nobody refreshed them, nothing leaked.
    assert kpi_counts(other_org, WEEK).calls == 0
    rollups_refresh(other_org.pk)
    assert kpi_counts(other_org, WEEK).calls == 7
    assert kpi_counts(org, WEEK).calls == 3


def test_changing_the_qualifying_threshold_recomputes_history(org, campaign):
    post_calls(org, campaign)
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).qualified == 7
    campaign.qualifying_seconds = 120
    campaign.save()
    campaign_settings_changed(campaign, qualifying_changed=True, duplicate_window_changed=False)
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).qualified == 4  # 120, 130, 140, 150


def test_changing_the_duplicate_window_rederives_repeats(org, campaign):
    start = dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)
    post_calls(org, campaign, n=1, start=start)  # caller +13125550000
    call_ingest_batch(
        organization=org,
        items=[
            {
                "external_id": "three-days-later",
                "campaign_id": campaign.id,
                "started_at": (start + dt.timedelta(days=3)).isoformat(),
                "status": "answered",
                "caller_number": "+13125550000",
            }
        ],
    )
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).repeat_calls == 1
    campaign.duplicate_window_days = 2
    campaign.save()
    campaign_settings_changed(campaign, qualifying_changed=False, duplicate_window_changed=True)
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).repeat_calls == 0


def test_calls_at_the_same_instant_are_not_repeats_of_each_other(org, campaign):
    # KPIS.md: a repeat called "at an earlier instant ... two calls at the same instant are
    # not repeats of each other"; a third call a minute later repeats them.
    start = dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)
    same = {"campaign_id": campaign.id, "status": "answered", "caller_number": "+13125550000"}
    items = [
        {**same, "external_id": "a", "started_at": start.isoformat()},
        {**same, "external_id": "b", "started_at": start.isoformat()},
        {**same, "external_id": "c", "started_at": (start + dt.timedelta(minutes=1)).isoformat()},
    ]
    assert call_ingest_batch(organization=org, items=items).ok
    flags = dict(Call.objects.filter(organization=org).values_list("external_id", "is_repeat"))
    assert flags == {"a": False, "b": False, "c": True}
    rollups_refresh(org.pk)
    assert kpi_counts(org, WEEK).repeat_calls == 1


def test_a_call_a_microsecond_later_repeats_and_a_full_rebuild_keeps_the_tie_rule(org, campaign):
    # The PostgreSQL window's frame ends a microsecond before each call: a call that much
    # later is a repeat, one at the same instant is not, and the full rebuild (its flags in
    # shards of callers) derives the same flags as ingest did.
    start = dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)
    same = {"campaign_id": campaign.id, "status": "answered", "caller_number": "+13125550000"}
    later = start + dt.timedelta(microseconds=1)
    items = [
        {**same, "external_id": "a", "started_at": start.isoformat()},
        {**same, "external_id": "b", "started_at": start.isoformat()},
        {**same, "external_id": "c", "started_at": later.isoformat()},
        {**same, "external_id": "d", "started_at": later.isoformat()},
    ]
    assert call_ingest_batch(organization=org, items=items).ok
    expected = {"a": False, "b": False, "c": True, "d": True}
    flags = dict(Call.objects.filter(organization=org).values_list("external_id", "is_repeat"))
    assert flags == expected
    Call.objects.filter(organization=org).update(is_repeat=False)  # behind ingest's back
    rollups_rebuild_full(org, workers=2)
    flags = dict(Call.objects.filter(organization=org).values_list("external_id", "is_repeat"))
    assert flags == expected
    assert kpi_counts(org, WEEK).repeat_calls == 2


def test_money_with_four_decimals_sums_exactly_in_every_grain(org, campaign):
    # The PostgreSQL recompute sums money as whole ten-thousandths: the largest amount a
    # call holds and the smallest step must come back to the cent's hundredth in each grain.
    amounts = [Decimal("9999999999.9999"), Decimal("0.0001"), Decimal("1234.5678")]
    costs = [Decimal("0.0003"), Decimal("9999999999.9998"), Decimal("0.5")]
    for i, (amount, spent) in enumerate(zip(amounts, costs, strict=True)):
        post_calls(
            org,
            campaign,
            n=1,
            start=dt.datetime(2026, 11, 2, 15 + i, 0, tzinfo=dt.UTC),
            external_id=f"money-{i}",
            revenue=str(amount),
            cost=str(spent),
            caller_region="IL",
        )
    rollups_rebuild_full(org, workers=2)
    revenue, cost = sum(amounts), sum(costs)
    for model in RECOMPUTED_ROLLUPS:
        if model in (DurationBucketDaily, CallRollupDailyTag):
            continue  # no money in these
        rows = model.objects.filter(organization=org)
        assert list(rows.values_list("revenue", flat=True)) != [], model
        assert sum(rows.values_list("revenue", flat=True)) == revenue, model
        assert sum(rows.values_list("cost", flat=True)) == cost, model
    assert kpi_counts(org, WEEK).revenue == revenue


def test_the_hour_a_dst_change_repeats_is_one_hourly_row(org, campaign):
    # New York falls back on 2026-11-01: 1 AM local is 05:00-06:00 and 06:00-07:00 UTC.
    for n, start in enumerate(["2026-11-01T05:30:00+00:00", "2026-11-01T06:30:00+00:00"]):
        post_calls(org, campaign, n=1, start=dt.datetime.fromisoformat(start))
        Call.objects.filter(organization=org, external_id="Auto-0").update(external_id=f"fb{n}")
    rollups_refresh(org.pk)
    hours = CallRollupHourly.objects.filter(organization=org)
    assert list(hours.values_list("day", "hour", "calls")) == [(dt.date(2026, 11, 1), 1, 2)]
    assert rollup_rows(org)[0][:3] == (dt.date(2026, 11, 1), campaign.pk, 2)


def test_a_burst_of_writes_schedules_one_refresh(org, campaign, monkeypatch):
    scheduled = []
    monkeypatch.setattr(
        "kpis.tasks.rollups_refresh_task.apply_async",
        lambda args, countdown: scheduled.append(args),
    )
    from kpis.rollups import rollups_schedule_refresh

    for _ in range(50):
        rollups_schedule_refresh(org.pk)
    assert scheduled == [(org.pk,)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent connections")
def test_concurrent_refreshes_give_the_same_rows_as_one():
    org = OrganizationFactory(slug="concurrent")
    campaign = CampaignFactory(organization=org, name="Auto")
    post_calls(org, campaign, n=40)
    errors = []

    def refresh():
        try:
            rollups_refresh(org.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert kpi_counts(org, WEEK).calls == 40
    assert CallRollupDaily.objects.filter(organization=org).count() == 1
    assert not DirtyDay.objects.filter(organization=org).exists()


def spread_calls(org, campaign, days=10):
    """Two calls a day from one caller: the second of each day is a repeat."""
    items = [
        {
            "external_id": f"spread-{day}-{i}",
            "campaign_id": campaign.id,
            "started_at": dt.datetime(2026, 10, 20 + day, 15, i, tzinfo=dt.UTC).isoformat(),
            "status": "answered",
            "duration_seconds": 100,
            "caller_number": "+13125550000",
        }
        for day in range(days)
        for i in range(2)
    ]
    assert call_ingest_batch(organization=org, items=items).ok
    Call.objects.filter(organization=org).update(is_repeat=False)  # behind ingest's back


def test_full_rebuild_rederives_flags_and_recomputes_every_day(org, campaign):
    spread_calls(org, campaign)
    CallRollupDaily.objects.filter(organization=org).delete()
    assert rollups_rebuild_full(org, workers=1) == 20
    assert not DirtyDay.objects.filter(organization=org).exists()
    counts = kpi_counts(org, KpiFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 30)))
    # Each call after the first one is within the 30-day window of the one before it.
    assert (counts.calls, counts.repeat_calls) == (20, 19)
    assert CallRollupDaily.objects.filter(organization=org).count() == 10


def test_a_full_rebuild_killed_halfway_leaves_every_day_to_the_refresh(org, campaign, monkeypatch):
    spread_calls(org, campaign)
    rollups_refresh(org.pk)
    CallRollupDaily.objects.filter(organization=org).delete()  # rows to repair
    import kpis.rollups

    original, chunks = kpis.rollups._recompute, []

    def die_on_the_third_chunk(*args, **kwargs):
        chunks.append(kwargs)
        if len(chunks) == 3:
            raise RuntimeError("worker killed")
        original(*args, **kwargs)

    monkeypatch.setattr(kpis.rollups, "_recompute", die_on_the_third_chunk)
    with pytest.raises(RuntimeError):
        rollups_rebuild_full(org, workers=1)
    monkeypatch.undo()
    # Two chunks committed their rows, but not their spikes: every day is still marked.
    marked = set(DirtyDay.objects.filter(organization=org).values_list("day", flat=True))
    done = {row.day for row in CallRollupDaily.objects.filter(organization=org)}
    assert done and done < marked
    assert marked == {dt.date(2026, 10, 20 + n) for n in range(10)}
    assert rollups_refresh(org.pk) == 10
    counts = kpi_counts(org, KpiFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 30)))
    assert (counts.calls, counts.repeat_calls) == (20, 19)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent connections")
def test_full_rebuild_on_parallel_connections_gives_the_rows_of_one_transaction():
    org = OrganizationFactory(slug="parallel")
    campaign = CampaignFactory(organization=org, name="Auto")
    spread_calls(org, campaign, days=12)
    rollups_refresh(org.pk)
    expected = rollup_rows(org)
    CallRollupDaily.objects.filter(organization=org).update(calls=999)  # wrong rows to replace
    other = OrganizationFactory(slug="parallel-other")
    post_calls(other, CampaignFactory(organization=other, name="Auto"), n=3)
    assert rollups_rebuild_full(org, workers=2) == 24
    assert rollup_rows(org) == expected
    counts = kpi_counts(org, KpiFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 30)))
    assert counts.repeat_calls == 23
    assert not DirtyDay.objects.filter(organization=org).exists()
    # The other tenant's rows are not the rebuild's business.
    assert kpi_counts(other, WEEK).calls == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent connections")
def test_a_refresh_leaves_its_days_to_a_running_full_rebuild():
    org = OrganizationFactory(slug="rebuilding")
    campaign = CampaignFactory(organization=org, name="Auto")
    locked, release = threading.Event(), threading.Event()

    def rebuild_in_progress():  # holds the lock a full rebuild holds, on its own connection
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(7302, %s)", [org.pk])
                locked.set()
                release.wait(10)
                cursor.execute("SELECT pg_advisory_unlock(7302, %s)", [org.pk])
        finally:
            connection.close()

    thread = threading.Thread(target=rebuild_in_progress)
    thread.start()
    try:
        assert locked.wait(10)
        post_calls(org, campaign, n=3)  # its refresh runs eagerly, and leaves the day
        assert rollups_refresh(org.pk) == 0
        assert DirtyDay.objects.filter(organization=org).exists()
    finally:
        release.set()
        thread.join()
    assert rollups_refresh(org.pk) == 1
    assert kpi_counts(org, WEEK).calls == 3
