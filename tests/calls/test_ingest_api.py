import datetime as dt
from decimal import Decimal

import pytest

from calls.models import Call, Campaign
from publishers.models import Publisher
from tests.factories import CampaignFactory, PublisherFactory, TrackingNumberFactory

URL = "/api/v1/calls/"


def call_item(n: int = 1, **overrides) -> dict:
    item = {
        "external_id": f"ext-{n}",
        "campaign_name": "Auto Insurance",
        "publisher_name": "Star Media",
        "started_at": "2026-11-02T15:04:05Z",
        "duration_seconds": 125,
        "status": "answered",
        "caller_number": "(312) 555-0100",
        "caller_region": "IL",
        "revenue": "45.00",
        "cost": "$12.50",
    }
    item.update(overrides)
    return item


@pytest.fixture
def names(org):
    CampaignFactory(organization=org, name="Auto Insurance")
    PublisherFactory(organization=org, name="Star Media")


def test_post_one_call_creates_it_with_normalized_values(api_client, org, names):
    response = api_client.post(URL, call_item(), format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 1, "updated": 0}
    call = Call.objects.get(organization=org, external_id="ext-1")
    assert call.campaign.name == "Auto Insurance"
    assert call.publisher.name == "Star Media"
    assert call.caller_number == "+13125550100"
    assert call.cost == Decimal("12.50")
    assert call.started_at == dt.datetime(2026, 11, 2, 15, 4, 5, tzinfo=dt.UTC)


def test_post_same_batch_twice_counts_each_call_once(api_client, org, names):
    batch = [call_item(n) for n in range(50)]
    first = api_client.post(URL, batch, format="json")
    second = api_client.post(URL, batch, format="json")
    assert first.json() == {"created": 50, "updated": 0}
    assert second.json() == {"created": 0, "updated": 50}
    assert Call.objects.filter(organization=org).count() == 50


def test_repost_updates_the_call(api_client, org, names):
    api_client.post(URL, call_item(status="missed", duration_seconds=0), format="json")
    api_client.post(URL, call_item(status="answered", duration_seconds=300), format="json")
    call = Call.objects.get(organization=org, external_id="ext-1")
    assert (call.status, call.duration_seconds) == ("answered", 300)


def test_repost_without_conversion_fields_keeps_a_later_conversion(api_client, org, names):
    item = call_item()
    del item["revenue"]
    api_client.post(URL, item, format="json")
    api_client.post(
        f"{URL}ext-1/conversion", {"converted": True, "revenue": "80.00"}, format="json"
    )
    api_client.post(URL, item, format="json")
    call = Call.objects.get(organization=org, external_id="ext-1")
    assert call.converted is True
    assert call.revenue == Decimal("80.00")


def test_batch_with_one_invalid_item_writes_nothing_and_names_item_and_field(
    api_client, org, names
):
    batch = [call_item(n) for n in range(5)]
    batch[3]["started_at"] = "yesterday-ish"
    batch[4]["status"] = "ringing"
    response = api_client.post(URL, batch, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"3", "4"}
    assert "started_at" in body["errors"]["3"]
    assert "status" in body["errors"]["4"]
    assert Call.objects.filter(organization=org).count() == 0


def test_unknown_campaign_name_is_400_by_default(api_client, org):
    response = api_client.post(URL, call_item(campaign_name="Nope"), format="json")
    assert response.status_code == 400
    assert "campaign_name" in response.json()["errors"]
    assert not Publisher.objects.filter(organization=org).exists()


def test_create_missing_creates_named_campaign_and_publisher(api_client, org):
    response = api_client.post(f"{URL}?create_missing=true", call_item(), format="json")
    assert response.status_code == 201
    assert Campaign.objects.filter(organization=org, name="Auto Insurance").exists()
    assert Publisher.objects.filter(organization=org, name="Star Media").exists()


def test_create_missing_creates_nothing_when_the_batch_is_rejected(api_client, org):
    batch = [call_item(1), call_item(2, campaign_id=999999)]
    response = api_client.post(f"{URL}?create_missing=true", batch, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"1": {"campaign_id": ["No campaign with id 999999."]}}
    assert not Campaign.objects.filter(organization=org).exists()


