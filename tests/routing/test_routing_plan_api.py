"""/api/v1/routing-plans/ and the buyers' routing fields: versions saved through the API with
warnings, errors keyed by target, the current version, no edits of a version, tenant
isolation and roles (analysts and viewers read only)."""

from __future__ import annotations

import pytest

from ppc_dashboard.tenancy.models import Role
from routing.models import Buyer, RoutingPlan
from tests.factories import BuyerFactory, CampaignFactory

PLANS = "/api/v1/routing-plans/"


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org)


def post_plan(client, campaign, targets, **extra):
    body = {"campaign": campaign.pk, "targets": targets, **extra}
    return client.post(PLANS, body, format="json")


def test_saving_a_plan_answers_the_new_version_with_its_warnings(api_client, org, campaign):
    a = BuyerFactory(organization=org, name="Acme", business_hours={"mon": [["09:00", "17:00"]]})
    response = post_plan(api_client, campaign, [{"buyer": a.pk}], note="launch")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 1 and body["campaign"] == campaign.pk and body["note"] == "launch"
    assert body["targets"] == [{"buyer": a.pk, "buyer_name": "Acme", "tier": 1, "weight": 1}]
    assert body["repeat_to_first_buyer"] is True and body["created_by"] is None
    assert "the only target is closed on" in body["warnings"][0]
    assert "Sundays" in body["warnings"][0]
    assert any(w.startswith("no backup") for w in body["warnings"])

    b = BuyerFactory(organization=org, name="Backup")
    second = post_plan(
        api_client,
        campaign,
        [{"buyer": a.pk, "tier": 1, "weight": 3}, {"buyer": b.pk, "tier": 2}],
        repeat_to_first_buyer=False,
    ).json()
    assert second["version"] == 2 and second["repeat_to_first_buyer"] is False
    assert [(t["buyer"], t["tier"], t["weight"]) for t in second["targets"]] == [
        (a.pk, 1, 3),
        (b.pk, 2, 1),
    ]


def test_a_session_save_records_who_saved_it(member_client, org, campaign):
    buyer = BuyerFactory(organization=org)
    response = post_plan(member_client, campaign, [{"buyer": buyer.pk}])
    assert response.status_code == 201
    assert response.json()["created_by"] == member_client.user.email


