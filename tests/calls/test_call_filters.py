"""The call log's filters (calls/filters.py): caller number, status, repeat flag, tag; one
filterset for the page, its CSV export and the API's call list.

Each rule is checked through the API and through the page, which must agree; a value that
is not valid is a 400 naming its field in the API and a visible error on the page.
"""

from __future__ import annotations

import re

import pytest

from calls.models import Call
from tests.factories import CallFactory

API = "/api/v1/calls/"


@pytest.fixture(params=["api", "page"])
def listed(request, api_client, member_client):
    """The external ids a query lists, newest first, through the API or the page."""

    def through_api(query: str) -> list[str]:
        response = api_client.get(f"{API}?{query}")
        assert response.status_code == 200, response.json()
        return [row["external_id"] for row in response.json()["results"]]

    def through_page(query: str) -> list[str]:
        response = member_client.get(f"/calls/?{query}")
        assert response.status_code == 200
        pks = [int(pk) for pk in re.findall(r'href="/calls/(\d+)/"', response.content.decode())]
        names = dict(Call.objects.filter(pk__in=pks).values_list("pk", "external_id"))
        return [names[pk] for pk in pks]

    return through_api if request.param == "api" else through_page


def call(org, external_id: str, **fields) -> Call:
    return CallFactory(organization=org, external_id=external_id, **fields)


# --- Caller number ---------------------------------------------------------------------------


@pytest.fixture
def callers(org):
    call(org, "chicago-0100", caller_number="+13125550100")
    call(org, "chicago-0199", caller_number="+13125550199")
    call(org, "london", caller_number="+442079460958")
    call(org, "withheld", caller_number="")


@pytest.mark.parametrize(
    "typed",
    ["%2B13125550100", "(312) 555-0100", "312.555.0100", "1-312-555-0100", "%2B1 312 555 0100"],
)
def test_a_whole_caller_number_in_any_usual_form_finds_that_caller(listed, callers, typed):
    assert listed(f"caller={typed}") == ["chicago-0100"]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("555-01", ["chicago-0199", "chicago-0100"]),
        ("0199", ["chicago-0199"]),
        ("7946 0958", ["london"]),
        ("%2B44 20 7946 0958", ["london"]),
    ],
)
def test_some_digits_of_a_caller_number_find_the_numbers_holding_them(
    listed, callers, typed, expected
):
    assert listed(f"caller={typed}") == expected


# --- Status, repeat flag --------------------------------------------------------------------


def test_status_takes_several_values(listed, org):
    call(org, "answered", status="answered")
    call(org, "missed", status="missed", duration_seconds=0)
    call(org, "no-buyer", status="no_buyer", duration_seconds=0)
    assert sorted(listed("status=missed&status=no_buyer")) == ["missed", "no-buyer"]


def test_repeat_flag_filters_repeat_and_first_calls(listed, org):
    call(org, "first", is_repeat=False)
    call(org, "repeat", is_repeat=True)
    assert listed("is_repeat=true") == ["repeat"]
    assert listed("is_repeat=false") == ["first"]
    assert sorted(listed("is_repeat=")) == ["first", "repeat"]


# --- Tags ------------------------------------------------------------------------------------


@pytest.fixture
def tagged(org):
    call(org, "google", tags={"source": "google", "score": 5, "vip": True, "utm__src": "a:b"})
    call(org, "bing", tags={"source": "bing", "score": "5", "vip": False, "Roof Repair": True})
    call(org, "untagged", tags={})


@pytest.mark.parametrize(
    "query, expected",
    [
        ("tag=source:google", ["google"]),
        ("tag=source:Google", []),
        ("tag=score:5", ["bing", "google"]),  # the number 5 and the text "5"
        ("tag=vip:true", ["google"]),
        ("tag=vip:false", ["bing"]),
        ("tag=source:google&tag=score:5", ["google"]),  # every tag filter must match
        ("tag=source:bing&tag=vip:true", []),
        ("tag=utm__src:a:b", ["google"]),  # split at the first colon; "__" is no lookup
        ("tag=contains:google", []),  # a key named like a lookup is just a key
        ("tag=medium:cpc", []),
        ("tag=score:99999999999999999999999", []),  # past SQLite's integers
        ("tag=score:NaN", []),  # json reads it; no tag holds it
        # Any tag, not only the report tags the KPIs roll up: CallRail's tag names too.
        ("tag=Roof%20Repair:true", ["bing"]),
    ],
)
def test_tag_filter_is_key_colon_value(listed, tagged, query, expected):
    assert sorted(listed(query)) == expected


# --- Invalid values --------------------------------------------------------------------------


NOT_A_TAG = "is not a tag filter: write key:value, e.g. source:google."


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("caller=anonymous", "caller", "Enter a phone number or some of its digits."),
        ("caller=12%00", "caller", "Null characters are not allowed."),
        ("is_repeat=maybe", "is_repeat", "Enter true or false."),
        ("converted=maybe", "converted", "Enter true or false."),
        ("tag=source", "tag", f"'source' {NOT_A_TAG}"),
        ("tag=:google", "tag", f"':google' {NOT_A_TAG}"),
        ("tag=source:go%00gle", "tag", "Null characters are not allowed."),
        ("status=ringing", "status", None),
    ],
)
def test_invalid_filter_is_a_400_naming_its_field(api_client, org, query, field, message):
    call(org, "any")
    response = api_client.get(f"{API}?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    if message:
        assert response.json()["errors"][field] == [message]


def test_invalid_filter_on_the_page_is_shown_and_lists_nothing(member_client, org):
    call(org, "any", caller_region="region-any")
    response = member_client.get("/calls/?is_repeat=maybe&tag=source")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>is_repeat</strong>: Enter true or false." in page
    assert "<strong>tag</strong>: &#x27;source&#x27; is not a tag filter" in page
    assert "region-any" not in page
    assert "Fix the filters above to list calls." in page
    partial = member_client.get("/calls/?is_repeat=maybe&partial=1").content.decode()
    assert "region-any" not in partial and "Fix the filters above" in partial


# --- The page's filter bar -------------------------------------------------------------------


def test_filter_bar_keeps_the_values_of_every_filter(member_client, org):
    call(org, "any")
    query = (
        "caller=555-0100&status=missed&status=failed&is_repeat=true"
        "&tag=source:google&tag=vip:true&date_from=2026-11-01"
    )
    page = member_client.get(f"/calls/?{query}").content.decode()
    assert 'name="caller" value="555-0100"' in page
    assert 'value="missed" checked' in page and 'value="failed" checked' in page
    assert 'value="answered" checked' not in page
    assert '<option value="true" selected>Repeat calls</option>' in page
    assert 'name="tag" value="source:google"' in page and 'name="tag" value="vip:true"' in page
    assert 'name="date_from" value="2026-11-01"' in page


def test_filter_bar_offers_one_empty_tag_box(member_client, org):
    call(org, "any")
    page = member_client.get("/calls/").content.decode()
    assert page.count('name="tag"') == 1
    assert 'name="tag" value=""' in page
    # The empty box, submitted, filters nothing.
    assert member_client.get("/calls/?tag=&caller=").status_code == 200
