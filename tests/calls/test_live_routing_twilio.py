"""Live routing on Twilio: the voice webhook dials the plan's buyers in turn, through the
<Dial> action callbacks, and the call reaches the KPIs. Every request is signed the way Twilio
signs it (twilio's RequestValidator), URL query included."""

from __future__ import annotations

import datetime as dt
import os
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from calls.models import Call, CallStatus
from routing.live_state import live_state, live_state_redis_client
from routing.models import RoutingPlan, RoutingPlanTarget, RoutingSlot
from routing.rules import TargetRule
from tests.factories import BuyerFactory, TrackingNumberFactory
from tests.twilio_callbacks import completed_params, post_signed, post_signed_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
CALL_SID = "CA22222222222222222222222222222222"
TRACKING = "+18885550123"


def voice_params(**overrides) -> dict:
    """What Twilio posts to a number's Voice URL when a call rings it."""
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": CALL_SID,
        "CallStatus": "ringing",
        "From": "+13125550100",
        "To": TRACKING,
        "FromState": "IL",
        "FromCountry": "US",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    params.update(overrides)
    return params


def dial_ended(status: str, seconds: int, leg_sid: str) -> dict:
    """The <Dial> action callback: the call's parameters and the buyer leg's outcome."""
    return voice_params(
        CallStatus="in-progress",
        DialCallStatus=status,
        DialCallDuration=str(seconds),
        DialCallSid=leg_sid,
    )


@pytest.fixture(params=["database", "redis"])
def live_store(request, settings):
    """Live state in the database (the embedded default) or in real Redis."""
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("TEST_REDIS_URL is not set")
        live_state_redis_client(REDIS_URL).flushdb()
        settings.REDIS_URL = REDIS_URL
        yield
        live_state_redis_client(REDIS_URL).flushdb()
    else:
        settings.REDIS_URL = ""
        yield


@pytest.fixture
def routed(org, live_store):
    tracking = TrackingNumberFactory(organization=org, number=TRACKING)
    buyer_a = BuyerFactory(organization=org, name="Alpha", phone_number="+12125550001")
    buyer_b = BuyerFactory(organization=org, name="Bravo", phone_number="+12125550002")
    plan = RoutingPlan.objects.create(organization=org, campaign=tracking.campaign, version=1)
    for tier, buyer in ((1, buyer_a), (2, buyer_b)):
        RoutingPlanTarget.objects.create(organization=org, plan=plan, buyer=buyer, tier=tier)
    plan_v2 = RoutingPlan.objects.create(organization=org, campaign=tracking.campaign, version=2)
    for tier, buyer in ((1, buyer_a), (2, buyer_b)):
        RoutingPlanTarget.objects.create(
            organization=org, plan=plan_v2, buyer=buyer, tier=tier, weight=3
        )
    return tracking, buyer_a, buyer_b, plan_v2


def voice_url(org) -> str:
    return f"http://testserver/hooks/twilio/{org.webhook_token}/voice"


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def dialed(root: ET.Element) -> tuple[str, str, ET.Element]:
    """(number dialed, action URL, the <Dial>) of a TwiML answer that dials."""
    dial = root.find("Dial")
    assert dial is not None, ET.tostring(root)
    return dial.find("Number").text, dial.get("action"), dial


def in_progress(org, buyer) -> int:
    target = TargetRule(
        target_id=buyer.pk,
        name=buyer.name,
        destination=buyer.phone_number,
        timezone=buyer.timezone,
        hours={},
        tier=1,
        weight=1,
        concurrency_cap=1_000_000,  # a snapshot reads the counts a cap limits
    )
    return live_state().snapshot(org.pk, [target], timezone.now())[buyer.pk].in_progress


