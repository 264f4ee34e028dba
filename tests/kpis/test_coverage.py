"""Coverage beside the missed-calls heatmap: the campaign's targets open per hour of the week,
against the calls its hourly rollups hold, on a dataset whose numbers are worked by hand."""

import datetime as dt
from decimal import Decimal

import pytest

from kpis.coverage import campaign_coverage
from kpis.rollups import rollups_rebuild
from kpis.selectors import KpiFilter
from routing.coverage import CoverageFlag
from routing.models import RoutingPlan, RoutingPlanTarget
from tests.factories import BuyerFactory, CallFactory, CampaignFactory

WEEKDAYS_9_TO_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
MONDAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # New York is UTC-5 that day
WEEK = KpiFilter(date_from=dt.date(2026, 11, 2), date_to=dt.date(2026, 11, 8))


def _call(org, campaign, buyer, local_hour, minute, status, revenue="0"):
    CallFactory(
        organization=org,
        campaign=campaign,
        buyer=buyer,
        started_at=MONDAY + dt.timedelta(hours=local_hour + 5, minutes=minute),
        status=status,
        duration_seconds=600 if status == "answered" else 0,
        revenue=Decimal(revenue),
    )


@pytest.fixture
def evening_gap(org, other_org):
    """Monday: 4 answered calls at 10:00 (30.00 each, 10 min), 3 with no buyer at 19:00.
    Day Shift is the tenant's only buyer, open weekdays 09:00-17:00 New York time."""
    campaign = CampaignFactory(organization=org, name="Auto")
    day = BuyerFactory(
        organization=org, name="Day Shift", business_hours=WEEKDAYS_9_TO_17, concurrency_cap=2
    )
    for minute in (0, 10, 20, 30):
        _call(org, campaign, day, 10, minute, "answered", revenue="30.00")
    for minute in (10, 20, 30):
        _call(org, campaign, None, 19, minute, "no_buyer")
    # Another tenant's buyer, open around the clock, must not cover this tenant's evening.
    BuyerFactory(organization=other_org, name="Rival 24/7")
    rollups_rebuild(org)
    return {"campaign": campaign, "day": day}


def test_coverage_of_a_campaign_without_plan_counts_the_tenants_active_buyers(org, evening_gap):
    coverage = campaign_coverage(org, evening_gap["campaign"], WEEK)
    assert coverage.plan_version is None
    assert [t.name for t in coverage.targets] == ["Day Shift"]
    assert coverage.hold_seconds == 600
    assert coverage.revenue_per_answered == Decimal("30")
    morning, evening = coverage.grid[0][10], coverage.grid[0][19]
    assert (morning.calls, morning.missed, morning.open_targets) == (4, 0, ("Day Shift",))
    assert morning.capacity == 2 and morning.peak_demand == 1  # ceil(4 x 600 s / 3600 s)
    assert morning.flag is CoverageFlag.THIN  # one target, no backup
    assert (evening.calls, evening.missed, evening.open_targets) == (3, 3, ())
    assert evening.flag is CoverageFlag.NONE
    assert evening.missed_revenue == Decimal("90")  # 3 missed x 30.00 per answered call
    assert [c.label for c in coverage.flagged] == ["Mon 19:00", "Mon 10:00"]
    assert coverage.missed_in_flagged == 3
    assert coverage.revenue_in_flagged == Decimal("90")


def test_coverage_reads_the_current_plan_version(org, evening_gap):
    campaign = evening_gap["campaign"]
    late = BuyerFactory(organization=org, name="Late", business_hours={"mon": [["18:00", "23:00"]]})
    old = RoutingPlan.objects.create(organization=org, campaign=campaign, version=1)
    RoutingPlanTarget.objects.create(organization=org, plan=old, buyer=evening_gap["day"])
    plan = RoutingPlan.objects.create(organization=org, campaign=campaign, version=2)
    for buyer in (evening_gap["day"], late):
        RoutingPlanTarget.objects.create(organization=org, plan=plan, buyer=buyer, tier=1)
    coverage = campaign_coverage(org, campaign, WEEK)
    assert coverage.plan_version == 2
    assert coverage.grid[0][19].open_targets == ("Late",)
    assert coverage.grid[0][19].flag is CoverageFlag.THIN


def test_campaign_page_shows_coverage_and_the_costly_hours(member_client, evening_gap):
    response = member_client.get(
        f"/campaigns/{evening_gap['campaign'].id}/",
        {"range": "custom", "date_from": "2026-11-02", "date_to": "2026-11-08"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="chart-coverage"' in html
    assert "Hours that need coverage" in html
    assert "no target open" in html and "Mon 19:00" in html
    assert "$90.00" in html


def test_another_tenants_campaign_page_is_not_found(other_org, member_client):
    campaign = CampaignFactory(organization=other_org)
    assert member_client.get(f"/campaigns/{campaign.id}/").status_code == 404


def test_coverage_api_answers_every_hour_of_the_week(api_client, evening_gap):
    response = api_client.get(
        "/api/v1/coverage",
        {
            "campaign": evening_gap["campaign"].id,
            "date_from": "2026-11-02",
            "date_to": "2026-11-08",
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert len(data["cells"]) == 168
    evening = data["cells"][19]  # Monday 19:00
    assert (evening["weekday"], evening["hour"], evening["flag"]) == (0, 19, "none")
    assert evening["missed"] == 3 and evening["missed_revenue"] == "90.0000"
    assert data["cells"][10]["open_targets"] == ["Day Shift"]
    assert data["missed_in_flagged"] == 3


def test_coverage_api_is_tenant_scoped_and_refuses_bad_input(other_api_client, evening_gap):
    campaign = evening_gap["campaign"].id
    response = other_api_client.get("/api/v1/coverage", {"campaign": campaign})
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}
    assert "campaign" in response.json()["errors"]
    response = other_api_client.get("/api/v1/coverage", {"date_from": "x"})
    assert response.status_code == 400
    assert {"campaign", "date_from"} <= set(response.json()["errors"])
