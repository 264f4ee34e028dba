"""Velocity spikes judged in SQL from the hourly rollups: the rule of kpis.verdicts, with
hand-computed series, and kept right by the rollup refresh as calls come and go."""

import datetime as dt

import pytest
from django.db import connection  # noqa: F401 (skipif)

from calls.ingest import call_ingest_batch
from calls.services import calls_delete
from kpis.models import CallRollupHourly, VelocitySpike
from kpis.rollups import rollups_rebuild, rollups_rebuild_full, rollups_refresh
from kpis.spikes import days_judged_after, spikes_by_publisher, spikes_rejudge
from kpis.verdicts import Spike
from tests.factories import CampaignFactory, OrganizationFactory, PublisherFactory

FIRST = dt.date(2026, 3, 2)


def ten_oclock_series(org, campaign, publisher, calls_by_day: list[int]) -> None:
    """Hourly rollup rows of a publisher's 10:00 hour, one a day from FIRST (0: no row)."""
    CallRollupHourly.objects.bulk_create(
        CallRollupHourly(
            organization=org,
            day=FIRST + dt.timedelta(days=index),
            hour=10,
            campaign=campaign,
            publisher=publisher,
            calls=calls,
        )
        for index, calls in enumerate(calls_by_day)
        if calls
    )


def judged_series(calls_by_day: list[int]) -> list[tuple[int, int]]:
    """(day index, trailing total) of the spikes of one publisher's 10:00 hour, day by day;
    the first week is history only."""
    org = OrganizationFactory()
    ten_oclock_series(
        org,
        CampaignFactory(organization=org),
        PublisherFactory(organization=org),
        calls_by_day,
    )
    spikes_rejudge(org, since=FIRST + dt.timedelta(days=7))
    spikes = VelocitySpike.objects.filter(organization=org, campaign__isnull=True)
    return [((s.day - FIRST).days, s.trailing_calls) for s in spikes.order_by("day")]


def test_more_than_three_times_the_trailing_mean_spikes(db):
    # 4 calls on each of 7 days, then 13 (> 3 x 4), then 12 (not > 3 x 37 / 7)
    assert judged_series([4] * 7 + [13, 12]) == [(7, 28)]


def test_ten_calls_at_least_and_strictly_more_than_three_times(db):
    # silent week: 9 calls is too few, 10 spikes; then 10 against a week holding 10: 70 > 30
    assert judged_series([0] * 7 + [9, 10, 10]) == [(8, 9), (9, 19)]
    # 7 x 10 = 70 is not more than 3 x 24 = 72
    assert judged_series([0, 0, 0, 0, 0, 0, 24, 10]) == []


def test_the_trailing_window_is_exactly_the_seven_days_before(db):
    # the 100 calls of day 0 have left the window by day 8
    assert judged_series([100] + [4] * 7 + [13]) == [(8, 28)]


def test_a_series_with_gaps(db):
    # day 7: 14 x 7 = 98 > 3 x 24; day 10: 280 > 3 x 46; day 14: 210 is not > 3 x 77
    calls = [3, 0, 0, 12, 4, 4, 1, 14, 0, 11, 40, 2, 10, 0, 30]
    assert judged_series(calls) == [(7, 24), (10, 46)]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="shards are for PostgreSQL")
def test_shards_of_publishers_judge_their_own_spikes_only(db):
    org = OrganizationFactory()
    campaign = CampaignFactory(organization=org)
    publishers = [PublisherFactory(organization=org) for _ in range(2)]
    for publisher in publishers:
        ten_oclock_series(org, campaign, publisher, [4] * 7 + [13])

    def spiking():
        spikes = VelocitySpike.objects.filter(organization=org, campaign__isnull=True)
        return sorted(spikes.values_list("publisher_id", flat=True))

    first = next(p.pk for p in publishers if p.pk % 2 == 0)
    spikes_rejudge(org, since=FIRST, publishers=(0, 2))
    assert spiking() == [first]
    spikes_rejudge(org, since=FIRST, publishers=(1, 2))
    spikes_rejudge(org, since=FIRST, publishers=(0, 2))  # leaves the other shard's spikes
    assert spiking() == sorted(p.pk for p in publishers)