def test_errors_name_the_target_and_field(api_client, org, campaign):
    inactive = BuyerFactory(organization=org, name="Sleepy", active=False)
    response = post_plan(
        api_client,
        campaign,
        [{"buyer": inactive.pk}, {"buyer": inactive.pk + 999, "tier": 30}, {"buyer": "x"}],
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    # A type error is found first, by the serializer, keyed as the service keys its errors.
    assert body["errors"] == {"targets[2].buyer": ["A valid integer is required."]}
    response = post_plan(
        api_client, campaign, [{"buyer": inactive.pk}, {"buyer": inactive.pk + 999, "tier": 30}]
    )
    assert response.json()["errors"] == {
        "targets[0].buyer": ["Sleepy is inactive: activate it or leave it out of the plan."],
        "targets[1].buyer": [f"No buyer with id {inactive.pk + 999}."],
        "targets[1].tier": ["Tier must be a whole number from 1 (tried first) to 20."],
    }
    empty = post_plan(api_client, campaign, [])
    assert empty.json()["errors"] == {"targets": ["A plan needs at least one buyer."]}
    unknown = post_plan(api_client, campaign, [{"buyer": inactive.pk, "priority": 1}])
    assert unknown.json()["errors"] == {"targets[0].priority": ["Unknown field."]}
    assert not RoutingPlan.objects.exists()


def test_current_filter_answers_each_campaigns_highest_version(api_client, org, campaign):
    other_campaign = CampaignFactory(organization=org)
    buyer = BuyerFactory(organization=org)
    for _ in range(3):
        post_plan(api_client, campaign, [{"buyer": buyer.pk}])
    post_plan(api_client, other_campaign, [{"buyer": buyer.pk}])
    current = api_client.get(PLANS, {"campaign": campaign.pk, "current": "true"}).json()
    assert [p["version"] for p in current["results"]] == [3]
    every_current = api_client.get(PLANS, {"current": "true"}).json()["results"]
    assert sorted((p["campaign"], p["version"]) for p in every_current) == [
        (campaign.pk, 3),
        (other_campaign.pk, 1),
    ]
    older = api_client.get(PLANS, {"campaign": campaign.pk, "current": "false"}).json()
    assert sorted(p["version"] for p in older["results"]) == [1, 2]
    assert api_client.get(PLANS, {"current": "yes"}).status_code == 400


def test_versions_are_never_edited_or_deleted(api_client, org, campaign):
    buyer = BuyerFactory(organization=org)
    plan_id = post_plan(api_client, campaign, [{"buyer": buyer.pk}]).json()["id"]
    url = f"{PLANS}{plan_id}/"
    assert api_client.get(url).json()["version"] == 1
    assert api_client.put(url, {"note": "x"}, format="json").status_code == 405
    assert api_client.patch(url, {"note": "x"}, format="json").status_code == 405
    assert api_client.delete(url).status_code == 405
    assert RoutingPlan.objects.get(pk=plan_id).note == ""


def test_plans_of_another_tenant_are_invisible_and_unusable(
    api_client, other_api_client, org, other_org, campaign
):
    mine = BuyerFactory(organization=org)
    plan_id = post_plan(api_client, campaign, [{"buyer": mine.pk}]).json()["id"]
    assert other_api_client.get(f"{PLANS}{plan_id}/").status_code == 404
    assert other_api_client.get(PLANS).json()["results"] == []
    # Their campaign filter refuses my campaign's id as it refuses a missing one.
    assert other_api_client.get(PLANS, {"campaign": campaign.pk}).json()["results"] == []
    theirs = BuyerFactory(organization=other_org)
    their_campaign = CampaignFactory(organization=other_org)
    response = post_plan(other_api_client, campaign, [{"buyer": theirs.pk}])
    assert response.status_code == 400 and "campaign" in response.json()["errors"]
    response = post_plan(other_api_client, their_campaign, [{"buyer": mine.pk}])
    assert response.json()["errors"] == {"targets[0].buyer": [f"No buyer with id {mine.pk}."]}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_analysts_and_viewers_read_plans_but_cannot_save_them(
    make_member_client, api_client, org, campaign, role
):
    buyer = BuyerFactory(organization=org)
    plan_id = post_plan(api_client, campaign, [{"buyer": buyer.pk}]).json()["id"]
    reader = make_member_client(org, role)
    assert reader.get(f"{PLANS}{plan_id}/").status_code == 200
    assert post_plan(reader, campaign, [{"buyer": buyer.pk}]).status_code == 403
    assert RoutingPlan.objects.count() == 1


def test_listing_plans_is_a_fixed_number_of_queries(
    api_client, org, campaign, django_assert_max_num_queries
):
    buyers = [BuyerFactory(organization=org) for _ in range(4)]
    for _ in range(5):
        post_plan(api_client, campaign, [{"buyer": b.pk} for b in buyers])
    with django_assert_max_num_queries(8):
        assert len(api_client.get(PLANS).json()["results"]) == 5


# --- The buyers' routing fields ----------------------------------------------------------


def test_buyer_routing_fields_round_trip(api_client):
    body = {
        "name": "Acme",
        "phone_number": "+12125550100",
        "active": False,
        "concurrency_cap": 3,
        "hourly_cap": 10,
        "daily_cap": 60,
        "monthly_cap": None,
        "geo_allow": ["us-ca", "US-NV", "US-CA"],
        "geo_deny": ["MX"],
        "ring_timeout_seconds": 30,
    }
    response = api_client.post("/api/v1/buyers/", body, format="json")
    assert response.status_code == 201, response.json()
    stored = Buyer.objects.get(pk=response.json()["id"])
    assert (stored.active, stored.concurrency_cap, stored.hourly_cap, stored.daily_cap) == (
        False,
        3,
        10,
        60,
    )
    assert stored.geo_allow == ["US-CA", "US-NV"] and stored.geo_deny == ["MX"]
    assert stored.ring_timeout_seconds == 30 and stored.monthly_cap is None
    read = api_client.get(f"/api/v1/buyers/{stored.pk}/").json()
    assert read["geo_allow"] == ["US-CA", "US-NV"] and read["concurrency_cap"] == 3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ring_timeout_seconds", 3, "Ensure this value is greater than or equal to 5."),
        ("ring_timeout_seconds", 121, "Ensure this value is less than or equal to 120."),
        ("hourly_cap", -1, "Ensure this value is greater than or equal to 0."),
        ("geo_allow", ["California"], "'CALIFORNIA' is not a country (\"US\") or region"),
        ("geo_deny", "US", "Expected a list of country or region codes"),
    ],
)
def test_buyer_routing_fields_are_checked_field_by_field(api_client, field, value, message):
    response = api_client.post("/api/v1/buyers/", {"name": "Acme", field: value}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field] and errors[field][0].startswith(message)


def test_a_code_both_allowed_and_denied_is_refused(api_client, org):
    buyer = BuyerFactory(organization=org, geo_allow=["US-CA"])
    response = api_client.patch(
        f"/api/v1/buyers/{buyer.pk}/", {"geo_deny": ["us-ca"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"geo_deny": ["US-CA cannot be both allowed and denied."]}
