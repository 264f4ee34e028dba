"""Hostile and broken input is a 400 naming the field, never a 500 or a half-written row."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import Call, CallImport, Campaign
from publishers.models import Publisher
from routing.models import Buyer
from tests.factories import CallFactory, CampaignFactory

API = "/api/v1"
CALL = {
    "external_id": "h-1",
    "campaign_name": "Auto",
    "started_at": "2026-11-02T15:00:00Z",
    "status": "answered",
}


@pytest.fixture
def auto(org):
    return CampaignFactory(organization=org, name="Auto")


def post_raw(client, path: str, text: str):
    """Posts JSON text as given: the test client's encoder cannot write 1e999 or a thousand
    levels of nesting."""
    return client.post(path, text, content_type="application/json")


def nested(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


# --- Nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [50, 1000, 100_000])
def test_a_deeply_nested_body_is_400(api_client, auto, depth):
    response = post_raw(api_client, f"{API}/calls/", nested(depth))
    assert response.status_code == 400
    assert "nested deeper than 20 levels" in response.json()["detail"]


@pytest.mark.parametrize("depth", [50, 1000])
def test_deeply_nested_tags_are_400_naming_tags(api_client, auto, depth):
    body = json.dumps(CALL)[:-1] + ', "tags": ' + nested(depth) + "}"
    response = post_raw(api_client, f"{API}/calls/", body)
    assert response.status_code == 400
    if depth == 50:  # parsed, then refused where it is
        assert list(response.json()["errors"]) == ["tags"]
    assert not Call.objects.exists()


@pytest.mark.parametrize("depth", [50, 1000])
def test_deeply_nested_verdict_thresholds_are_400(api_client, depth):
    body = '{"name": "Deep", "verdict_thresholds": ' + nested(depth) + "}"
    response = post_raw(api_client, f"{API}/campaigns/", body)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
    assert not Campaign.objects.filter(name="Deep").exists()


@pytest.mark.parametrize("depth", [50, 1000])
def test_deeply_nested_business_hours_are_400(api_client, depth):
    body = '{"name": "Deep", "business_hours": ' + nested(depth) + "}"
    response = post_raw(api_client, f"{API}/buyers/", body)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
    assert not Buyer.objects.filter(name="Deep").exists()


# --- Numbers no field can hold --------------------------------------------------------------

HUGE_NUMBERS = ["1e999", "-1e999", "9" * 400, '"' + "9" * 400 + '"', '"1e999"', '"NaN"']


@pytest.mark.parametrize("number", HUGE_NUMBERS)
@pytest.mark.parametrize("field", ["duration_seconds", "revenue", "cost"])
def test_an_overflowing_number_in_a_call_is_400_naming_the_field(api_client, auto, field, number):
    body = json.dumps(CALL)[:-1] + f', "{field}": {number}}}'
    response = post_raw(api_client, f"{API}/calls/", body)
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["errors"]) == [field]
    assert len(response.content) < 600  # the 400 digits are not echoed back whole
    assert not Call.objects.exists()


@pytest.mark.parametrize("number", HUGE_NUMBERS)
@pytest.mark.parametrize("field", ["payout", "rpm_floor", "qualifying_seconds"])
def test_an_overflowing_number_in_a_campaign_is_400_naming_the_field(api_client, field, number):
    response = post_raw(api_client, f"{API}/campaigns/", f'{{"name": "Big", "{field}": {number}}}')
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["errors"]) == [field]
    assert not Campaign.objects.filter(name="Big").exists()


@pytest.mark.parametrize("number", ["1e999", "9" * 400, "1e308", str(2**62)])
def test_an_overflowing_verdict_threshold_is_400(api_client, number):
    body = f'{{"name": "Big", "verdict_thresholds": {{"min_calls": {number}}}}}'
    response = post_raw(api_client, f"{API}/campaigns/", body)
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["errors"]) == ["verdict_thresholds"]


def test_overflowing_ad_spend_is_400(api_client, auto):
    body = f'{{"campaign": {auto.pk}, "day": "2026-11-02", "amount": {"9" * 400}}}'
    response = post_raw(api_client, f"{API}/ad-spend/", body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["amount"]


def test_an_overflowing_number_in_a_batch_names_its_item(api_client, auto):
    second = json.dumps({**CALL, "external_id": "h-2"})[:-1] + ', "duration_seconds": 1e999}'
    response = post_raw(api_client, f"{API}/calls/", f"[{json.dumps(CALL)}, {second}]")
    assert response.status_code == 400
    assert response.json()["errors"] == {"1": {"duration_seconds": [response.json()["detail"]]}}
    assert not Call.objects.exists()


# --- Lone surrogates: no UTF-8 text holds them ------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("external_id", '"a\\ud800b"'),
        ("caller_region", '"\\udfff"'),
        ("tags", '{"source": "\\ud800"}'),
        ("tags", '{"\\ud800": "google"}'),
    ],
)
def test_a_lone_surrogate_in_a_call_is_400_naming_the_field(api_client, auto, field, value):
    rest = json.dumps({k: v for k, v in CALL.items() if k != field})
    body = rest[:-1] + f', "{field}": {value}}}'
    response = post_raw(api_client, f"{API}/calls/", body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    "path, body, model",
    [
        ("campaigns", '{"name": "A\\ud800"}', Campaign),
        ("publishers", '{"name": "P", "external_id": "\\ud800"}', Publisher),
        ("buyers", '{"name": "\\udc00"}', Buyer),
    ],
)
def test_a_lone_surrogate_in_configuration_is_400(api_client, path, body, model):
    response = post_raw(api_client, f"{API}/{path}/", body)
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not model.objects.exists()


def test_a_lone_surrogate_in_a_conversion_is_400(api_client, org):
    CallFactory(organization=org, external_id="c-1", converted=False)
    response = post_raw(
        api_client, f"{API}/calls/c-1/conversion", '{"converted": true, "revenue": "\\ud800"}'
    )
    assert response.status_code == 400
    assert not Call.objects.get(external_id="c-1").converted


# --- Every stored string has a bound ----------------------------------------------------------


@pytest.mark.parametrize(
    "tags, message",
    [
        ({"k": "v" * 501}, "Tag values are at most 500 characters."),
        ({"k" * 101: "v"}, "Tag names are at most 100 characters."),
        ({f"k{n}": n for n in range(51)}, "At most 50 tags."),
    ],
)
def test_tags_over_their_bounds_are_400_and_not_stored(api_client, auto, tags, message):
    response = api_client.post(f"{API}/calls/", {**CALL, "tags": tags}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"tags": [message]}
    assert not Call.objects.exists()


def test_tags_at_their_bounds_are_stored_whole(api_client, auto):
    tags = {"k" * 100: "v" * 500, **{f"k{n}": n for n in range(49)}}
    response = api_client.post(f"{API}/calls/", {**CALL, "tags": tags}, format="json")
    assert response.status_code == 201, response.json()
    assert Call.objects.get().tags == tags


@pytest.mark.parametrize(
    "field, length",
    [
        ("external_id", 129),
        ("campaign_name", 201),
        ("publisher_name", 201),
        ("caller_region", 65),
        ("caller_number", 65),
    ],
)
def test_call_strings_over_their_bounds_are_400_without_echoing(api_client, auto, field, length):
    response = api_client.post(f"{API}/calls/", {**CALL, field: "7" * length}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert "7" * 50 not in response.content.decode()


# --- The conversion endpoint needs an explicit `converted` ------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("", "application/json"),
        ("{}", "application/json"),
        ("garbage", "application/json"),
        ("[true]", "application/json"),
        ('{"revenue": "10.00"}', "application/json"),
        ('{"converted": "maybe"}', "application/json"),
        ('{"converted": null}', "application/json"),
        ("", "application/x-www-form-urlencoded"),
    ],
)
def test_conversion_without_an_explicit_converted_is_400(api_client, org, body, content_type):
    CallFactory(organization=org, external_id="c-1", converted=False)
    response = api_client.post(f"{API}/calls/c-1/conversion", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}
    call = Call.objects.get(external_id="c-1")
    assert not call.converted and call.converted_at is None


@pytest.mark.parametrize("converted", [True, False])
def test_conversion_with_an_explicit_converted_is_recorded(api_client, org, converted):
    CallFactory(organization=org, external_id="c-1", converted=not converted)
    response = api_client.post(
        f"{API}/calls/c-1/conversion", {"converted": converted}, format="json"
    )
    assert response.status_code == 200
    assert Call.objects.get(external_id="c-1").converted is converted


# --- Fuzz: random JSON never makes the ingest endpoint fail -----------------------------------

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2026-11-02T15:00:00Z", "answered", "missed", "Auto", "1e999", "\ud800"])
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
call_fields = st.sampled_from([*CALL, "duration_seconds", "revenue", "cost", "tags", "converted"])
call_like = st.dictionaries(call_fields, json_values, max_size=8).map(lambda d: {**CALL, **d})
bodies = call_like | st.lists(call_like, max_size=3) | json_values


@given(body=bodies)
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_random_json_to_ingest_is_never_a_server_error(api_client, auto, body):
    # ensure_ascii keeps lone surrogates as \\u escapes, as a client's encoder would send them.
    response = post_raw(api_client, f"{API}/calls/", json.dumps(body, ensure_ascii=True))
    assert response.status_code < 500, (body, response.content[:300])
    assert response.status_code in (201, 400), (body, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    if response.status_code == 400:
        assert set(response.json()) == {"detail", "code", "errors"}


# --- CSV import form fields -----------------------------------------------------------------


@pytest.mark.parametrize("field", ["source_timezone", "columns", "internal_context"])
def test_import_options_have_a_length_bound(api_client, field):
    response = api_client.post(
        f"{API}/imports/",
        {
            "file": SimpleUploadedFile("a.csv", b"external_id\n1\n"),
            "format": "asterisk",
            field: "x" * 5000,
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert "x" * 50 not in response.content.decode()
    assert not CallImport.objects.exists()


def test_a_binary_file_posted_as_a_csv_is_400_and_stores_nothing(api_client):
    webp = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0e\x00\x00\x00/\x00\x00\x00\x00\x07\x10\x11"
    response = api_client.post(
        f"{API}/imports/",
        {"file": SimpleUploadedFile("file.webp", webp), "format": "callrail"},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert not CallImport.objects.exists()
