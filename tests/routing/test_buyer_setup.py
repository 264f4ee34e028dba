"""The buyer setup screen: hours of operation as a weekly grid (two windows a day or more,
closed days, midnight), converted to and from the JSON the API takes, checked by the same
rule; the time zone chosen among IANA zones; the phone number read in the tenant's country."""

from __future__ import annotations

import re

import pytest

from routing.models import Buyer
from tests.factories import BuyerFactory

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def grid(**windows: list[tuple[str, str]]) -> dict[str, str]:
    """Form data of the grid: `mon=[("09:00", "12:00"), ...]`; other cells empty."""
    data = {}
    for day in WEEKDAYS:
        for number, (opens, closes) in enumerate(windows.get(day, []), start=1):
            data[f"hours_{day}_{number}_open"] = opens
            data[f"hours_{day}_{number}_close"] = closes
    return data


BASE = {"name": "Call Center A", "phone_number": "", "timezone": "America/Chicago"}


def text(response) -> str:
    return response.content.decode()


def test_a_weekly_grid_is_stored_as_the_apis_hours(member_client, api_client, org):
    weekdays = [("09:00", "12:00"), ("13:00", "17:00")]
    data = {
        **BASE,
        "hours_mode": "weekly",
        **grid(mon=weekdays, tue=weekdays, wed=weekdays, thu=weekdays, fri=weekdays),
        **grid(sat=[("10:00", "14:00")]),
    }
    response = member_client.post("/settings/buyers/new/", data)
    assert response.status_code == 302, text(response)
    buyer = Buyer.objects.get(organization=org)
    two = [["09:00", "12:00"], ["13:00", "17:00"]]
    expected = {
        "mon": two,
        "tue": two,
        "wed": two,
        "thu": two,
        "fri": two,
        "sat": [["10:00", "14:00"]],
        "sun": [],
    }
    assert buyer.business_hours == expected
    assert buyer.timezone == "America/Chicago"
    # What the API answers for it is the same JSON.
    assert api_client.get(f"/api/v1/buyers/{buyer.pk}/").json()["business_hours"] == expected


def test_the_grid_shows_the_stored_hours_and_saving_it_changes_nothing(member_client, org):
    hours = {"mon": [["09:00", "12:00"], ["13:00", "24:00"]], "sun": []}
    buyer = BuyerFactory(organization=org, business_hours=hours, timezone="Europe/London")
    page = text(member_client.get(f"/settings/buyers/{buyer.pk}/"))
    assert 'name="hours_mon_2_open" value="13:00"' in page
    assert 'name="hours_mon_2_close" value="00:00"' in page
    assert '<option value="Europe/London" selected>' in page
    assert re.search(r"<input[^>]*value=\"weekly\"[^>]*checked", page)
    data = {
        "name": buyer.name,
        "phone_number": buyer.phone_number,
        "timezone": "Europe/London",
        "hours_mode": "weekly",
        **grid(mon=[("09:00", "12:00"), ("13:00", "00:00")]),
    }
    assert member_client.post(f"/settings/buyers/{buyer.pk}/", data).status_code == 302
    buyer.refresh_from_db()
    assert buyer.business_hours == {**{day: [] for day in WEEKDAYS}, "mon": hours["mon"]}


def test_three_windows_set_through_the_api_get_three_columns_and_survive(member_client, org):
    three = [["06:00", "08:00"], ["09:00", "12:00"], ["13:00", "17:00"]]
    buyer = BuyerFactory(organization=org, business_hours={"tue": three})
    page = text(member_client.get(f"/settings/buyers/{buyer.pk}/"))
    assert 'name="hours_tue_3_open" value="13:00"' in page
    assert 'name="hours_mon_3_open"' in page
    data = {
        "name": buyer.name,
        "phone_number": buyer.phone_number,
        "timezone": buyer.timezone,
        "hours_mode": "weekly",
        **grid(tue=[tuple(window) for window in three]),
    }
    assert member_client.post(f"/settings/buyers/{buyer.pk}/", data).status_code == 302
    buyer.refresh_from_db()
    assert buyer.business_hours["tue"] == three


def test_open_around_the_clock_is_the_apis_empty_hours(member_client, org):
    data = {**BASE, "hours_mode": "always", **grid(mon=[("09:00", "17:00")])}
    assert member_client.post("/settings/buyers/new/", data).status_code == 302
    assert Buyer.objects.get(organization=org).business_hours == {}


def test_a_closed_week_is_every_day_closed_not_around_the_clock(member_client, org):
    assert (
        member_client.post("/settings/buyers/new/", {**BASE, "hours_mode": "weekly"}).status_code
        == 302
    )
    assert Buyer.objects.get(organization=org).business_hours == {day: [] for day in WEEKDAYS}


@pytest.mark.parametrize(
    "windows, message",
    [
        ({"wed": [("17:00", "09:00")]}, "wed: 17:00-09:00 closes before it opens"),
        ({"fri": [("09:00", "")]}, "fri: window 1 needs both an open and a close time"),
        ({"thu": [("09:00", "12:00"), ("", "17:00")]}, "thu: window 2 needs both"),
    ],
)
def test_a_bad_window_is_named_on_its_row_and_nothing_is_saved(member_client, windows, message):
    data = {**BASE, "hours_mode": "weekly", **grid(**windows)}
    response = member_client.post("/settings/buyers/new/", data)
    assert response.status_code == 200
    assert message in text(response)
    assert not Buyer.objects.exists()


def test_the_time_zone_is_an_iana_zone_defaulting_to_the_tenants(member_client, org):
    org.timezone = "America/Denver"
    org.save()
    page = text(member_client.get("/settings/buyers/new/"))
    assert '<option value="America/Denver" selected>' in page
    assert '<option value="Asia/Tokyo">' in page
    response = member_client.post(
        "/settings/buyers/new/", {**BASE, "timezone": "Mars/Olympus", "hours_mode": "always"}
    )
    assert response.status_code == 200
    assert not Buyer.objects.exists()


def test_the_phone_number_is_read_in_the_tenants_country(member_client, org):
    org.country = "GB"
    org.save()
    data = {**BASE, "phone_number": "020 7946 0018", "hours_mode": "always"}
    assert member_client.post("/settings/buyers/new/", data).status_code == 302
    assert Buyer.objects.get(organization=org).phone_number == "+442079460018"


def test_the_buyer_list_says_the_hours_in_words(member_client, org):
    BuyerFactory(organization=org, name="Nights", business_hours={"sat": [["18:00", "24:00"]]})
    BuyerFactory(organization=org, name="Always", business_hours={})
    page = text(member_client.get("/settings/buyers/"))
    assert "Mon-Fri closed · Sat 18:00-24:00 · Sun closed" in page
    assert "Around the clock" in page
