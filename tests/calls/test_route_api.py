"""POST /api/v1/route: the decision for a call, and with call_id the slot it takes."""

from __future__ import annotations

import datetime as dt

import pytest

from calls.models import CallStatus
from routing.models import RoutingPlan, RoutingPlanTarget
from tests.factories import BuyerFactory, CallFactory, CampaignFactory, TrackingNumberFactory

AT = "2026-11-30T15:00:00Z"  # Monday 10:00 in New York
URL = "/api/v1/route"


@pytest.fixture
def plan(org, settings):
    settings.REDIS_URL = ""
    tracking = TrackingNumberFactory(organization=org, number="+18885550123")
    alpha = BuyerFactory(organization=org, name="Alpha", concurrency_cap=1)
    bravo = BuyerFactory(organization=org, name="Bravo")
    night = BuyerFactory(
        organization=org, name="Night", business_hours={"mon": [["20:00", "23:00"]]}
    )
    west = BuyerFactory(organization=org, name="West", geo_allow=["US-CA"])
    plan = RoutingPlan.objects.create(organization=org, campaign=tracking.campaign, version=3)
    for tier, buyer in ((1, alpha), (2, bravo), (1, night), (2, west)):
        RoutingPlanTarget.objects.create(organization=org, plan=plan, buyer=buyer, tier=tier)
    return tracking.campaign, {b.name: b for b in (alpha, bravo, night, west)}


def answered_earlier(org, campaign, buyer) -> None:
    """The caller's answered call of 10 days before AT, taken by `buyer`."""
    CallFactory(
        organization=org,
        campaign=campaign,
        buyer=buyer,
        caller_number="+13125550100",
        status=CallStatus.ANSWERED,
        duration_seconds=120,
        started_at=dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC),
    )


def route(api_client, **body):
    return api_client.post(URL, body, format="json")