def test_no_answer_fails_over_to_the_next_buyer_and_the_call_reaches_the_kpis(
    client, org, routed, api_client, django_capture_on_commit_callbacks
):
    tracking, buyer_a, buyer_b, plan = routed
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed_url(client, voice_url(org), voice_params())
        number, action, dial = dialed(twiml(answer))
        assert number == buyer_a.phone_number
        assert dial.get("timeout") == str(buyer_a.ring_timeout_seconds)
        assert dial.get("answerOnBridge") == "true"
        assert in_progress(org, buyer_a) == 1

        number, action, _ = dialed(
            twiml(post_signed_url(client, action, dial_ended("no-answer", 0, "CAleg1")))
        )
        assert number == buyer_b.phone_number
        assert in_progress(org, buyer_a) == 0  # its slot freed when its dial ended
        assert in_progress(org, buyer_b) == 1

        root = twiml(post_signed_url(client, action, dial_ended("completed", 95, "CAleg2")))
        assert [child.tag for child in root] == ["Hangup"]
        assert in_progress(org, buyer_b) == 0
        final = completed_params(
            CallSid=CALL_SID, CallDuration="140", Timestamp="", SequenceNumber="4"
        )
        assert post_signed(client, org.webhook_token, final).status_code == 204

    call = Call.objects.get(organization=org, external_id=CALL_SID)
    assert (call.buyer, call.status, call.duration_seconds) == (buyer_b, "answered", 95)
    assert (call.campaign, call.publisher) == (tracking.campaign, tracking.publisher)
    assert call.routing_plan == plan
    assert call.routing_plan.version == 2

    day = timezone.localtime(call.started_at, org.tzinfo).date().isoformat()
    response = api_client.get(
        "/api/v1/kpis/", {"date_from": day, "date_to": day, "group_by": "buyer"}
    )
    rows = {row["label"]: row for row in response.json()["rows"]}
    assert list(rows) == ["Bravo"]
    assert (rows["Bravo"]["calls"], rows["Bravo"]["answered"]) == (1, 1)
    assert rows["Bravo"]["average_duration"] == 95.0


def test_every_buyer_failing_hangs_up_and_records_no_buyer(client, org, routed):
    _, buyer_a, buyer_b, plan = routed
    _, action, _ = dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    _, action, _ = dialed(twiml(post_signed_url(client, action, dial_ended("busy", 0, "CAl1"))))
    root = twiml(post_signed_url(client, action, dial_ended("no-answer", 0, "CAl2")))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    # The parent call completed (the apology was heard): still nobody took it.
    final = completed_params(CallSid=CALL_SID, CallDuration="50")
    assert post_signed(client, org.webhook_token, final).status_code == 204

    call = Call.objects.get(organization=org, external_id=CALL_SID)
    assert (call.status, call.buyer, call.duration_seconds) == (CallStatus.NO_BUYER, None, 0)
    assert call.routing_plan == plan
    assert in_progress(org, buyer_a) == in_progress(org, buyer_b) == 0


def test_a_caller_hanging_up_while_a_buyer_rings_is_abandoned_not_failed_over(client, org, routed):
    _, buyer_a, buyer_b, _ = routed
    _, action, _ = dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    gone = {**dial_ended("canceled", 0, "CAl1"), "CallStatus": "completed"}
    root = twiml(post_signed_url(client, action, gone))
    assert [child.tag for child in root] == ["Hangup"]
    assert in_progress(org, buyer_a) == in_progress(org, buyer_b) == 0
    call = Call.objects.get(organization=org, external_id=CALL_SID)
    assert (call.status, call.buyer) == (CallStatus.ABANDONED, buyer_a)


def test_the_calls_end_frees_a_slot_whose_dial_action_never_came(client, org, routed):
    _, buyer_a, _, _ = routed
    dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    assert in_progress(org, buyer_a) == 1
    ringing = completed_params(CallSid=CALL_SID, CallStatus="ringing", SequenceNumber="1")
    assert post_signed(client, org.webhook_token, ringing).status_code == 204
    assert in_progress(org, buyer_a) == 1
    final = completed_params(CallSid=CALL_SID, CallDuration="140")
    assert post_signed(client, org.webhook_token, final).status_code == 204
    assert in_progress(org, buyer_a) == 0


