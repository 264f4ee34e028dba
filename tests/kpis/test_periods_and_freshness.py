"""KPIS.md "Periods, comparisons, freshness": a range that ends today is partial and so is
its previous period; every KPI response and page says up to when writes are counted, and
numbers more than 60 s behind are stale, with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calls.ingest import call_ingest_batch
from kpis.models import DirtyDay
from kpis.rollups import rollups_mark_dirty, rollups_refresh
from kpis.selectors import KpiFilter, kpi_filter_so_far, kpi_freshness, kpis_report
from tests.factories import BuyerFactory, CampaignFactory

NEW_YORK = dt.timezone(dt.timedelta(hours=-5))  # EST, for writing the instants below
TODAY = dt.date(2026, 11, 18)
NOW = dt.datetime(2026, 11, 18, 10, 20, tzinfo=NEW_YORK)  # 10:20 in New York


def at(day: dt.date, hour: int, minute: int = 30) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK).isoformat()


@pytest.fixture
def today_and_yesterday(org):
    """Yesterday: calls at 09:30 and 14:00; today, at 10:20: one call at 09:30."""
    campaign = CampaignFactory(organization=org, name="Auto")
    buyer = BuyerFactory(organization=org, name="Desk")
    yesterday = TODAY - dt.timedelta(days=1)
    items = [
        {"external_id": "y1", "started_at": at(yesterday, 9)},
        {"external_id": "y2", "started_at": at(yesterday, 14, 0)},
        {"external_id": "t1", "started_at": at(TODAY, 9)},
    ]
    for item in items:
        item.update(campaign_id=campaign.id, status="answered", buyer_id=buyer.id)
    assert call_ingest_batch(organization=org, items=items).ok
    rollups_refresh(org.pk)
    return {"campaign": campaign, "buyer": buyer}


# --- "A range that ends today is partial" ---------------------------------------------------


def test_a_range_that_ends_today_is_cut_at_the_end_of_the_current_local_hour(org):
    week = KpiFilter(TODAY - dt.timedelta(days=6), TODAY)
    so_far = kpi_filter_so_far(week, org, now=NOW)
    # 10:20 in New York: the hours before 11:00 count, the current one included.
    assert so_far.until_hour == 11
    # "it and its previous period are both cut at the same local hour"
    assert so_far.previous_period() == KpiFilter(
        TODAY - dt.timedelta(days=13), TODAY - dt.timedelta(days=7), until_hour=11
    )
    # A range that ended yesterday is whole days.
    ended = KpiFilter(TODAY - dt.timedelta(days=7), TODAY - dt.timedelta(days=1))
    assert kpi_filter_so_far(ended, org, now=NOW).until_hour is None


def test_today_so_far_is_compared_with_yesterday_until_the_same_hour(org, today_and_yesterday):
    today = KpiFilter(TODAY, TODAY, until_hour=11)
    assert kpis_report(org, today).totals.kpis.calls == 1
    previous = kpis_report(org, today.previous_period())
    # Yesterday until 11:00: the 09:30 call, not the 14:00 one.
    assert previous.totals.kpis.calls == 1
    assert previous.cut_at_hour == 11
    assert (
        kpis_report(
            org, KpiFilter(TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=1))
        ).totals.kpis.calls
        == 2
    )


def test_the_api_cuts_a_range_that_ends_today_and_says_so(
    api_client, org, today_and_yesterday, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))
    body = api_client.get("/api/v1/kpis/", {"date_from": TODAY, "date_to": TODAY}).json()
    assert body["until_hour"] == 11
    assert body["totals"]["calls"] == 1
    assert body["previous"]["until_hour"] == 11
    assert body["previous"]["calls"] == 1


def test_a_buyer_view_counts_whole_days_and_says_so(
    api_client, org, today_and_yesterday, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))
    buyer = today_and_yesterday["buyer"]
    body = api_client.get(
        "/api/v1/kpis/", {"date_from": TODAY, "date_to": TODAY, "buyer": buyer.id}
    ).json()
    # Hourly rollups carry no buyer: whole days on both sides, stated as until_hour null.
    assert body["until_hour"] is None and body["previous"]["until_hour"] is None
    assert body["previous"]["calls"] == 2


def test_the_page_says_the_numbers_are_so_far(member_client, org, today_and_yesterday, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))
    html = member_client.get("/", {"range": "today"}).content.decode()
    assert "So far: Nov 18 until 11:00, compared with the same hours of the period before." in html
    tile = html[html.index('data-kpi="calls"') :][:600]
    assert "vs 1" in tile  # yesterday until 11:00, not the whole of yesterday's 2


# --- Freshness ------------------------------------------------------------------------------


def test_with_nothing_pending_the_numbers_are_as_of_now(org):
    now = timezone.now()
    assert kpi_freshness(org, now=now) == type(kpi_freshness(org, now=now))(
        as_of=now, pending_days=0, stale=False, reason=""
    )


def test_pending_days_set_the_as_of_time_and_the_reason(org):
    rollups_mark_dirty(org.pk, [TODAY, TODAY - dt.timedelta(days=1)], schedule=False)
    marked = DirtyDay.objects.filter(organization=org).first().pending_since
    freshness = kpi_freshness(org, now=marked + dt.timedelta(seconds=3))
    assert freshness.pending and freshness.pending_days == 2 and not freshness.stale
    assert freshness.as_of == marked
    assert freshness.reason == "recomputing 2 days of calls written in the last 3 s"


def test_numbers_more_than_60_seconds_behind_are_stale_with_the_reason(org):
    rollups_mark_dirty(org.pk, [TODAY], schedule=False)
    marked = DirtyDay.objects.get(organization=org).pending_since
    assert not kpi_freshness(org, now=marked + dt.timedelta(seconds=60)).stale
    stale = kpi_freshness(org, now=marked + dt.timedelta(minutes=4))
    assert stale.stale and stale.as_of == marked
    assert stale.reason == (
        "1 day of calls have waited 4 min for recomputation: the background worker that runs "
        "it may be down"
    )


def test_a_later_mark_on_a_pending_day_keeps_the_older_pending_time(org):
    rollups_mark_dirty(org.pk, [TODAY], schedule=False)
    first = DirtyDay.objects.get(organization=org)
    DirtyDay.objects.filter(pk=first.pk).update(
        pending_since=first.pending_since - dt.timedelta(minutes=5)
    )
    rollups_mark_dirty(org.pk, [TODAY], schedule=False)
    again = DirtyDay.objects.get(organization=org)
    assert again.version == 2
    assert again.pending_since == first.pending_since - dt.timedelta(minutes=5)


def test_a_refresh_clears_the_marks_and_the_numbers_are_fresh(org, today_and_yesterday):
    rollups_mark_dirty(org.pk, [TODAY], schedule=False)
    rollups_refresh(org.pk)
    assert not kpi_freshness(org).pending


def test_the_kpi_api_and_pages_state_freshness(api_client, member_client, org, today_and_yesterday):
    fresh = api_client.get("/api/v1/kpis/").json()["freshness"]
    assert fresh["pending"] is False and fresh["stale"] is False and fresh["reason"] == ""
    rollups_mark_dirty(org.pk, [TODAY], schedule=False)
    DirtyDay.objects.filter(organization=org).update(
        pending_since=timezone.now() - dt.timedelta(minutes=10)
    )
    for url in ("/api/v1/kpis/", "/api/v1/verdicts/", "/api/v1/reallocation/"):
        freshness = api_client.get(url).json()["freshness"]
        assert freshness["stale"] is True, url
        assert freshness["reason"].startswith("1 day of calls have waited 10 min"), url
    html = member_client.get("/").content.decode()
    assert 'data-stale="true"' in html
    assert "1 day of calls have waited 10 min for recomputation" in html
