"""Twilio callback facts are kept TWILIO_CALLBACK_DAYS after a call's last one
(calls.services.twilio_callbacks_prune, hourly); a replay of an old call's callback after
that changes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from calls.models import Call, CallStatus, TwilioCallback
from calls.services import twilio_callback_record, twilio_callbacks_prune
from calls.tasks import twilio_callbacks_prune_task
from tests.factories import TrackingNumberFactory
from tests.twilio_callbacks import completed_params, rfc2822


def missed_call(organization, sid: str, days_ago: int) -> None:
    """A call whose parent completed in the IVR while the buyer's leg rang unanswered: two
    callbacks, `days_ago` days back, that only together say "missed"."""
    ended = timezone.now() - dt.timedelta(days=days_ago)
    dial = completed_params(
        CallSid=sid,
        CallStatus="in-progress",
        DialCallSid=f"{sid[:-4]}dial",
        DialCallStatus="no-answer",
        DialCallDuration="0",
    )
    del dial["Timestamp"], dial["SequenceNumber"], dial["CallDuration"]
    for params in (dial, completed_params(CallSid=sid, Timestamp=rfc2822(ended))):
        assert (
            twilio_callback_record(organization=organization, params=params, received_at=ended)
            == {}
        )


def facts_of(organization, sid: str) -> int:
    return TwilioCallback.objects.filter(organization=organization, call_sid=sid).count()


def test_facts_go_after_their_days_and_recent_ones_stay(org, other_org, settings):
    settings.TWILIO_CALLBACK_DAYS = 35
    for organization in (org, other_org):
        TrackingNumberFactory(organization=organization, number="+18885550123")
    missed_call(org, "CA000000000000000000000000000old1", days_ago=40)
    missed_call(org, "CA000000000000000000000000000new1", days_ago=3)
    missed_call(other_org, "CA000000000000000000000000000old2", days_ago=36)
    assert twilio_callbacks_prune_task() == 2
    assert facts_of(org, "CA000000000000000000000000000old1") == 0
    assert facts_of(other_org, "CA000000000000000000000000000old2") == 0
    assert facts_of(org, "CA000000000000000000000000000new1") == 2
    assert twilio_callbacks_prune() == 0  # nothing left to do
    # The calls themselves stay.
    assert Call.objects.filter(organization=org).count() == 2


def test_a_call_heard_from_recently_keeps_all_its_facts(org, settings):
    settings.TWILIO_CALLBACK_DAYS = 35
    TrackingNumberFactory(organization=org, number="+18885550123")
    missed_call(org, "CA0000000000000000000000000mixed", days_ago=40)
    TwilioCallback.objects.filter(organization=org, key__startswith="status").update(
        received_at=timezone.now() - dt.timedelta(days=1)
    )
    assert twilio_callbacks_prune() == 0
    assert facts_of(org, "CA0000000000000000000000000mixed") == 2


def test_a_replay_after_the_facts_went_leaves_the_call_as_it_was(org, settings):
    settings.TWILIO_CALLBACK_DAYS = 35
    TrackingNumberFactory(organization=org, number="+18885550123")
    sid = "CA00000000000000000000000replayed"
    missed_call(org, sid, days_ago=40)
    call = Call.objects.get(organization=org, external_id=sid)
    assert call.status == CallStatus.MISSED
    twilio_callbacks_prune()
    # The parent's completed callback again, alone: merged alone it would say answered.
    ended = timezone.now() - dt.timedelta(days=40)
    replay = completed_params(CallSid=sid, Timestamp=rfc2822(ended))
    assert twilio_callback_record(organization=org, params=replay, received_at=timezone.now()) == {}
    again = Call.objects.get(organization=org, external_id=sid)
    assert (again.status, again.duration_seconds) == (call.status, call.duration_seconds)
    assert facts_of(org, sid) == 0