def test_the_buyer_answering_refreshes_its_slot(client, org, routed, settings):
    _, buyer_a, _, _ = routed
    settings.ROUTING_MAX_CALL_SECONDS = 600
    _, _, dial = dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    number = dial.find("Number")
    assert number.get("statusCallbackEvent") == "answered"
    answered = {
        "CallSid": "CAchild1",
        "ParentCallSid": CALL_SID,
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
    }
    before = timezone.now()
    assert post_signed_url(client, number.get("statusCallback"), answered).status_code == 204
    after = timezone.now()
    if not settings.REDIS_URL:
        slot = RoutingSlot.objects.get(organization=org, buyer=buyer_a, call_sid=CALL_SID)
        assert before + dt.timedelta(seconds=600) <= slot.expires_at
        assert slot.expires_at <= after + dt.timedelta(seconds=600)  # no ring time left in it
    assert in_progress(org, buyer_a) == 1
    assert not Call.objects.filter(organization=org).exists()  # a leg's event is no call


def test_a_replayed_voice_webhook_dials_the_same_buyer_and_counts_once(client, org, routed):
    _, buyer_a, _, _ = routed
    first = dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    again = dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    assert first[:2] == again[:2]
    assert in_progress(org, buyer_a) == 1


def test_a_full_buyer_is_passed_over(client, org, routed):
    _, buyer_a, buyer_b, _ = routed
    buyer_a.concurrency_cap = 1
    buyer_a.save()
    dialed(twiml(post_signed_url(client, voice_url(org), voice_params())))
    number, _, _ = dialed(
        twiml(post_signed_url(client, voice_url(org), voice_params(CallSid="CA-second")))
    )
    assert number == buyer_b.phone_number


def test_unknown_number_is_told_and_recorded_as_no_buyer(client, org, routed):
    root = twiml(post_signed_url(client, voice_url(org), voice_params(To="+18885550999")))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    call = Call.objects.get(organization=org, external_id=CALL_SID)
    assert (call.status, call.campaign, call.routing_plan) == (CallStatus.NO_BUYER, None, None)


def test_campaign_without_plan_is_told_and_recorded_as_no_buyer(client, org, settings):
    settings.REDIS_URL = ""
    tracking = TrackingNumberFactory(organization=org, number=TRACKING)
    root = twiml(post_signed_url(client, voice_url(org), voice_params()))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    call = Call.objects.get(organization=org, external_id=CALL_SID)
    assert (call.status, call.campaign) == (CallStatus.NO_BUYER, tracking.campaign)


def test_voice_webhook_refuses_a_bad_signature(client, org, routed):
    response = post_signed_url(client, voice_url(org), voice_params(), token="wrong")
    assert response.status_code == 403
    assert not Call.objects.filter(organization=org).exists()


def test_another_tenants_number_is_not_routed(client, org, other_org, routed):
    url = f"http://testserver/hooks/twilio/{other_org.webhook_token}/voice"
    root = twiml(post_signed_url(client, url, voice_params()))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert Call.objects.get(organization=other_org).campaign is None
    assert not Call.objects.filter(organization=org).exists()


def test_action_with_another_tenants_plan_hangs_up(client, org, other_org, routed):
    _, buyer_a, _, plan = routed
    url = (
        f"http://testserver/hooks/twilio/{other_org.webhook_token}/voice/action"
        f"?leg=1&buyer={buyer_a.pk}&plan={plan.pk}&tried={buyer_a.pk}"
    )
    root = twiml(post_signed_url(client, url, dial_ended("no-answer", 0, "CAl1")))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    call = Call.objects.get(organization=other_org)
    assert (call.status, call.buyer, call.routing_plan) == (CallStatus.NO_BUYER, None, None)


def test_action_url_without_its_query_is_a_400(client, org, routed):
    url = f"http://testserver/hooks/twilio/{org.webhook_token}/voice/action"
    response = post_signed_url(client, url, dial_ended("no-answer", 0, "CAl1"))
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}
