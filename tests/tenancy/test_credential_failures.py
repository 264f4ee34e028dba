"""Guessing secrets: failed API key and webhook token lookups are counted per client address.

Past CREDENTIAL_FAILURE_LIMIT failures in a window, API requests from that address are answered
429 with Retry-After before any key is looked up. The Twilio webhook looks its token up first:
Twilio posts every tenant's callbacks from shared addresses, so an unknown token is answered
429 there, and a known one always goes through. Valid secrets are never counted.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from ppc_dashboard.tenancy.throttling import CredentialFailureThrottle, client_address
from tests.twilio_callbacks import completed_params, post_signed

URL = "/api/v1/campaigns/"
LIMIT = 5


@pytest.fixture(autouse=True)
def _failure_limit(monkeypatch):
    monkeypatch.setattr(
        CredentialFailureThrottle, "THROTTLE_RATES", {"credential_failures": f"{LIMIT}/min"}
    )


def api_get(raw_key: str, address: str = "127.0.0.1"):
    return APIClient().get(URL, HTTP_X_API_KEY=raw_key, REMOTE_ADDR=address)


def test_guessed_api_keys_are_answered_429_with_retry_after(api_client):
    for n in range(LIMIT):
        assert api_get(f"ppc_deadbeef_guess{n}").status_code == 401
    response = api_get("ppc_deadbeef_one-more")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed attempts from this address.")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Refused before the lookup: the address gets no answer about any key until the window ends.
    assert api_get(api_client.raw_key).status_code == 429


def test_a_blocked_address_leaves_the_keys_of_other_addresses_working(api_client):
    for n in range(LIMIT + 1):
        api_get(f"ppc_deadbeef_guess{n}", address="10.6.6.6")
    assert api_get(api_client.raw_key, address="10.7.7.7").status_code == 200


def test_requests_with_a_valid_key_are_never_counted(api_client):
    for _ in range(3 * LIMIT):
        assert api_get(api_client.raw_key).status_code == 200
    for n in range(LIMIT):
        assert api_get(f"ppc_deadbeef_typo{n}").status_code == 401


def post_callback(client, token: str, address: str, params: dict | None = None):
    return post_signed(client, token, params or completed_params(), REMOTE_ADDR=address)


def test_guessed_webhook_tokens_are_answered_429_with_retry_after(client, org):
    for n in range(LIMIT):
        assert post_callback(client, f"guess-{n}", "10.6.6.6").status_code == 404
    response = post_callback(client, "one-more", "10.6.6.6")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed attempts from this address.")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_known_webhook_token_goes_through_from_a_blocked_address(client, org):
    # One tenant's mistyped callback URL must not stop another's callbacks from Twilio.
    for n in range(LIMIT + 1):
        post_callback(client, f"mistyped-{n}", "10.6.6.6")
    assert post_callback(client, org.webhook_token, "10.6.6.6").status_code == 204


def test_the_client_address_is_the_proxy_s_last_forwarded_one_only_when_trusted(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    settings.TRUST_X_FORWARDED = False
    assert client_address(request) == "10.0.0.2"
    settings.TRUST_X_FORWARDED = True
    # The first address is whatever the client claimed; the last is what the proxy saw.
    assert client_address(request) == "203.0.113.9"