def test_tracking_number_gives_campaign_and_publisher(api_client, org):
    tracking = TrackingNumberFactory(organization=org, number="+18885550123")
    item = call_item(tracking_number="888-555-0123")
    del item["campaign_name"], item["publisher_name"]
    assert api_client.post(URL, item, format="json").status_code == 201
    call = Call.objects.get(organization=org)
    assert (call.campaign, call.publisher) == (tracking.campaign, tracking.publisher)
    assert call.tracking_number == tracking


def test_an_extension_or_short_did_is_kept_as_dialed_digits_not_refused(api_client, org, names):
    item = call_item(caller_number="201", tracking_number="71 23 45")
    response = api_client.post(URL, item, format="json")
    assert response.status_code == 201, response.json()
    call = Call.objects.get(organization=org)
    assert (call.caller_number, call.dialed_number) == ("201", "712345")


def test_numbers_are_read_in_the_tenants_country_and_match_its_tracking_numbers(api_client, org):
    org.country = "GB"
    org.save()
    created = api_client.post(
        "/api/v1/tracking-numbers/",
        {"number": "020 7946 0958", "campaign": CampaignFactory(organization=org).pk},
        format="json",
    )
    assert created.json()["number"] == "+442079460958"
    item = call_item(caller_number="07700 900123", tracking_number="(020) 7946-0958")
    del item["campaign_name"], item["publisher_name"]
    assert api_client.post(URL, item, format="json").status_code == 201
    call = Call.objects.get(organization=org)
    assert call.caller_number == "+447700900123"
    assert call.tracking_number.number == "+442079460958"


def test_call_without_any_campaign_reference_is_rejected(api_client):
    item = call_item()
    del item["campaign_name"]
    response = api_client.post(URL, item, format="json")
    assert response.status_code == 400
    assert "campaign" in response.json()["errors"]


def test_unknown_field_is_reported(api_client, names):
    response = api_client.post(URL, call_item(campain_name="typo"), format="json")
    assert response.json()["errors"] == {"campain_name": ["Unknown field."]}


def test_batch_over_the_limit_is_refused(api_client, settings, names):
    settings.CALLS_BATCH_MAX_ITEMS = 3
    response = api_client.post(URL, [call_item(n) for n in range(4)], format="json")
    assert response.status_code == 400
    assert "at most 3" in response.json()["detail"]


def test_body_over_the_size_limit_is_413_before_reading(api_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = api_client.post(URL, [call_item(n) for n in range(50)], format="json")
    assert response.status_code == 413


def test_conversion_endpoint_records_late_conversion(api_client, org, names):
    api_client.post(URL, call_item(), format="json")
    response = api_client.post(
        f"{URL}ext-1/conversion",
        {"converted": True, "revenue": "99.5", "converted_at": "2026-11-03T10:00:00Z"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["converted"] is True
    call = Call.objects.get(organization=org, external_id="ext-1")
    assert call.revenue == Decimal("99.5")
    assert call.converted_at == dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)


def test_conversion_for_unknown_call_is_404(api_client):
    response = api_client.post(f"{URL}nope/conversion", {"converted": True}, format="json")
    assert response.status_code == 404


def test_conversion_with_bad_revenue_is_400_naming_the_field(api_client, names):
    api_client.post(URL, call_item(), format="json")
    response = api_client.post(f"{URL}ext-1/conversion", {"revenue": "lots"}, format="json")
    assert response.status_code == 400
    assert "revenue" in response.json()["errors"]


def test_missing_api_key_is_401(client, names):
    response = client.post(URL, call_item(), content_type="application/json")
    assert response.status_code == 401


def test_revoked_api_key_is_refused(api_client, org, names):
    from ppc_dashboard.tenancy.models import ApiKey

    ApiKey.objects.get(organization=org).revoke()
    assert api_client.post(URL, call_item(), format="json").status_code == 401


def test_viewer_session_cannot_post_calls(viewer_client, names):
    assert viewer_client.post(URL, call_item(), format="json").status_code == 403


def test_rate_limit_answers_429_with_retry_after(api_client, settings, names):
    from rest_framework.settings import api_settings

    from ppc_dashboard.tenancy.throttling import ApiKeyRateThrottle

    ApiKeyRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "api_key": "3/min"}
    try:
        responses = [api_client.get(URL) for _ in range(4)]
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert int(responses[-1].headers["Retry-After"]) > 0
