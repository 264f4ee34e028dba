"""What-if on a week whose numbers are worked by hand.

Monday 2 November 2026, New York. Campaign Auto, plan v1 = Day Shift (weekdays 09:00-17:00):
4 answered calls at 10:00 (30.00 revenue each, 10 min), 1 missed at 11:00 (sent to Day Shift),
3 with no buyer at 19:00. Evening (17:00-23:00 every day, not in the plan) answered 5 of the
10 calls another campaign sent it.

Answer probabilities (prior = the tenant's buyers' average, 10 pseudo-calls):
  prior = (4 + 5) / (5 + 10) = 0.6
  Day Shift = (4 + 10 x 0.6) / (5 + 10) = 2/3;  Evening = (5 + 10 x 0.6) / (10 + 10) = 0.55
Current plan: the 5 daytime calls answered 5 x 2/3; the 3 evening calls missed.
Evening added as a backup: the evening's 3 missed calls x 0.55 = 1.65 recovered, x 30.00 per
answered call = 49.50.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat

from kpis.rollups import rollups_rebuild
from kpis.selectors import KpiFilter
from kpis.whatif import TargetAdd, WhatIfEdits, WhatIfError, campaign_what_if
from routing.models import RoutingPlan, RoutingPlanTarget
from tests.factories import BuyerFactory, CallFactory, CampaignFactory

WEEKDAYS_9_TO_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
EVENINGS = {day: [["17:00", "23:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
MONDAY = dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)  # midnight in New York
WEEK = KpiFilter(date_from=dt.date(2026, 11, 2), date_to=dt.date(2026, 11, 8))
BODY = {"date_from": "2026-11-02", "date_to": "2026-11-08"}


def _call(org, campaign, buyer, hour, minute, status, region="", revenue="0"):
    CallFactory(
        organization=org,
        campaign=campaign,
        buyer=buyer,
        started_at=MONDAY + dt.timedelta(hours=hour, minutes=minute),
        status=status,
        duration_seconds=600 if status == "answered" else 0,
        revenue=Decimal(revenue),
        caller_region=region,
    )


@pytest.fixture
def week(org, other_org):
    auto = CampaignFactory(organization=org, name="Auto")
    other = CampaignFactory(organization=org, name="Home")
    day = BuyerFactory(organization=org, name="Day Shift", business_hours=WEEKDAYS_9_TO_17)
    evening = BuyerFactory(organization=org, name="Evening", business_hours=EVENINGS)
    for minute in (0, 10, 20, 30):
        _call(org, auto, day, 10, minute, "answered", revenue="30.00")
    _call(org, auto, day, 11, 0, "missed")
    for minute, region in ((10, "TX"), (20, "TX"), (30, "IL")):
        _call(org, auto, None, 19, minute, "no_buyer", region=region)
    for n in range(10):
        _call(org, other, evening, 20, n, "answered" if n < 5 else "missed")
    plan = RoutingPlan.objects.create(organization=org, campaign=auto, version=1)
    RoutingPlanTarget.objects.create(organization=org, plan=plan, buyer=day, tier=1)
    # Another tenant's history must not move this tenant's probabilities.
    rival = BuyerFactory(organization=other_org, name="Rival")
    for _ in range(20):
        CallFactory(organization=other_org, buyer=rival, status="missed", duration_seconds=0)
    rollups_rebuild(org)
    rollups_rebuild(other_org)
    return {"auto": auto, "day": day, "evening": evening}


def test_a_backup_open_in_the_evening_recovers_the_evenings_missed_calls_times_its_odds(org, week):
    edits = WhatIfEdits(add=(TargetAdd(week["evening"].id, tier=2),))
    result = campaign_what_if(org, week["auto"], WEEK, edits)
    odds = {o.name: o.probability for o in result.odds}
    assert result.prior == pytest.approx(0.6)
    assert odds == pytest.approx({"Day Shift": 2 / 3, "Evening": 0.55})
    assert (result.observed_calls, result.observed_missed) == (8, 4)
    assert result.before.calls == pytest.approx(8)
    assert result.before.answered == pytest.approx(5 * 2 / 3)
    assert result.after.answered == pytest.approx(5 * 2 / 3 + 3 * 0.55)
    assert result.recovered_calls == pytest.approx(1.65)
    assert result.revenue_per_answered == Decimal("30")
    assert result.recovered_revenue == Decimal("49.50")
    assert result.after.missed_rate == pytest.approx((8 - 5 * 2 / 3 - 1.65) / 8 * 100)


def test_extending_hours_and_a_geo_list_replay_through_the_decision(org, week):
    # Day Shift open until 21:00 on Mondays answers the evening at its own 2/3.
    longer = {**WEEKDAYS_9_TO_17, "mon": [["09:00", "21:00"]]}
    result = campaign_what_if(
        org, week["auto"], WEEK, WhatIfEdits(changes={week["day"].id: {"hours": longer}})
    )
    assert result.recovered_calls == pytest.approx(3 * 2 / 3)
    # A Texas-only evening backup: the day's calls split by caller state in the day's shares
    # (2 of Monday's 8 calls came from Texas), so 3 x 2/8 of the evening's calls reach it.
    week["evening"].geo_allow = ["US-TX"]
    week["evening"].save()
    edits = WhatIfEdits(add=(TargetAdd(week["evening"].id, tier=2),))
    result = campaign_what_if(org, week["auto"], WEEK, edits)
    assert result.recovered_calls == pytest.approx(3 * 2 / 8 * 0.55)


def test_raising_a_cap_recovers_the_calls_over_it(org, week):
    week["day"].hourly_cap = 2
    week["day"].save()
    result = campaign_what_if(
        org, week["auto"], WEEK, WhatIfEdits(changes={week["day"].id: {"hourly_cap": None}})
    )
    # At 10:00 Day Shift took 2 of the 4 calls under its cap; uncapped it takes all 4.
    assert result.before.answered == pytest.approx(3 * 2 / 3)
    assert result.recovered_calls == pytest.approx(2 * 2 / 3)


def test_edits_naming_another_tenants_buyer_or_one_outside_the_plan_are_refused(
    org, other_org, week
):
    rival = BuyerFactory(organization=other_org)
    with pytest.raises(WhatIfError, match="no buyer"):
        campaign_what_if(org, week["auto"], WEEK, WhatIfEdits(add=(TargetAdd(rival.id),)))
    with pytest.raises(WhatIfError, match="not in the plan"):
        campaign_what_if(
            org, week["auto"], WEEK, WhatIfEdits(changes={week["evening"].id: {"weight": 2}})
        )


def test_what_if_api_answers_before_and_after(api_client, week):
    body = {
        **BODY,
        "campaign": week["auto"].id,
        "add_targets": [{"buyer": week["evening"].id, "tier": 2}],
    }
    response = api_client.post("/api/v1/what-if", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["plan_version"] == 1
    assert data["observed"]["missed"] == 4
    assert data["before"]["missed"] == pytest.approx(8 - 10 / 3, abs=0.01)
    assert data["recovered_calls"] == pytest.approx(1.65)
    assert data["recovered_revenue"] == "49.5000"
    assert "answer" in data["model"]


@pytest.mark.parametrize(
    "edit, field",
    [
        (
            {"changes": [{"buyer": 1, "business_hours": {"mon": [["21:00", "09:00"]]}}]},
            "changes[0].business_hours",
        ),
        (
            {"changes": [{"buyer": 1, "weight": 2}, {"buyer": 1, "concurrency_cap": 0}]},
            "changes[1].concurrency_cap",
        ),
        ({"date_from": "2026-11-09"}, "date_from"),
        ({"add_targets": [{"buyer": "x"}]}, "add_targets[0].buyer"),
        ({"remove_targets": [1, "x"]}, "remove_targets[1]"),
        ({"changes": "x"}, "changes"),
    ],
)
def test_what_if_api_refuses_bad_edits_in_the_error_shape(api_client, week, edit, field):
    body = {**BODY, "campaign": week["auto"].id, **edit}
    response = api_client.post("/api/v1/what-if", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}
    assert list(response.json()["errors"]) == [field], response.json()


def test_what_if_api_names_the_edit_whose_buyer_cannot_be_replayed(api_client, week, other_org):
    rival = BuyerFactory(organization=other_org)
    cases = [
        (
            {"add_targets": [{"buyer": week["evening"].id}, {"buyer": rival.id}]},
            "add_targets[1].buyer",
        ),
        ({"remove_targets": [week["evening"].id]}, "remove_targets[0]"),
        ({"changes": [{"buyer": week["evening"].id, "weight": 2}]}, "changes[0].buyer"),
    ]
    for edit, field in cases:
        body = {**BODY, "campaign": week["auto"].id, **edit}
        response = api_client.post("/api/v1/what-if", body, format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field], response.json()


def test_what_if_api_is_tenant_scoped(other_api_client, api_client, week, other_org):
    body = {**BODY, "campaign": week["auto"].id}
    response = other_api_client.post("/api/v1/what-if", body, format="json")
    assert response.status_code == 400
    assert "campaign" in response.json()["errors"]
    rival = BuyerFactory(organization=other_org)
    body["add_targets"] = [{"buyer": rival.id}]
    response = api_client.post("/api/v1/what-if", body, format="json")
    assert response.status_code == 400


def test_campaign_page_what_if_form_shows_the_replay(member_client, week):
    url = f"/campaigns/{week['auto'].id}/"
    params = {"range": "custom", "date_from": "2026-11-02", "date_to": "2026-11-08"}
    html = member_client.get(url, params).content.decode()
    assert 'id="what-if"' in html and 'id="what-if-results"' not in html
    params |= {"wi-add_buyer": week["evening"].id}
    response = member_client.get(url, params)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="what-if-results"' in html
    shown = floatformat(5 * 2 / 3 + 3 * 0.55 - 5 * 2 / 3, 1)  # 1.65 to one place, as computed
    assert f"<strong>{shown}</strong> more answered calls" in html
    assert "$49.50" in html
    assert "55.0%" in html  # Evening's answer probability


def test_campaign_page_what_if_form_explains_a_bad_edit(member_client, week):
    url = f"/campaigns/{week['auto'].id}/"
    params = {"wi-hours_buyer": week["day"].id, "wi-hours_open": "09:00"}
    html = member_client.get(url, params).content.decode()
    assert "Give both the opening and the closing time." in html
    assert 'id="what-if-results"' not in html


def test_a_viewer_may_run_a_what_if_it_saves_nothing(viewer_client, week):
    body = {**BODY, "campaign": week["auto"].id}
    response = viewer_client.post("/api/v1/what-if", body, format="json")
    assert response.status_code == 200
    assert RoutingPlan.objects.filter(campaign=week["auto"]).count() == 1