def test_route_lists_destinations_in_tier_order_and_says_why_others_are_left_out(api_client, plan):
    campaign, buyers = plan
    response = route(
        api_client, campaign=campaign.pk, caller_number="+13125550100", caller_region="IL", at=AT
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["plan_version"] == 3
    assert [d["name"] for d in body["destinations"]] == ["Alpha", "Bravo"]
    assert body["destinations"][0] == {
        "buyer": buyers["Alpha"].pk,
        "name": "Alpha",
        "number": buyers["Alpha"].phone_number,
        "tier": 1,
        "ring_timeout_seconds": 20,
    }
    reasons = {s["name"]: s["reason"] for s in body["skipped"]}
    assert reasons == {"Night": "closed", "West": "geo"}
    assert all(s["detail"] for s in body["skipped"])
    assert (body["repeat_of"], body["sent_to"]) == (None, None)


def test_route_without_call_id_takes_no_slot(api_client, plan):
    campaign, _ = plan
    for _ in range(3):
        body = route(api_client, campaign=campaign.pk, at=AT).json()
        assert body["destinations"][0]["name"] == "Alpha"


def test_route_with_call_id_takes_a_slot_and_the_next_call_fails_over(api_client, plan):
    campaign, buyers = plan
    first = route(api_client, campaign=campaign.pk, at=AT, call_id="c1").json()
    assert first["sent_to"] == buyers["Alpha"].pk
    second = route(api_client, campaign=campaign.pk, at=AT, call_id="c2").json()
    assert second["sent_to"] == buyers["Bravo"].pk
    assert [d["name"] for d in second["destinations"]] == ["Bravo"]
    assert {"buyer": buyers["Alpha"].pk, "reason": "concurrency"}.items() <= next(
        s for s in second["skipped"] if s["name"] == "Alpha"
    ).items()


def test_route_by_tracking_number(api_client, plan):
    body = route(api_client, tracking_number="(888) 555-0123", caller_region="US-CA", at=AT)
    assert body.status_code == 200, body.json()
    names = [d["name"] for d in body.json()["destinations"]]
    assert names[0] == "Alpha"
    assert set(names[1:]) == {"Bravo", "West"}  # tier 2, a weighted draw


def test_repeat_caller_goes_to_the_buyer_of_the_first_call(api_client, org, plan):
    campaign, buyers = plan
    answered_earlier(org, campaign, buyers["Bravo"])
    body = route(api_client, campaign=campaign.pk, caller_number="+13125550100", at=AT).json()
    assert body["repeat_of"] == buyers["Bravo"].pk
    assert [d["name"] for d in body["destinations"]] == ["Bravo", "Alpha"]
    # Outside the campaign's duplicate window (30 days) the caller is new.
    later = "2026-12-25T15:00:00Z"
    body = route(api_client, campaign=campaign.pk, caller_number="+13125550100", at=later).json()
    assert body["repeat_of"] is None


def test_a_decision_reads_the_plan_and_the_repeat_caller_in_one_round_trip(org, plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calls.live_routing import route_call
    from routing.rules import Caller

    campaign, buyers = plan
    answered_earlier(org, campaign, buyers["Bravo"])
    at = dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC)
    caller = Caller(number="+13125550100", country="US", region="US-IL")
    route_call(organization=org, campaign=campaign, caller=caller, at=at)  # plan now cached
    with CaptureQueriesContext(connection) as queries:
        result = route_call(organization=org, campaign=campaign, caller=caller, at=at)
    assert result.decision.repeat_of_target_id == buyers["Bravo"].pk
    live_state_tables = ("routingslot", "routingcapcount")
    reads = [q["sql"] for q in queries if not any(t in (q["sql"] or "") for t in live_state_tables)]
    assert len(reads) == 1, reads


def test_a_plan_that_keeps_repeats_in_its_order_ignores_the_first_buyer(api_client, org, plan):
    campaign, buyers = plan
    RoutingPlan.objects.filter(campaign=campaign).update(repeat_to_first_buyer=False)
    answered_earlier(org, campaign, buyers["Bravo"])
    body = route(api_client, campaign=campaign.pk, caller_number="+13125550100", at=AT).json()
    assert body["repeat_of"] is None
    assert [d["name"] for d in body["destinations"]] == ["Alpha", "Bravo"]


def test_campaign_without_plan_has_no_destinations(api_client, org, settings):
    settings.REDIS_URL = ""
    campaign = CampaignFactory(organization=org)
    body = route(api_client, campaign=campaign.pk).json()
    assert body == {
        "plan_version": None,
        "destinations": [],
        "skipped": [],
        "repeat_of": None,
        "sent_to": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "campaign"),
        ({"campaign": 999999}, "campaign"),
        ({"tracking_number": "+18885550999"}, "tracking_number"),
        ({"tracking_number": "n/a"}, "tracking_number"),
        ({"caller_region": "California!"}, "caller_region"),
        ({"caller_country": "USA"}, "caller_country"),
        ({"at": "yesterday"}, "at"),
        ({"campaing": 1}, "campaing"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, plan, body, field):
    campaign, _ = plan
    if field not in ("campaign", "tracking_number"):
        body = {"campaign": campaign.pk, **body}
    response = route(api_client, **body)
    assert response.status_code == 400
    payload = response.json()
    assert set(payload) == {"detail", "code", "errors"}
    assert field in payload["errors"]


def test_another_tenants_campaign_is_unknown(other_api_client, plan):
    campaign, _ = plan
    response = route(other_api_client, campaign=campaign.pk)
    assert response.status_code == 400
    assert response.json()["errors"] == {"campaign": ["No campaign with this id."]}


def test_route_needs_an_api_key(client, plan):
    campaign, _ = plan
    response = client.post(URL, {"campaign": campaign.pk}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_route_answers_when_redis_is_down(api_client, plan, settings, caplog):
    campaign, buyers = plan
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    body = route(api_client, campaign=campaign.pk, at=AT, call_id="c1").json()
    # Fails open: the plan's order, hours and geo still apply, without live counts.
    assert [d["name"] for d in body["destinations"]] == ["Alpha", "Bravo"]
    assert body["sent_to"] == buyers["Alpha"].pk
    assert "Redis unavailable" in caplog.text


def test_a_buyer_edited_over_the_api_is_routed_by_its_new_settings_at_once(api_client, plan):
    # The plan's rules are cached per worker: the edit must still reach the next decision.
    campaign, buyers = plan
    body = {"campaign": campaign.pk, "caller_region": "US-IL", "at": AT}
    assert route(api_client, **body).json()["destinations"][0]["name"] == "Alpha"
    edited = api_client.patch(
        f"/api/v1/buyers/{buyers['Alpha'].pk}/", {"active": False}, format="json"
    )
    assert edited.status_code == 200, edited.json()
    answer = route(api_client, **body).json()
    assert [d["name"] for d in answer["destinations"]] == ["Bravo"]
    assert {s["name"]: s["reason"] for s in answer["skipped"]}["Alpha"] == "inactive"
