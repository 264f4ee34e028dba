"""The campaign thresholds settings pages: writers change them and history follows; readers
see them; another tenant's campaign is a 404.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpis.models import DirtyDay
from kpis.rollups import rollups_rebuild
from tests.factories import (
    CallFactory,
    CampaignFactory,
)


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, name="Auto leads", qualifying_seconds=90)


@pytest.fixture
def rival_campaign(other_org):
    return CampaignFactory(organization=other_org, name="Rival campaign")


# --- Campaign thresholds -------------------------------------------------------------------

GOOD_THRESHOLDS = {
    "qualifying_seconds": "120",
    "rpm_floor": "1.50",
    "duplicate_window_days": "30",
    "strong_conversion_pct": "20",
    "min_calls": "50",
}


@pytest.fixture
def settings_changes(monkeypatch):
    """Calls of campaign_settings_changed made by the settings form."""
    calls: list[dict] = []

    def record(campaign, **kwargs):
        calls.append({"campaign": campaign.pk, **kwargs})

    monkeypatch.setattr("calls.services.campaign_settings_changed", record)
    return calls


def test_campaign_list_shows_own_campaigns_only(member_client, campaign, rival_campaign):
    response = member_client.get("/settings/campaigns/")
    assert response.status_code == 200
    assert "Auto leads" in text(response)
    assert "Rival campaign" not in text(response)
    assert f'href="/settings/campaigns/{campaign.pk}/"' in text(response)
    assert f'href="/settings/campaigns/{campaign.pk}/thresholds/"' in text(response)


def test_campaign_form_shows_current_values_and_inherited_defaults(member_client, org, campaign):
    org.verdict_thresholds = {"missed_leak_pct": 8}
    org.save()
    campaign.verdict_thresholds = {"min_calls": 40}
    campaign.save()
    response = member_client.get(f"/settings/campaigns/{campaign.pk}/thresholds/")
    assert response.status_code == 200
    page = text(response)
    assert 'name="qualifying_seconds" value="90"' in page
    assert 'name="min_calls" value="40"' in page
    assert 'placeholder="8"' in page  # the tenant's missed_leak_pct
    assert 'placeholder="15"' in page  # the default strong_conversion_pct


def test_campaign_thresholds_save_and_recompute_history(member_client, campaign, settings_changes):
    response = member_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", GOOD_THRESHOLDS)
    assert response.status_code == 302
    assert response["Location"] == "/settings/campaigns/"
    campaign.refresh_from_db()
    assert campaign.qualifying_seconds == 120
    assert campaign.rpm_floor == Decimal("1.50")
    assert campaign.verdict_thresholds == {"strong_conversion_pct": 20.0, "min_calls": 50}
    assert settings_changes == [
        {"campaign": campaign.pk, "qualifying_changed": True, "duplicate_window_changed": False}
    ]


def test_duplicate_window_change_recomputes_repeat_flags(member_client, campaign, settings_changes):
    data = {**GOOD_THRESHOLDS, "qualifying_seconds": "90", "duplicate_window_days": "7"}
    assert (
        member_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", data).status_code
        == 302
    )
    assert settings_changes == [
        {"campaign": campaign.pk, "qualifying_changed": False, "duplicate_window_changed": True}
    ]


def test_rpm_floor_change_alone_recomputes_nothing(member_client, campaign, settings_changes):
    data = {"qualifying_seconds": "90", "duplicate_window_days": "30", "rpm_floor": "2"}
    assert (
        member_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", data).status_code
        == 302
    )
    campaign.refresh_from_db()
    assert campaign.rpm_floor == Decimal("2")
    assert settings_changes == []


def test_campaign_threshold_change_really_marks_history(member_client, org, campaign):
    # Unmocked: the real campaign_settings_changed marks the campaign's days for recompute.
    call = CallFactory(organization=org, campaign=campaign)
    rollups_rebuild(org)
    assert not DirtyDay.objects.for_organization(org).exists()
    data = {**GOOD_THRESHOLDS, "duplicate_window_days": "3"}
    assert (
        member_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", data).status_code
        == 302
    )
    call_day = call.started_at.astimezone(org.tzinfo).date()
    assert DirtyDay.objects.for_organization(org).filter(day=call_day).exists()


def test_blank_threshold_fields_clear_the_overrides(member_client, campaign):
    campaign.verdict_thresholds = {"min_calls": 40}
    campaign.save()
    data = {"qualifying_seconds": "90", "duplicate_window_days": "30", "min_calls": ""}
    assert (
        member_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", data).status_code
        == 302
    )
    campaign.refresh_from_db()
    assert campaign.verdict_thresholds == {}


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("qualifying_seconds", "-1", "greater than or equal to 0"),
        ("qualifying_seconds", "", "This field is required"),
        ("rpm_floor", "-0.5", "greater than or equal to 0"),
        ("duplicate_window_days", "soon", "Enter a whole number"),
        ("strong_conversion_pct", "150", "less than or equal to 100"),
        ("min_calls", "0", "greater than or equal to 1"),
        ("other_benchmark_seconds", "1.5", "Enter a whole number"),
        ("weak_conversion_pct", "30", "must not exceed strong_conversion_pct"),
    ],
)
def test_campaign_thresholds_errors_are_shown_on_their_field(
    member_client, campaign, settings_changes, field, value, message
):
    response = member_client.post(
        f"/settings/campaigns/{campaign.pk}/thresholds/", {**GOOD_THRESHOLDS, field: value}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message in text(response)
    campaign.refresh_from_db()
    assert (campaign.qualifying_seconds, campaign.verdict_thresholds) == (90, {})
    assert settings_changes == []


def test_campaign_overrides_are_checked_against_the_tenants(member_client, org, campaign):
    org.verdict_thresholds = {"strong_conversion_pct": 8}
    org.save()
    data = {"qualifying_seconds": "90", "duplicate_window_days": "30", "weak_conversion_pct": "9"}
    response = member_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", data)
    assert response.status_code == 200
    assert "must not exceed" in " ".join(response.context["form"].errors["weak_conversion_pct"])


def test_viewer_sees_campaign_thresholds_read_only(viewer_client, campaign):
    response = viewer_client.get(f"/settings/campaigns/{campaign.pk}/thresholds/")
    assert response.status_code == 200
    assert 'name="qualifying_seconds"' not in text(response)
    assert "Qualifying seconds" in text(response)


def test_viewer_cannot_change_campaign_thresholds(viewer_client, campaign):
    response = viewer_client.post(f"/settings/campaigns/{campaign.pk}/thresholds/", GOOD_THRESHOLDS)
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.qualifying_seconds == 90


def test_other_tenants_campaign_is_404(member_client, rival_campaign):
    url = f"/settings/campaigns/{rival_campaign.pk}/thresholds/"
    assert member_client.get(url).status_code == 404
    assert member_client.post(url, GOOD_THRESHOLDS).status_code == 404
    rival_campaign.refresh_from_db()
    assert rival_campaign.qualifying_seconds == 90
