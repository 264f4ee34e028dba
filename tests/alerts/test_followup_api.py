"""Follow-ups through the API: list and filters, the transitions (an invalid one is a 400 in
the one error shape), who did what, the rules, the KPIs of recovery, and tenant isolation."""

import datetime as dt
from decimal import Decimal

import pytest

from alerts.followups import followups_scan
from alerts.models import FollowUp, FollowUpRule
from calls.models import Call
from kpis.rollups import rollups_rebuild
from tests.factories import CallFactory, CampaignFactory, PublisherFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC)  # Tuesday 10:00 EST
NOW = START + dt.timedelta(hours=3)


def scanned(org, calls_by_status, campaign=None, publisher=None):
    campaign = campaign or CampaignFactory(organization=org, name="Auto")
    FollowUpRule.objects.get_or_create(
        organization=org,
        campaign=campaign,
        defaults={"on_not_converted": True, "not_converted_minutes": 60},
    )
    for n, status in enumerate(calls_by_status):
        CallFactory(
            organization=org,
            campaign=campaign,
            publisher=publisher or PublisherFactory(organization=org),
            buyer=None,
            status=status,
            duration_seconds=0 if status != "answered" else 120,
            revenue=Decimal("0"),
            cost=Decimal("0"),
            started_at=START + dt.timedelta(minutes=n),
        )
    return followups_scan(organization=org, now=NOW)


def post(client, followup, action, body=None):
    return client.post(f"/api/v1/follow-ups/{followup.pk}/{action}", body or {}, format="json")


def test_list_filters_by_status_and_campaign(api_client, org, published):
    auto = scanned(org, ["missed", "no_buyer"])
    home = scanned(org, ["failed"], campaign=CampaignFactory(organization=org, name="Home"))
    post(api_client, auto[0], "lost")
    rows = api_client.get("/api/v1/follow-ups/", {"status": "open"}).json()["results"]
    # Soonest due first: Home's call started a minute before Auto's second one.
    assert [row["id"] for row in rows] == [home[0].pk, auto[1].pk]
    campaign = home[0].campaign_id
    rows = api_client.get("/api/v1/follow-ups/", {"campaign": campaign}).json()["results"]
    assert [row["id"] for row in rows] == [home[0].pk]
    assert rows[0]["campaign"] == {"id": campaign, "name": "Home"}
    assert rows[0]["reason"] == "missed" and rows[0]["caller_number"] == "+13125550100"


def test_bad_filter_is_400_naming_the_field(api_client, org):
    response = api_client.get("/api/v1/follow-ups/", {"status": "won"})
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}
    assert "status" in response.json()["errors"]


