"""The Organization admin as the kpis app extends it: a new time zone moves the tenant's rollups
to the new local days; tenant thresholds that a campaign contradicts are refused."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from calls.ingest import call_ingest_batch
from kpis.models import CallRollupDaily
from tests.factories import CampaignFactory


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_changing_the_time_zone_rebuilds_the_rollups_in_the_new_zone(
    admin_client, org, django_capture_on_commit_callbacks
):
    org.timezone = "America/New_York"
    org.save()
    campaign = CampaignFactory(organization=org)
    # 03:30 UTC on Nov 10 is still Nov 9 in New York, and already Nov 10 in Berlin.
    started = dt.datetime(2026, 11, 10, 3, 30, tzinfo=dt.UTC).isoformat()
    item = {"external_id": "late", "campaign_id": campaign.id, "started_at": started}
    with django_capture_on_commit_callbacks(execute=True):
        assert call_ingest_batch(organization=org, items=[item | {"status": "missed"}]).ok
    days = CallRollupDaily.objects.filter(organization=org).values_list("day", flat=True)
    assert list(days) == [dt.date(2026, 11, 9)]

    form = {
        "name": org.name,
        "slug": org.slug,
        "timezone": "Europe/Berlin",
        "currency": org.currency,
        "country": org.country,
        "webhook_token": org.webhook_token,
        "twilio_auth_token": "",
        "verdict_thresholds": "{}",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/tenancy/organization/{org.pk}/change/", form, follow=True
        )
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.timezone == "Europe/Berlin"
    assert list(days.all()) == [dt.date(2026, 11, 10)]


def test_tenant_thresholds_that_a_campaign_contradicts_are_refused(admin_client, org):
    CampaignFactory(organization=org, name="Auto", verdict_thresholds={"weak_conversion_pct": 10})
    CampaignFactory(organization=org, name="Home")
    form = {
        "name": org.name,
        "slug": org.slug,
        "timezone": org.timezone,
        "currency": org.currency,
        "country": org.country,
        "webhook_token": org.webhook_token,
        "twilio_auth_token": "",
        "verdict_thresholds": '{"strong_conversion_pct": 8}',
    }
    response = admin_client.post(f"/admin/tenancy/organization/{org.pk}/change/", form)
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors["verdict_thresholds"]
    assert errors == [
        "These thresholds contradict campaign overrides; change those first.",
        "campaign 'Auto': weak_conversion_pct (10) must not exceed strong_conversion_pct (8)",
    ]
    org.refresh_from_db()
    assert org.verdict_thresholds == {}
    # Thresholds the campaigns agree with are taken.
    form["verdict_thresholds"] = '{"strong_conversion_pct": 12}'
    response = admin_client.post(f"/admin/tenancy/organization/{org.pk}/change/", form)
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.verdict_thresholds == {"strong_conversion_pct": 12}
