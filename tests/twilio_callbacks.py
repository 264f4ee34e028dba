"""Twilio status callbacks as Twilio sends them, signed with the official package."""

from __future__ import annotations

import datetime as dt

from twilio.request_validator import RequestValidator

AUTH_TOKEN = "twilio-test-auth-token"  # OrganizationFactory's twilio_auth_token


def rfc2822(instant: dt.datetime) -> str:
    """A time as Twilio's Timestamp parameter gives it."""
    return instant.strftime("%a, %d %b %Y %H:%M:%S +0000")


def completed_params(**overrides) -> dict:
    """A completed inbound call's status callback (Twilio's own parameter names)."""
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": "CA11111111111111111111111111111111",
        "CallStatus": "completed",
        "CallDuration": "95",
        "From": "+13125550100",
        "To": "+18885550123",
        "FromState": "IL",
        "Direction": "inbound",
        "Timestamp": "Mon, 02 Nov 2026 15:06:00 +0000",
        "ApiVersion": "2010-04-01",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "3",
    }
    params.update(overrides)
    return params


def post_signed(client, webhook_token: str, params: dict, token: str = AUTH_TOKEN, **extra):
    """POST `params` to the tenant's webhook URL, signed as Twilio signs it with `token`."""
    url = f"http://testserver/hooks/twilio/{webhook_token}/"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def post_signed_url(client, url: str, params: dict, token: str = AUTH_TOKEN, **extra):
    """POST `params` to `url` (absolute, with its query), signed as Twilio signs it."""
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)
