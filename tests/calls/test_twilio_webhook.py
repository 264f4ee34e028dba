"""The Twilio status callback, signed the way Twilio signs (twilio's RequestValidator)."""

import dataclasses
import datetime as dt
import itertools
import threading
import time

import pytest
from django.conf import global_settings
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from calls import services
from calls.models import Call, TwilioCallback
from tests.factories import OrganizationFactory, TrackingNumberFactory
from tests.test_settings import settings_from_environment
from tests.twilio_callbacks import AUTH_TOKEN, completed_params, rfc2822


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


def test_ringing_callback_is_kept_but_makes_no_call(org, post_signed):
    response = post_signed(org, completed_params(CallStatus="ringing", CallDuration=""))
    assert response.status_code == 204
    assert not Call.objects.filter(organization=org).exists()
    assert TwilioCallback.objects.filter(organization=org).count() == 1


def test_outbound_child_leg_is_not_a_call(org, post_signed):
    post_signed(org, completed_params(Direction="outbound-dial"))
    assert not Call.objects.filter(organization=org).exists()
    assert not TwilioCallback.objects.exists()


def test_replayed_callback_is_one_call_and_one_fact(org, post_signed):
    post_signed(org, completed_params())
    post_signed(org, completed_params())
    assert Call.objects.filter(organization=org).count() == 1
    assert Call.objects.get(organization=org).status == "answered"
    assert TwilioCallback.objects.filter(organization=org).count() == 1


def test_bad_signature_is_403_and_writes_nothing(org, post_signed):
    response = post_signed(org, completed_params(), signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert not Call.objects.exists()
    assert not TwilioCallback.objects.exists()


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
    assert not TwilioCallback.objects.exists()


def test_unreadable_duration_is_400_naming_the_parameter_and_writes_nothing(org, post_signed):
    response = post_signed(org, completed_params(CallDuration="ninety"))
    assert response.status_code == 400
    assert "CallDuration" in response.json()["errors"]
    assert not Call.objects.exists()
    assert not TwilioCallback.objects.exists()


def test_get_is_not_allowed(org, client):
    assert client.get(f"/hooks/twilio/{org.webhook_token}/").status_code == 405


# --- One call, many callbacks, any order -------------------------------------------------


def dial_action_params(**overrides) -> dict:
    """A <Dial action> callback: the parent call's parameters and the buyer leg's outcome.

    Twilio sends it when the dial ends, with no Timestamp and no SequenceNumber.
    """
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": "CA11111111111111111111111111111111",
        "CallStatus": "in-progress",
        "From": "+13125550100",
        "To": "+18885550123",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "DialCallSid": "CA22222222222222222222222222222222",
        "DialCallStatus": "completed",
        "DialCallDuration": "120",
        "DialBridged": "true",
    }
    params.update(overrides)
    return params


def stored_call(organization):
    return Call.objects.get(organization=organization)


@pytest.mark.parametrize("dial_first", [True, False], ids=["dial-first", "parent-first"])
def test_a_dial_nobody_answered_is_missed_whatever_the_arrival_order(org, post_signed, dial_first):
    dial = dial_action_params(DialCallStatus="no-answer", DialCallDuration="0")
    parent = completed_params(CallDuration="38")  # the caller hung up in the IVR afterwards
    for params in [dial, parent] if dial_first else [parent, dial]:
        assert post_signed(org, params).status_code == 204
    call = stored_call(org)
    assert (call.status, call.duration_seconds) == ("missed", 0)


@pytest.mark.parametrize("dial_first", [True, False], ids=["dial-first", "parent-first"])
def test_talk_time_is_the_time_with_the_buyer(org, post_signed, dial_first):
    dial = dial_action_params(DialCallStatus="completed", DialCallDuration="120")
    parent = completed_params(CallDuration="140")
    for params in [dial, parent] if dial_first else [parent, dial]:
        post_signed(org, params)
    call = stored_call(org)
    assert (call.status, call.duration_seconds) == ("answered", 120)


