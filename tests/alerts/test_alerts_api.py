"""/api/v1/alert-rules/ and /api/v1/alerts/: CRUD with validation in the one error shape,
acknowledgement by role, tenant isolation."""

from __future__ import annotations

import pytest
from django.utils import timezone

from alerts import rules
from alerts.models import AlertIncident, AlertRule
from ppc_dashboard.tenancy.models import Role
from tests.factories import CampaignFactory, MembershipFactory

pytestmark = pytest.mark.django_db

RULES = "/api/v1/alert-rules/"
ALERTS = "/api/v1/alerts/"


def incident(org, **fields):
    now = timezone.now()
    return AlertIncident.objects.create(
        organization=org,
        kind=rules.MISSED_CALL_RATE,
        subject_key="tenant",
        summary="Auto: 20.0% of 20 calls missed",
        values={"calls": 20},
        opened_at=now,
        last_seen_at=now,
        **fields,
    )


def test_create_a_default_and_a_campaign_override(api_client, org):
    hvac = CampaignFactory(organization=org, name="HVAC")
    member = MembershipFactory(organization=org, role=Role.ANALYST)
    created = api_client.post(
        RULES,
        {"kind": "missed_call_rate", "thresholds": {"rate_pct": 10}, "cooldown_minutes": 15},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["thresholds_in_force"] == {
        "rate_pct": 10.0,
        "min_calls": 20,
        "window_minutes": 60,
    }
    override = api_client.post(
        RULES,
        {
            "kind": "missed_call_rate",
            "campaign": hvac.pk,
            "thresholds": {"min_calls": 5},
            "email_members": [member.pk],
            "email_addresses": ["night@acme.test"],
        },
        format="json",
    )
    assert override.status_code == 201, override.json()
    body = override.json()
    # The tenant default's 10% lies under the override's 5 calls.
    assert body["thresholds_in_force"] == {"rate_pct": 10.0, "min_calls": 5, "window_minutes": 60}
    assert (body["email_members"], body["email_addresses"]) == ([member.pk], ["night@acme.test"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "missed_call_rate", "thresholds": {"rate_pct": 150}}, "thresholds"),
        ({"kind": "missed_call_rate", "thresholds": {"bogus": 1}}, "thresholds"),
        ({"kind": "missed_call_rate", "thresholds": [1]}, "thresholds"),
        ({"kind": "sunspots"}, "kind"),
        ({"kind": "no_answer", "cooldown_minutes": 100000}, "cooldown_minutes"),
        ({"kind": "no_answer", "email_addresses": ["not-an-address"]}, "email_addresses"),
        ({"kind": "no_answer", "colour": "red"}, "colour"),
    ],
)
def test_bad_rules_are_400s_naming_the_field(api_client, body, field):
    response = api_client.post(RULES, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]


def test_one_rule_per_kind_and_campaign(api_client, org):
    assert api_client.post(RULES, {"kind": "no_answer"}, format="json").status_code == 201
    again = api_client.post(RULES, {"kind": "no_answer"}, format="json")
    assert again.status_code == 400
    assert "already exists" in again.json()["errors"]["kind"][0]


def test_kpis_stale_is_for_the_whole_organization(api_client, org):
    campaign = CampaignFactory(organization=org)
    response = api_client.post(
        RULES, {"kind": "kpis_stale", "campaign": campaign.pk}, format="json"
    )
    assert response.status_code == 400
    assert "campaign" in response.json()["errors"]


def test_another_tenants_campaign_or_member_is_refused(api_client, other_org):
    theirs = CampaignFactory(organization=other_org)
    their_member = MembershipFactory(organization=other_org)
    response = api_client.post(
        RULES,
        {"kind": "no_answer", "campaign": theirs.pk, "email_members": [their_member.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert {"campaign", "email_members"} <= set(response.json()["errors"])


def test_rules_and_alerts_of_another_tenant_are_invisible(api_client, org, other_org):
    theirs = AlertRule.objects.create(organization=other_org, kind=rules.NO_ANSWER)
    their_incident = incident(other_org)
    ours = incident(org)
    assert [r["id"] for r in api_client.get(RULES).json()["results"]] == []
    assert api_client.get(f"{RULES}{theirs.pk}/").status_code == 404
    assert api_client.delete(f"{RULES}{theirs.pk}/").status_code == 404
    assert [i["id"] for i in api_client.get(ALERTS).json()["results"]] == [ours.pk]
    assert api_client.get(f"{ALERTS}{their_incident.pk}/").status_code == 404
    assert api_client.post(f"{ALERTS}{their_incident.pk}/acknowledge").status_code == 404
    their_incident.refresh_from_db()
    assert their_incident.acknowledged_at is None


def test_alerts_filter_by_state(api_client, org):
    open_one = incident(org)
    resolved = incident(org, resolved_at=timezone.now())
    listed = api_client.get(ALERTS, {"state": "open"}).json()["results"]
    assert [(i["id"], i["state"]) for i in listed] == [(open_one.pk, "open")]
    listed = api_client.get(ALERTS, {"state": "resolved"}).json()["results"]
    assert [i["id"] for i in listed] == [resolved.pk]
    bad = api_client.get(ALERTS, {"state": "maybe"})
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


def test_an_analyst_acknowledges_and_the_first_acknowledgement_stands(
    org, make_member_client, api_client
):
    analyst = make_member_client(org, Role.ANALYST)
    found = incident(org)
    response = analyst.post(f"{ALERTS}{found.pk}/acknowledge")
    assert response.status_code == 200
    assert response.json()["acknowledged_by_name"] == analyst.user.email
    first_at = response.json()["acknowledged_at"]
    again = api_client.post(f"{ALERTS}{found.pk}/acknowledge").json()
    assert (again["acknowledged_by_name"], again["acknowledged_at"]) == (
        analyst.user.email,
        first_at,
    )


def test_an_api_key_acknowledges_by_its_name(org, api_client):
    found = incident(org)
    body = api_client.post(f"{ALERTS}{found.pk}/acknowledge").json()
    assert body["acknowledged_by_name"] == "API key test key"


def test_a_viewer_cannot_acknowledge_or_write_rules(org, viewer_client):
    found = incident(org)
    assert viewer_client.post(f"{ALERTS}{found.pk}/acknowledge").status_code == 403
    assert viewer_client.post(RULES, {"kind": "no_answer"}, format="json").status_code == 403
    assert viewer_client.get(ALERTS).status_code == 200


def test_deleting_a_rule_resolves_its_open_incidents_and_keeps_them(api_client, org):
    created = api_client.post(RULES, {"kind": "no_answer"}, format="json").json()
    found = incident(org, rule_id=created["id"])
    assert api_client.delete(f"{RULES}{created['id']}/").status_code == 204
    found.refresh_from_db()
    assert (found.rule_id, found.resolved_at is not None) == (None, True)
