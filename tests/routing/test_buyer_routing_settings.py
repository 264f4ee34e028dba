"""The buyer setup screen's routing settings: active flag, ring timeout, concurrency and
hourly/daily/monthly caps, geo allow/deny lists typed as text; checked by the model's
validators (the API's rule), shown read-only to analysts and viewers."""

from __future__ import annotations

import pytest

from ppc_dashboard.tenancy.models import Role
from routing.models import Buyer
from tests.factories import BuyerFactory

BASE = {"name": "Call Center A", "phone_number": "", "timezone": "America/Chicago"}
ROUTING = {
    "active": "on",
    "ring_timeout_seconds": "25",
    "concurrency_cap": "3",
    "hourly_cap": "10",
    "daily_cap": "80",
    "monthly_cap": "1500",
    "geo_allow": "us-ca, US-NV  CA",
    "geo_deny": "US-TX",
}


def text(response) -> str:
    return response.content.decode()


def test_routing_settings_are_stored_as_the_api_has_them(member_client, org):
    data = {**BASE, "hours_mode": "always", **ROUTING}
    response = member_client.post("/settings/buyers/new/", data)
    assert response.status_code == 302, text(response)
    buyer = Buyer.objects.get(organization=org)
    assert buyer.active is True
    assert (buyer.ring_timeout_seconds, buyer.concurrency_cap) == (25, 3)
    assert (buyer.hourly_cap, buyer.daily_cap, buyer.monthly_cap) == (10, 80, 1500)
    assert buyer.geo_allow == ["US-CA", "US-NV", "CA"]
    assert buyer.geo_deny == ["US-TX"]


def test_empty_caps_mean_no_limit_and_an_empty_timeout_the_default(member_client, org):
    data = {**BASE, "hours_mode": "always", "active": "on"}
    assert member_client.post("/settings/buyers/new/", data).status_code == 302
    buyer = Buyer.objects.get(organization=org)
    assert buyer.concurrency_cap is None and buyer.monthly_cap is None
    assert buyer.ring_timeout_seconds == 20
    assert buyer.geo_allow == [] and buyer.geo_deny == []


def test_an_unchecked_active_box_makes_the_buyer_inactive(member_client, org):
    buyer = BuyerFactory(organization=org, business_hours={})
    data = {**BASE, "name": buyer.name, "hours_mode": "always"}
    assert member_client.post(f"/settings/buyers/{buyer.pk}/", data).status_code == 302
    buyer.refresh_from_db()
    assert buyer.active is False
    assert "Inactive" in text(member_client.get("/settings/buyers/"))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("geo_allow", "US-CA, Texas", "&#x27;TEXAS&#x27; is not a country (&quot;US&quot;)"),
        ("geo_deny", "U", "&#x27;U&#x27; is not a country"),
        ("ring_timeout_seconds", "200", "less than or equal to 120"),
        ("ring_timeout_seconds", "2", "greater than or equal to 5"),
        ("daily_cap", "-1", "greater than or equal to 0"),
        ("hourly_cap", "ten", "Enter a whole number"),
    ],
)
def test_a_bad_routing_setting_is_named_and_nothing_is_saved(member_client, field, value, message):
    data = {**BASE, "hours_mode": "always", **ROUTING, field: value}
    response = member_client.post("/settings/buyers/new/", data)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert f'id="id_{field}_error' in page or f'aria-describedby="id_{field}_error' in page
    assert not Buyer.objects.exists()


def test_too_many_geo_codes_get_the_models_limit(member_client):
    codes = " ".join(f"US-{n:03d}" for n in range(301))
    data = {**BASE, "hours_mode": "always", "geo_allow": codes}
    response = member_client.post("/settings/buyers/new/", data)
    assert response.status_code == 200
    assert "At most 300 codes." in text(response)


def test_the_edit_form_shows_the_stored_lists_as_text(member_client, org):
    buyer = BuyerFactory(organization=org, geo_allow=["US-CA", "CA"], daily_cap=50)
    page = text(member_client.get(f"/settings/buyers/{buyer.pk}/"))
    assert 'name="geo_allow" value="US-CA, CA"' in page
    assert 'name="daily_cap" value="50"' in page


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_readers_see_the_routing_settings_read_only(make_member_client, org, role):
    client = make_member_client(org, role)
    buyer = BuyerFactory(
        organization=org, concurrency_cap=4, geo_allow=["US-CA"], geo_deny=["US-TX"]
    )
    page = text(client.get(f"/settings/buyers/{buyer.pk}/"))
    assert 'name="concurrency_cap"' not in page
    assert "<dt>Concurrency cap</dt><dd>4</dd>" in page
    assert "<dd>US-CA</dd>" in page and "<dd>US-TX</dd>" in page
    response = client.post(f"/settings/buyers/{buyer.pk}/", {**BASE, "concurrency_cap": "9"})
    assert response.status_code == 403
    buyer.refresh_from_db()
    assert buyer.concurrency_cap == 4


def test_another_tenants_buyer_is_not_found(member_client, other_org):
    buyer = BuyerFactory(organization=other_org, daily_cap=5)
    data = {**BASE, "hours_mode": "always", **ROUTING}
    assert member_client.get(f"/settings/buyers/{buyer.pk}/").status_code == 404
    assert member_client.post(f"/settings/buyers/{buyer.pk}/", data).status_code == 404
    buyer.refresh_from_db()
    assert buyer.daily_cap == 5


def test_geo_lists_are_stored_as_the_api_stores_them(member_client, api_client, org):
    data = {**BASE, "hours_mode": "always", "geo_allow": " us-ca,US-CA ; ca ", "geo_deny": ""}
    assert member_client.post("/settings/buyers/new/", data).status_code == 302
    buyer = Buyer.objects.get(organization=org)
    assert buyer.geo_allow == ["US-CA", "CA"]
    assert api_client.get(f"/api/v1/buyers/{buyer.pk}/").json()["geo_allow"] == ["US-CA", "CA"]


def test_a_code_both_allowed_and_denied_is_refused_as_the_api_refuses_it(
    member_client, api_client, org
):
    message = "US-TX cannot be both allowed and denied."
    data = {**BASE, "hours_mode": "always", "geo_allow": "US-CA US-TX", "geo_deny": "us-tx"}
    response = member_client.post("/settings/buyers/new/", data)
    assert response.status_code == 200
    assert message in text(response)
    assert not Buyer.objects.exists()
    body = {"name": "Via API", "geo_allow": ["US-CA", "US-TX"], "geo_deny": ["US-TX"]}
    answer = api_client.post("/api/v1/buyers/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]["geo_deny"] == [message]