def test_a_late_or_replayed_dial_action_never_moves_the_start(org, post_signed):
    post_signed(org, completed_params(CallDuration="140"))  # ended 15:06:00 after 140 s
    started = dt.datetime(2026, 11, 2, 15, 3, 40, tzinfo=dt.UTC)
    assert stored_call(org).started_at == started
    post_signed(org, dial_action_params())  # no Timestamp: received now, long after
    post_signed(org, dial_action_params())  # and replayed
    call = stored_call(org)
    assert call.started_at == started
    assert (call.status, call.duration_seconds) == ("answered", 120)


def test_the_start_is_the_earliest_instant_known_even_before_the_call_ends(org, post_signed):
    ringing = completed_params(
        CallStatus="ringing", CallDuration="", SequenceNumber="1",
        Timestamp="Mon, 02 Nov 2026 15:03:30 +0000",
    )  # fmt: skip
    post_signed(org, ringing)
    post_signed(org, dial_action_params())  # the call is over for us: the buyer talked 120 s
    assert stored_call(org).started_at == dt.datetime(2026, 11, 2, 15, 3, 30, tzinfo=dt.UTC)
    post_signed(org, completed_params(CallDuration="140"))
    assert stored_call(org).started_at == dt.datetime(2026, 11, 2, 15, 3, 30, tzinfo=dt.UTC)


# Calls of the property test happen months before the test runs, as every replayed callback
# does: their Timestamps, not the receipt times, say when they started.
PAST = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
_call_sids = itertools.count(1)


@dataclasses.dataclass
class TwilioCall:
    """One inbound call as it happened, and the callbacks Twilio sends about it."""

    callbacks: list[dict]
    started_at: dt.datetime
    status: str
    talk_seconds: int


DIAL_OUTCOMES = {
    "no-answer": "missed",
    "busy": "missed",
    "failed": "failed",
    "canceled": "abandoned",
}


@st.composite
def twilio_calls(draw) -> TwilioCall:
    sid = f"CA{next(_call_sids):032x}"
    started_at = PAST + dt.timedelta(seconds=draw(st.integers(0, 30 * 86_400)))
    ivr, ring, after = draw(st.integers(0, 60)), draw(st.integers(1, 30)), draw(st.integers(0, 30))
    dial = draw(st.sampled_from([None, "completed", *DIAL_OUTCOMES]))
    talk = draw(st.integers(1, 900)) if dial == "completed" else 0
    whole_call = ivr + after + (ring + talk if dial else 0)

    progress = draw(st.sets(st.sampled_from(["initiated", "ringing", "in-progress"])))
    events = [event for event in ("initiated", "ringing", "in-progress") if event in progress]
    callbacks = []
    for sequence, event in enumerate(events):
        answered_after = dt.timedelta(seconds=1 if event == "in-progress" else 0)
        params = completed_params(
            CallSid=sid,
            CallStatus=event,
            SequenceNumber=str(sequence),
            Timestamp=rfc2822(started_at + answered_after),
        )
        del params["CallDuration"]  # only the final callback says how long the call was
        callbacks.append(params)
    ended_at = started_at + dt.timedelta(seconds=whole_call)
    callbacks.append(
        completed_params(
            CallSid=sid,
            CallDuration=str(whole_call),
            SequenceNumber=str(len(events)),
            Timestamp=rfc2822(ended_at),
        )
    )
    if dial:
        callbacks.append(
            dial_action_params(
                CallSid=sid,
                # A caller who hangs up while the buyer rings ends the parent call too.
                CallStatus="completed" if dial == "canceled" else "in-progress",
                DialCallSid=f"CB{sid[2:]}",
                DialCallStatus=dial,
                DialCallDuration=str(talk),
            )
        )

    if dial == "completed":
        status, talk_seconds = "answered", talk
    elif dial:
        status, talk_seconds = DIAL_OUTCOMES[dial], 0
    else:  # no buyer was dialed: the call as a whole, by the status mapping
        status, talk_seconds = ("answered", whole_call) if whole_call else ("missed", 0)
    return TwilioCall(callbacks, started_at, status, talk_seconds)


@pytest.fixture
def tracking_number(org):
    return TrackingNumberFactory(organization=org, number="+18885550123")


