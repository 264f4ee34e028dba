"""The Twilio status callback, signed the way Twilio signs (twilio's RequestValidator)."""

import datetime as dt

import pytest
from twilio.request_validator import RequestValidator

from calls.models import Call
from tests.factories import TrackingNumberFactory

AUTH_TOKEN = "twilio-test-auth-token"  # OrganizationFactory's twilio_auth_token


def completed_params(**overrides) -> dict:
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


@pytest.fixture
def post_signed(client):
    def post(organization, params, token=AUTH_TOKEN, signature=None):
        url = f"http://testserver/hooks/twilio/{organization.webhook_token}/"
        if signature is None:
            signature = RequestValidator(token).compute_signature(url, params)
        return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)

    return post


def test_completed_call_is_recorded_as_answered_on_its_tracking_number(org, post_signed):
    tracking = TrackingNumberFactory(organization=org, number="+18885550123")
    response = post_signed(org, completed_params())
    assert response.status_code == 204
    call = Call.objects.get(organization=org, external_id="CA11111111111111111111111111111111")
    assert call.status == "answered"
    assert call.duration_seconds == 95
    assert call.campaign == tracking.campaign and call.publisher == tracking.publisher
    assert call.caller_number == "+13125550100" and call.caller_region == "IL"
    # Timestamp is when the call ended; it started CallDuration seconds earlier.
    assert call.started_at == dt.datetime(2026, 11, 2, 15, 4, 25, tzinfo=dt.UTC)
    assert call.source == "twilio_webhook"


@pytest.mark.parametrize(
    ("twilio_status", "duration", "expected"),
    [
        ("no-answer", "0", "missed"),
        ("busy", "0", "missed"),
        ("failed", "0", "failed"),
        ("canceled", "0", "abandoned"),
        ("completed", "0", "missed"),
    ],
)
def test_final_statuses_map_per_kpis(org, post_signed, twilio_status, duration, expected):
    post_signed(org, completed_params(CallStatus=twilio_status, CallDuration=duration))
    assert Call.objects.get(organization=org).status == expected


def test_dial_call_status_says_what_happened_with_the_buyer(org, post_signed):
    params = completed_params(DialCallStatus="no-answer", DialCallDuration="0")
    post_signed(org, params)
    assert Call.objects.get(organization=org).status == "missed"


def test_in_progress_callback_is_acknowledged_without_writing(org, post_signed):
    response = post_signed(org, completed_params(CallStatus="ringing", CallDuration=""))
    assert response.status_code == 204
    assert not Call.objects.filter(organization=org).exists()


def test_outbound_child_leg_is_not_a_call(org, post_signed):
    post_signed(org, completed_params(Direction="outbound-dial"))
    assert not Call.objects.filter(organization=org).exists()


def test_repeated_callback_updates_the_same_call(org, post_signed):
    post_signed(org, completed_params(CallStatus="no-answer", CallDuration="0"))
    post_signed(org, completed_params())
    assert Call.objects.filter(organization=org).count() == 1
    assert Call.objects.get(organization=org).status == "answered"


def test_bad_signature_is_403_and_writes_nothing(org, post_signed):
    response = post_signed(org, completed_params(), signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_signature_made_with_another_token_is_403(org, post_signed):
    response = post_signed(org, completed_params(), token="someone-elses-token")
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_tampered_parameter_breaks_the_signature(org, client):
    url = f"http://testserver/hooks/twilio/{org.webhook_token}/"
    params = completed_params()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    params["CallDuration"] = "900"
    response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_missing_signature_is_403(org, client):
    response = client.post(f"/hooks/twilio/{org.webhook_token}/", completed_params())
    assert response.status_code == 403


def test_unknown_webhook_token_is_404(db, client):
    assert client.post("/hooks/twilio/not-a-token/", completed_params()).status_code == 404


def test_organization_without_auth_token_refuses_callbacks(org, post_signed):
    org.twilio_auth_token = ""
    org.save()
    assert post_signed(org, completed_params()).status_code == 403


def test_each_tenant_verifies_with_its_own_token(org, other_org, post_signed):
    other_org.twilio_auth_token = "rival-token"
    other_org.save()
    # Signed with org's token but sent to other_org's URL: refused, nothing written anywhere.
    url = f"http://testserver/hooks/twilio/{other_org.webhook_token}/"
    params = completed_params()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    response = post_signed(other_org, params, signature=signature)
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_invalid_caller_number_is_400_naming_the_field(org, post_signed):
    response = post_signed(org, completed_params(From="not a number"))
    assert response.status_code == 400
    assert "caller_number" in response.json()["errors"]


def test_get_is_not_allowed(org, client):
    assert client.get(f"/hooks/twilio/{org.webhook_token}/").status_code == 405
