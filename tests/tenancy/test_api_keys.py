import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ppc_dashboard.tenancy.models import ApiKey, hash_api_key
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import CampaignFactory

URL = "/api/v1/campaigns/"


@pytest.fixture
def new_key(org):
    return api_key_create(organization=org, name="integration")


def test_api_key_is_returned_once_and_only_its_hash_is_stored(new_key):
    api_key, raw_key = new_key
    stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert stored["key_hash"] == hash_api_key(raw_key)
    secret = raw_key.removeprefix(f"ppc_{api_key.prefix}_")  # may itself hold "_"
    assert len(secret) >= 40
    for value in stored.values():
        assert raw_key not in str(value)
        assert secret not in str(value)


def test_api_key_prefix_is_visible_and_names_the_key(new_key):
    api_key, raw_key = new_key
    assert raw_key.startswith(f"ppc_{api_key.prefix}_")
    assert len(api_key.prefix) == 8
    assert str(api_key) == f"integration ({api_key.prefix}...)"


def test_two_keys_differ(org, new_key):
    _, other_raw_key = api_key_create(organization=org, name="second")
    assert other_raw_key != new_key[1]


def _client(**headers) -> APIClient:
    client = APIClient()
    client.credentials(**headers)
    return client


def test_x_api_key_header_authenticates(org, new_key):
    CampaignFactory(organization=org, name="Auto")
    response = _client(HTTP_X_API_KEY=new_key[1]).get(URL)
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Auto"]


def test_authorization_api_key_header_authenticates(org, new_key):
    response = _client(HTTP_AUTHORIZATION=f"Api-Key {new_key[1]}").get(URL)
    assert response.status_code == 200


def test_authorization_scheme_is_case_insensitive(new_key):
    assert _client(HTTP_AUTHORIZATION=f"api-key {new_key[1]}").get(URL).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_API_KEY": "ppc_deadbeef_not-a-real-key"},
        {"HTTP_X_API_KEY": "not-even-our-format"},
        {"HTTP_AUTHORIZATION": "Api-Key "},
        {"HTTP_AUTHORIZATION": "Bearer something"},
    ],
    ids=["none", "unknown", "foreign-format", "empty", "other-scheme"],
)
def test_request_without_a_valid_key_is_401(headers, new_key):
    response = _client(**headers).get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_revoked_key_is_refused(new_key):
    api_key, raw_key = new_key
    api_key.revoke()
    response = _client(HTTP_X_API_KEY=raw_key).get(URL)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or revoked API key.",
        "code": "authentication_failed",
        "errors": {},
    }


def test_revoking_one_key_leaves_the_others_working(org, new_key):
    api_key, _ = new_key
    _, other_raw_key = api_key_create(organization=org, name="second")
    api_key.revoke()
    assert _client(HTTP_X_API_KEY=other_raw_key).get(URL).status_code == 200


def test_use_sets_last_used_at(new_key):
    api_key, raw_key = new_key
    assert api_key.last_used_at is None
    before = timezone.now()
    _client(HTTP_X_API_KEY=raw_key).get(URL)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert api_key.last_used_at >= before


def test_last_used_at_is_written_at_most_once_a_minute(new_key):
    api_key, raw_key = new_key
    recent = timezone.now() - dt.timedelta(seconds=10)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=recent)
    _client(HTTP_X_API_KEY=raw_key).get(URL)
    api_key.refresh_from_db()
    assert api_key.last_used_at == recent

    stale = timezone.now() - dt.timedelta(minutes=5)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=stale)
    _client(HTTP_X_API_KEY=raw_key).get(URL)
    api_key.refresh_from_db()
    assert api_key.last_used_at > stale


def test_api_key_may_write(new_key):
    response = _client(HTTP_X_API_KEY=new_key[1]).post(URL, {"name": "New"}, format="json")
    assert response.status_code == 201
