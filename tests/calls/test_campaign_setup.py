"""The campaign setup screen: every field the API takes but the verdict thresholds (the KPI
engine's page, linked from each campaign), saved through the API's `campaign_save`, so a
changed qualifying threshold or duplicate window re-derives history on both paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from calls.models import Campaign
from calls.repeat_calls import repeat_flags_rederive
from kpis.models import DirtyDay
from kpis.rollups import rollups_rebuild
from tests.factories import CallFactory, CampaignFactory

FULL = {
    "name": "Auto Insurance",
    "vertical": "insurance",
    "qualifying_seconds": "120",
    "payout": "12.50",
    "rpm_floor": "1.25",
    "duplicate_window_days": "14",
    "status": "paused",
}


def text(response) -> str:
    return response.content.decode()


def test_a_manager_creates_a_campaign_with_every_field(member_client, org):
    response = member_client.post("/settings/campaigns/new/", FULL)
    assert response.status_code == 302
    assert response["Location"] == "/settings/campaigns/"
    campaign = Campaign.objects.get(organization=org)
    assert (
        campaign.name,
        campaign.vertical,
        campaign.qualifying_seconds,
        campaign.payout,
        campaign.rpm_floor,
        campaign.duplicate_window_days,
        campaign.status,
    ) == ("Auto Insurance", "insurance", 120, Decimal("12.50"), Decimal("1.25"), 14, "paused")
    listing = text(member_client.get("/settings/campaigns/"))
    assert "Created the campaign Auto Insurance." in listing
    assert f'href="/settings/campaigns/{campaign.pk}/thresholds/"' in listing


def test_the_campaign_page_links_to_its_thresholds(member_client, org):
    campaign = CampaignFactory(organization=org)
    page = text(member_client.get(f"/settings/campaigns/{campaign.pk}/"))
    assert f'href="/settings/campaigns/{campaign.pk}/thresholds/"' in page
    for name in FULL:
        assert f'name="{name}"' in page


@pytest.mark.parametrize(
    "field, value", [("payout", "-1"), ("rpm_floor", "-0.01"), ("qualifying_seconds", "-5")]
)
def test_a_negative_number_is_refused_naming_its_field(member_client, org, field, value):
    response = member_client.post("/settings/campaigns/new/", {**FULL, field: value})
    assert response.status_code == 200
    assert "greater than or equal to 0" in text(response)
    assert not Campaign.objects.exists()


def test_editing_keeps_the_verdict_thresholds_of_the_kpi_page(member_client, org):
    campaign = CampaignFactory(organization=org, verdict_thresholds={"min_calls": 40})
    response = member_client.post(f"/settings/campaigns/{campaign.pk}/", FULL)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.verdict_thresholds == {"min_calls": 40}
    assert campaign.name == "Auto Insurance"


@pytest.mark.parametrize("path", ["api", "screen"])
@pytest.mark.parametrize("change", ["qualifying_seconds", "duplicate_window_days"])
def test_a_changed_threshold_re_derives_history_on_both_paths(
    api_client, member_client, org, path, change
):
    campaign = CampaignFactory(organization=org, qualifying_seconds=90, duplicate_window_days=30)
    CallFactory(organization=org, campaign=campaign)
    # Ten days later, from the same caller: a repeat within 30 days, not within 3.
    call = CallFactory(
        organization=org, campaign=campaign, started_at=dt.datetime(2026, 11, 12, 15, tzinfo=dt.UTC)
    )
    repeat_flags_rederive(org.pk)
    rollups_rebuild(org)
    assert not DirtyDay.objects.for_organization(org).exists()
    new = {"qualifying_seconds": 120, "duplicate_window_days": 3}[change]
    if path == "api":
        response = api_client.patch(
            f"/api/v1/campaigns/{campaign.pk}/", {change: new}, format="json"
        )
        assert response.status_code == 200
    else:
        body = {**FULL, "qualifying_seconds": "90", "duplicate_window_days": "30", change: new}
        assert member_client.post(f"/settings/campaigns/{campaign.pk}/", body).status_code == 302
    call_day = call.started_at.astimezone(org.tzinfo).date()
    assert DirtyDay.objects.for_organization(org).filter(day=call_day).exists()


def test_a_rename_re_derives_nothing(member_client, org, monkeypatch):
    changes = []
    monkeypatch.setattr(
        "calls.services.campaign_settings_changed", lambda *a, **k: changes.append(k)
    )
    campaign = CampaignFactory(organization=org, qualifying_seconds=120, duplicate_window_days=14)
    body = {**FULL, "name": "Renamed"}
    assert member_client.post(f"/settings/campaigns/{campaign.pk}/", body).status_code == 302
    assert changes == []