@given(data=st.data())
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_order_and_any_replay_of_a_calls_callbacks_stores_the_same_call(
    org, tracking_number, post_signed, data
):
    call = data.draw(twilio_calls())
    replays = data.draw(st.lists(st.sampled_from(call.callbacks), max_size=len(call.callbacks)))
    for params in data.draw(st.permutations(call.callbacks + replays)):
        assert post_signed(org, params).status_code == 204
    stored = Call.objects.get(organization=org, external_id=call.callbacks[0]["CallSid"])
    assert (stored.status, stored.duration_seconds) == (call.status, call.talk_seconds)
    assert stored.started_at == call.started_at
    assert (stored.caller_number, stored.dialed_number) == ("+13125550100", "+18885550123")
    assert stored.campaign == tracking_number.campaign


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent connections")
def test_two_callbacks_of_one_call_arriving_at_once_both_count(monkeypatch):
    org = OrganizationFactory(slug="concurrent")
    first_written, release_first = threading.Event(), threading.Event()
    real_upsert = services.call_records_upsert

    def upsert_and_hold_the_first(**kwargs):
        result = real_upsert(**kwargs)
        if threading.current_thread() is first:  # its transaction stays open until released
            first_written.set()
            release_first.wait(10)
        return result

    monkeypatch.setattr(services, "call_records_upsert", upsert_and_hold_the_first)

    def record(params):
        try:
            services.twilio_callback_record(
                organization=org, params=params, received_at=timezone.now()
            )
        finally:
            connection.close()

    dial = dial_action_params(DialCallStatus="no-answer", DialCallDuration="0")
    first = threading.Thread(target=record, args=(dial,))
    second = threading.Thread(target=record, args=(completed_params(CallDuration="38"),))
    first.start()
    try:
        assert first_written.wait(10)
        second.start()
        # The second callback ends, or waits for the first one's transaction: then let it go.
        for _ in range(200):
            if not second.is_alive() or _backends_waiting_on_a_lock():
                break
            time.sleep(0.05)
    finally:
        release_first.set()
        first.join(10)
        second.join(10)
    call = stored_call(org)
    assert (call.status, call.duration_seconds) == ("missed", 0)
    assert TwilioCallback.objects.filter(organization=org).count() == 2


def _backends_waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


# --- Behind a TLS-terminating proxy; the URL as Twilio was given it ----------------------

PROXY_SETTINGS = (
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_PROXY_SSL_HEADER",
    "USE_X_FORWARDED_HOST",
    "SECURE_SSL_REDIRECT",
)


def deploy(settings, monkeypatch, **environ):
    """Run the test with the settings this environment gives (DEBUG, proxy, hosts)."""
    built = settings_from_environment(
        monkeypatch, ALLOWED_HOSTS="public.example.com,web", **environ
    )
    for name in PROXY_SETTINGS:
        setattr(settings, name, built.get(name, getattr(global_settings, name)))


def post_through_the_proxy(client, organization, params):
    """Twilio posts to the public https URL; the proxy passes it on as http to web:8000."""
    path = f"/hooks/twilio/{organization.webhook_token}/"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://public.example.com{path}", params
    )
    return client.post(
        path,
        params,
        HTTP_HOST="web:8000",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="public.example.com",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_callback_signed_for_the_public_url_verifies_behind_a_trusted_proxy(
    org, client, settings, monkeypatch, debug
):
    deploy(settings, monkeypatch, DEBUG=debug, TRUST_X_FORWARDED="true")
    response = post_through_the_proxy(client, org, completed_params())
    assert response.status_code == 204
    assert stored_call(org).status == "answered"


@pytest.mark.parametrize("debug", ["true", "false"])
def test_without_trusting_the_proxy_the_public_signature_does_not_verify(
    org, client, settings, monkeypatch, debug
):
    deploy(
        settings, monkeypatch, DEBUG=debug, TRUST_X_FORWARDED="false", SECURE_SSL_REDIRECT="false"
    )
    response = post_through_the_proxy(client, org, completed_params())
    assert response.status_code == 403
    assert not Call.objects.exists()


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/hooks/twilio/{token}/", "/hooks/twilio/{token}"])
def test_the_url_twilio_was_given_is_accepted_with_or_without_trailing_slash(
    org, client, settings, debug, path
):
    settings.DEBUG = debug
    url = "http://testserver" + path.format(token=org.webhook_token)
    params = completed_params()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 204  # Twilio would not follow a redirect of its POST
    assert stored_call(org).status == "answered"
