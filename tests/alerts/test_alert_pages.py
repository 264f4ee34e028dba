"""/alerts/ (open alerts, history, acknowledge) and /settings/alerts/ (defaults and campaign
overrides): who may do what, and another tenant's rows never show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts import rules
from alerts.models import AlertIncident, AlertRule
from ppc_dashboard.tenancy.models import Role
from tests.factories import CampaignFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def incident(org, summary, **fields):
    now = timezone.now()
    return AlertIncident.objects.create(
        organization=org,
        kind=rules.MISSED_CALL_RATE,
        subject_key="tenant",
        summary=summary,
        values={"missed_rate_pct": 20.0, "threshold_pct": 5.0},
        last_values={"missed_rate_pct": 22.5, "threshold_pct": 5.0},
        opened_at=now - dt.timedelta(hours=1),
        last_seen_at=now,
        **fields,
    )


def test_the_alerts_page_lists_open_alerts_and_history_of_its_tenant_only(
    org, other_org, make_member_client
):
    viewer = make_member_client(org, Role.VIEWER)
    incident(org, "Auto leaks calls")
    now = timezone.now()
    incident(
        org, "HVAC leaked calls", resolved_at=now, acknowledged_at=now, acknowledged_by_name="ann@x"
    )
    incident(other_org, "Rival's secret leak")
    page = viewer.get("/alerts/").content.decode()
    assert "Auto leaks calls" in page and "22.5" in page  # the latest numbers of an open one
    assert "HVAC leaked calls" in page and "ann@x" in page
    assert "Rival" not in page
    assert "Acknowledge</button>" not in page  # viewers read only


def test_an_analyst_acknowledges_from_the_page(org, make_member_client):
    analyst = make_member_client(org, Role.ANALYST)
    found = incident(org, "Auto leaks calls")
    response = analyst.post(f"/alerts/{found.pk}/acknowledge/")
    assert response.status_code == 302
    found.refresh_from_db()
    assert (found.acknowledged_by, found.acknowledged_by_name) == (
        analyst.user,
        analyst.user.email,
    )
    assert analyst.user.email in analyst.get("/alerts/").content.decode()


def test_a_viewer_cannot_acknowledge_and_another_tenants_alert_is_404(
    org, other_org, make_member_client
):
    viewer = make_member_client(org, Role.VIEWER)
    manager = make_member_client(org, Role.MANAGER)
    ours = incident(org, "Auto leaks calls")
    theirs = incident(other_org, "Rival's leak")
    assert viewer.post(f"/alerts/{ours.pk}/acknowledge/").status_code == 403
    assert manager.post(f"/alerts/{theirs.pk}/acknowledge/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.acknowledged_at is None


def test_a_manager_sets_up_a_default_and_a_campaign_override(org, make_member_client):
    manager = make_member_client(org, Role.MANAGER)
    hvac = CampaignFactory(organization=org, name="HVAC")
    member = MembershipFactory(organization=org, role=Role.ANALYST)
    response = manager.post(
        "/settings/alerts/new/?kind=missed_call_rate",
        {
            "enabled": "on",
            "cooldown_minutes": "20",
            "email_members": [str(member.pk)],
            "email_addresses_text": "ops@acme.test\n",
            "threshold_rate_pct": "8",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    default = AlertRule.objects.get(organization=org, campaign=None)
    assert (default.thresholds, default.cooldown_minutes) == ({"rate_pct": 8.0}, 20)
    assert list(default.email_members.all()) == [member]
    assert default.email_addresses == ["ops@acme.test"]
    response = manager.post(
        f"/settings/alerts/new/?kind=missed_call_rate&campaign={hvac.pk}",
        {"campaign": str(hvac.pk), "enabled": "on", "cooldown_minutes": "30",
         "threshold_min_calls": "5"},
    )  # fmt: skip
    assert response.status_code == 302
    override = AlertRule.objects.get(organization=org, campaign=hvac)
    assert override.thresholds == {"min_calls": 5}
    page = manager.get("/settings/alerts/").content.decode()
    assert "HVAC" in page and "min_calls" in page


def test_a_bad_threshold_or_a_second_default_is_refused_and_nothing_saved(org, make_member_client):
    manager = make_member_client(org, Role.MANAGER)
    response = manager.post(
        "/settings/alerts/new/?kind=missed_call_rate",
        {"cooldown_minutes": "20", "threshold_rate_pct": "150"},
    )
    assert response.status_code == 200
    assert "less than or equal to 100" in response.content.decode()
    AlertRule.objects.create(organization=org, kind=rules.MISSED_CALL_RATE)
    response = manager.post(
        "/settings/alerts/new/?kind=missed_call_rate", {"cooldown_minutes": "20"}
    )
    assert "There is already a Missed-call rate rule" in response.content.decode()
    assert AlertRule.objects.filter(organization=org).count() == 1


def test_viewers_read_the_rules_and_cannot_change_them(org, other_org, make_member_client):
    viewer = make_member_client(org, Role.VIEWER)
    manager = make_member_client(org, Role.MANAGER)
    ours = AlertRule.objects.create(organization=org, kind=rules.NO_ANSWER)
    theirs = AlertRule.objects.create(organization=other_org, kind=rules.NO_ANSWER)
    assert viewer.get("/settings/alerts/").status_code == 200
    assert viewer.post(f"/settings/alerts/{ours.pk}/", {"cooldown_minutes": "1"}).status_code == (
        403
    )
    assert manager.get(f"/settings/alerts/{theirs.pk}/").status_code == 404
    assert manager.post(f"/settings/alerts/{theirs.pk}/delete/").status_code == 404
    assert manager.get("/settings/alerts/new/?kind=sunspots").status_code == 404


def test_deleting_an_override_from_the_page_resolves_its_open_alert(org, make_member_client):
    manager = make_member_client(org, Role.MANAGER)
    hvac = CampaignFactory(organization=org, name="HVAC")
    override = AlertRule.objects.create(
        organization=org, kind=rules.MISSED_CALL_RATE, campaign=hvac
    )
    found = incident(org, "HVAC leaks calls", rule=override)
    assert manager.get(f"/settings/alerts/{override.pk}/delete/").status_code == 200
    assert manager.post(f"/settings/alerts/{override.pk}/delete/").status_code == 302
    assert not AlertRule.objects.filter(pk=override.pk).exists()
    found.refresh_from_db()
    assert found.rule_id is None and found.resolved_at is not None
