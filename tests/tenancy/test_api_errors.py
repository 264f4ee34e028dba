"""Every API error answers JSON in one shape: {"detail": str, "code": str, "errors": {...}}."""

from __future__ import annotations

import socket

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from calls.api.views import CallViewSet
from ppc_dashboard.tenancy.throttling import ApiKeyRateThrottle
from tests.factories import CallFactory, CampaignFactory

API = "/api/v1"


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


def test_400_names_the_field_under_errors(api_client):
    body = assert_error_shape(
        api_client.post(f"{API}/campaigns/", {"name": "A", "payout": "x"}, format="json"),
        400,
        "invalid",
    )
    assert list(body["errors"]) == ["payout"]


def test_401_without_a_key(db):
    body = assert_error_shape(APIClient().get(f"{API}/calls/"), 401, "not_authenticated")
    assert "credentials" in body["detail"]


def test_401_with_a_wrong_key(db):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY="ppc_nope")
    assert_error_shape(client.get(f"{API}/calls/"), 401, "authentication_failed")


def test_403_for_a_viewer_writing(viewer_client):
    assert_error_shape(
        viewer_client.post(f"{API}/campaigns/", {"name": "A"}, format="json"),
        403,
        "permission_denied",
    )


def test_404_for_a_missing_row_and_for_a_missing_endpoint(api_client):
    assert_error_shape(api_client.get(f"{API}/campaigns/999999/"), 404, "not_found")
    assert_error_shape(api_client.get(f"{API}/no-such-thing/"), 404, "not_found")
    response = api_client.post(f"{API}/calls/nope/conversion", {"converted": True}, format="json")
    assert_error_shape(response, 404)


def test_405_for_a_method_the_endpoint_has_not(api_client):
    assert_error_shape(api_client.delete(f"{API}/calls/"), 405, "method_not_allowed")


def test_409_for_deleting_what_calls_reference(api_client, org):
    campaign = CampaignFactory(organization=org)
    CallFactory(organization=org, campaign=campaign)
    body = assert_error_shape(api_client.delete(f"{API}/campaigns/{campaign.pk}/"), 409, "conflict")
    assert "Call" in body["detail"]


def test_413_for_a_body_over_the_limit(api_client, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = api_client.post(f"{API}/calls/", [{"external_id": "x" * 200}], format="json")
    assert_error_shape(response, 413, "too_large")


@pytest.mark.parametrize(
    "body, content_type",
    [("<call/>", "application/xml"), ("converted=true", "application/x-www-form-urlencoded")],
)
def test_415_for_a_body_the_api_cannot_read(api_client, body, content_type):
    # JSON only (uploads: multipart): a form post would read a missing field as blank.
    response = api_client.post(f"{API}/campaigns/", body, content_type=content_type)
    assert_error_shape(response, 415, "unsupported_media_type")


def test_429_with_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    api_client.get(f"{API}/campaigns/")
    response = api_client.get(f"{API}/campaigns/")
    assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_a_bad_cursor_is_404_in_the_shape(api_client):
    assert_error_shape(api_client.get(f"{API}/campaigns/?cursor=garbage"), 404, "not_found")


def test_the_twilio_webhook_answers_in_the_shape(db):
    assert_error_shape(Client().post("/hooks/twilio/no-such-token/", {}), 404, "not_found")


def test_an_unhandled_exception_is_a_json_500(api_client, monkeypatch):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(CallViewSet, "list", broken)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=api_client.raw_key)
    body = assert_error_shape(client.get(f"{API}/calls/"), 500, "server_error")
    assert "a bug of ours" not in body["detail"]  # no internals in the answer


def test_pages_keep_their_html_error_pages(member_client):
    response = member_client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_long_bad_values_are_not_echoed_back(api_client, org):
    CampaignFactory(organization=org, name="Auto")
    huge = "9" * 100_000 + "x"
    item = {"external_id": "e-1", "campaign_name": "Auto", "status": "answered"}
    response = api_client.post(
        f"{API}/calls/",
        {**item, "started_at": huge, "duration_seconds": huge, "status": "s" * 100_000},
        format="json",
    )
    body = assert_error_shape(response, 400, "invalid")
    assert set(body["errors"]) == {"started_at", "duration_seconds", "status"}
    assert len(response.content) < 1_000


# --- The database unavailable: 503 with Retry-After, never an HTML 500 ---------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down(transactional_db):
    """The connection pointed at a port nothing listens on, as when PostgreSQL restarts."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


def test_api_request_while_the_database_is_down_is_503_with_retry_after(
    transactional_db, org, database_down
):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY="ppc_whatever")
    response = client.get(f"{API}/calls/")
    body = assert_error_shape(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0
    assert "database" in body["detail"]


def test_webhook_while_the_database_is_down_is_503_with_retry_after(database_down):
    # A plain Django view: answered by the root URL conf's handler500.
    response = Client(raise_request_exception=False).post("/hooks/twilio/some-token/", {})
    assert_error_shape(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0


def test_deleting_a_missing_call_is_404_in_the_shape(api_client):
    assert_error_shape(api_client.delete(f"{API}/calls/no-such-call/"), 404, "not_found")