def test_contacted_then_recovered_records_who_when_and_the_revenue(api_client, org, published):
    (followup,) = scanned(org, ["missed"])
    response = post(api_client, followup, "contacted", {"note": "left a voicemail"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "contacted"
    assert body["contacted_by"] == "API key test key" and body["contacted_at"]
    assert body["note"] == "left a voicemail"
    response = post(api_client, followup, "recovered", {"revenue": "80.00"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["recovered_revenue"]) == ("recovered", "80.0000")
    assert body["closed_by"] == "API key test key" and body["closed_at"]
    call = Call.objects.get(pk=followup.call_id)
    assert call.recovered_revenue == Decimal("80.00") and call.recovered_at is not None
    # Each transition is an event for the CRM, once.
    updates = [(e[1], e[2]["follow_up"]["status"], e[3]) for e in published[1:]]
    assert updates == [
        ("followup.updated", "contacted", f"followup-{followup.pk}-contacted"),
        ("followup.updated", "recovered", f"followup-{followup.pk}-recovered"),
    ]


def test_member_transition_records_their_email(member_client, org, published):
    (followup,) = scanned(org, ["missed"])
    response = post(member_client, followup, "lost")
    assert response.status_code == 200
    assert response.json()["closed_by"] == member_client.user.email


@pytest.mark.parametrize(
    ("first", "then", "body"),
    [
        ("recovered", "lost", {}),
        ("lost", "recovered", {"revenue": "5"}),
        ("lost", "contacted", {}),
        ("contacted", "contacted", {}),
    ],
)
def test_invalid_transition_is_a_400_naming_status(api_client, org, published, first, then, body):
    (followup,) = scanned(org, ["missed"])
    first_body = {"revenue": "10"} if first == "recovered" else {}
    assert post(api_client, followup, first, first_body).status_code == 200
    response = post(api_client, followup, then, body)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"detail", "code", "errors"} and error["code"] == "invalid"
    assert list(error["errors"]) == ["status"]
    assert FollowUp.objects.get(pk=followup.pk).status == first


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("recovered", {}, "revenue"),
        ("recovered", {"revenue": "-1"}, "revenue"),
        ("recovered", {"revenue": "lots"}, "revenue"),
        ("lost", {"revenue": "5"}, "revenue"),  # only a recovery has revenue
        ("contacted", {"status": "recovered"}, "status"),
    ],
)
def test_bad_transition_bodies_are_400_naming_the_field(
    api_client, org, published, action, body, field
):
    (followup,) = scanned(org, ["missed"])
    response = post(api_client, followup, action, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert FollowUp.objects.get(pk=followup.pk).status == "open"


def test_viewer_cannot_mark_followups(viewer_client, org, published):
    (followup,) = scanned(org, ["missed"])
    assert post(viewer_client, followup, "lost").status_code == 403
    assert viewer_client.get("/api/v1/follow-ups/").status_code == 200


def test_other_tenants_followups_are_404_and_never_listed(
    api_client, other_api_client, org, other_org, published
):
    (theirs,) = scanned(other_org, ["missed"])
    assert api_client.get("/api/v1/follow-ups/").json()["results"] == []
    assert api_client.get(f"/api/v1/follow-ups/{theirs.pk}/").status_code == 404
    assert post(api_client, theirs, "lost").status_code == 404
    assert FollowUp.objects.get(pk=theirs.pk).status == "open"
    assert other_api_client.get(f"/api/v1/follow-ups/{theirs.pk}/").status_code == 200


def test_rules_are_created_for_own_campaigns_only(api_client, org, other_org):
    ours = CampaignFactory(organization=org)
    theirs = CampaignFactory(organization=other_org)
    response = api_client.post(
        "/api/v1/follow-up-rules/",
        {"campaign": ours.pk, "on_not_converted": True, "not_converted_minutes": 30},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["on_missed"] is True
    again = api_client.post("/api/v1/follow-up-rules/", {"campaign": ours.pk}, format="json")
    assert again.status_code == 400 and "campaign" in again.json()["errors"]
    response = api_client.post("/api/v1/follow-up-rules/", {"campaign": theirs.pk}, format="json")
    assert response.status_code == 400 and "campaign" in response.json()["errors"]
    bad = api_client.post(
        "/api/v1/follow-up-rules/",
        {"campaign": CampaignFactory(organization=org).pk, "fallback_hours": {"mon": "9-5"}},
        format="json",
    )
    assert bad.status_code == 400 and "fallback_hours" in bad.json()["errors"]


def test_recovery_kpis_by_campaign_and_publisher_hand_computed(api_client, org, published):
    """Star: 3 missed calls, one recovered for $50, one lost. Weak: 1 missed and 1 answered
    unconverted ($20 revenue of its own), the latter recovered for $30.

    Star: followups 3, recovered 1, recovery rate 33.3333%, recovered revenue 50.
    Weak: followups 2, recovered 1, 50%, 30; revenue 20 + 30 = 50.
    Campaign: 5, 2, 40%, 80; revenue 100; conversions stay the calls' own (0).
    """
    campaign = CampaignFactory(organization=org, name="Auto")
    star = PublisherFactory(organization=org, name="Star")
    weak = PublisherFactory(organization=org, name="Weak")
    star_ups = scanned(org, ["missed", "missed", "missed"], campaign, star)
    weak_ups = scanned(org, ["missed", "answered"], campaign, weak)
    Call.objects.filter(publisher=weak, status="answered").update(revenue=Decimal("20"))
    assert len(star_ups) == 3 and len(weak_ups) == 2
    assert post(api_client, star_ups[0], "recovered", {"revenue": "50"}).status_code == 200
    assert post(api_client, star_ups[1], "lost").status_code == 200
    (unconverted,) = [f for f in weak_ups if f.reason == "not_converted"]
    assert post(api_client, unconverted, "recovered", {"revenue": "30"}).status_code == 200
    rollups_rebuild(org)

    def kpis(**params):
        response = api_client.get(
            "/api/v1/kpis/", {"date_from": "2026-11-03", "date_to": "2026-11-03", **params}
        )
        assert response.status_code == 200, response.json()
        return response.json()

    rows = {row["label"]: row for row in kpis(group_by="publisher")["rows"]}
    assert (rows["Star"]["followups"], rows["Star"]["recovered"]) == (3, 1)
    assert rows["Star"]["recovery_rate"] == 33.3333
    assert rows["Star"]["recovered_revenue"] == "50.0000"
    assert (rows["Weak"]["followups"], rows["Weak"]["recovered"]) == (2, 1)
    assert rows["Weak"]["recovery_rate"] == 50.0
    assert rows["Weak"]["recovered_revenue"] == "30.0000"
    assert rows["Weak"]["revenue"] == "50.0000"
    (auto,) = kpis(group_by="campaign")["rows"]
    assert (auto["followups"], auto["recovered"], auto["recovery_rate"]) == (5, 2, 40.0)
    assert auto["recovered_revenue"] == "80.0000"
    assert auto["revenue"] == "100.0000"
    assert auto["profit"] == "100.0000"
    assert auto["conversions"] == 0


def test_recovery_rate_is_null_without_followups(api_client, org):
    CallFactory(organization=org, started_at=START)
    rollups_rebuild(org)
    totals = api_client.get(
        "/api/v1/kpis/", {"date_from": "2026-11-03", "date_to": "2026-11-03"}
    ).json()["totals"]
    assert (totals["followups"], totals["recovered"], totals["recovery_rate"]) == (0, 0, None)