def test_the_days_a_change_can_move_are_the_day_and_the_week_after():
    day = dt.date(2026, 3, 2)
    assert days_judged_after([day]) == [day + dt.timedelta(days=n) for n in range(8)]
    assert len(days_judged_after([day, day + dt.timedelta(days=2)])) == 10


# --- kept right by the rollups ------------------------------------------------------------


@pytest.fixture
def burst(org, django_capture_on_commit_callbacks):
    """A publisher: 2 calls at 15:00 UTC on 7 days, then 14 on the eighth day."""
    org.timezone = "UTC"
    org.save()
    campaign = CampaignFactory(organization=org, name="Auto")
    PublisherFactory(organization=org, name="Star")
    items = []
    for day in range(8):
        for n in range(14 if day == 7 else 2):
            started = dt.datetime(2026, 3, 2 + day, 15, n, tzinfo=dt.UTC)
            items.append(
                {
                    "external_id": f"b{day}-{n}",
                    "campaign_id": campaign.id,
                    "publisher_name": "Star",
                    "started_at": started.isoformat(),
                    "caller_number": f"+1312555{day:02d}{n:02d}",
                    "status": "answered",
                    "duration_seconds": 60,
                }
            )
    with django_capture_on_commit_callbacks(execute=True):
        assert call_ingest_batch(organization=org, items=items).ok
    return campaign


def spikes_of(org, campaign_id=None):
    found = spikes_by_publisher(org, dt.date(2026, 3, 1), dt.date(2026, 3, 31), campaign_id)
    return [
        (spike.hour, spike.calls, spike.trailing_mean)
        for spikes in found.values()
        for spike in spikes
    ]


def test_posted_calls_are_judged_by_the_refresh(org, burst):
    assert spikes_of(org) == [(dt.datetime(2026, 3, 9, 15), 14, 2.0)]
    assert spikes_of(org, burst.id) == spikes_of(org)
    assert spikes_of(org, burst.id + 1000) == []


def test_a_change_a_week_before_is_judged_again(org, burst, django_capture_on_commit_callbacks):
    # 4 more calls at 15:00 on each of the 6 days from Mar 2 (7 days before the burst, the
    # window's edge): 6 a day is no spike of its own, and the burst's week holds 14 + 24.
    items = [
        {
            "external_id": f"extra-{day}-{n}",
            "campaign_id": burst.id,
            "publisher_name": "Star",
            "started_at": dt.datetime(2026, 3, 2 + day, 15, 30 + n, tzinfo=dt.UTC).isoformat(),
            "status": "missed",
        }
        for day in range(6)
        for n in range(4)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert call_ingest_batch(organization=org, items=items).ok
    assert spikes_of(org) == []  # 14 x 7 = 98 is not more than 3 x 38
    with django_capture_on_commit_callbacks(execute=True):
        calls_delete(organization=org, external_ids=[item["external_id"] for item in items])
    assert spikes_of(org) == [(dt.datetime(2026, 3, 9, 15), 14, 2.0)]


def test_rebuilds_judge_the_same_spikes(org, burst):
    VelocitySpike.objects.filter(organization=org).delete()
    rollups_rebuild(org)
    assert spikes_of(org) == [(dt.datetime(2026, 3, 9, 15), 14, 2.0)]
    VelocitySpike.objects.filter(organization=org).delete()
    # Chunks of a day or two: the spike's week spans chunks, judged at the end.
    rollups_rebuild_full(org, workers=4)
    assert spikes_of(org) == [(dt.datetime(2026, 3, 9, 15), 14, 2.0)]
    assert rollups_refresh(org.pk) == 0


def test_spikes_never_mix_tenants(org, burst):
    other = OrganizationFactory()
    assert spikes_by_publisher(other, dt.date(2026, 3, 1), dt.date(2026, 3, 31), None) == {}
    found = spikes_by_publisher(org, FIRST, dt.date(2026, 3, 31), None)
    assert list(found.values()) == [
        [Spike(hour=dt.datetime(2026, 3, 9, 15), calls=14, trailing_mean=2.0)]
    ]
