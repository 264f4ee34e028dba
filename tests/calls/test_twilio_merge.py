"""The merge of a Twilio call's callbacks: a pure function of what is known, no database."""

import datetime as dt
import itertools

import pytest

from calls.twilio_merge import (
    TwilioParameterError,
    twilio_call_merge,
    twilio_call_routing_plan,
    twilio_callback_fact,
    twilio_callback_facts_distinct,
)
from tests.twilio_callbacks import rfc2822

SID = "CA11111111111111111111111111111111"
ENDED = dt.datetime(2026, 6, 2, 15, 6, tzinfo=dt.UTC)  # when the parent call completed
RECEIVED = dt.datetime(2026, 6, 2, 15, 6, 1, tzinfo=dt.UTC)


def status_callback(status, sequence, at, received=RECEIVED, **extra):
    params = {
        "CallSid": SID,
        "CallStatus": status,
        "SequenceNumber": str(sequence),
        "Timestamp": rfc2822(at),
        "From": "+13125550100",
        "To": "+18885550123",
        "FromState": "IL",
        "Direction": "inbound",
        **extra,
    }
    return twilio_callback_fact(params, received)


def completed(call_duration, received=RECEIVED):
    return status_callback("completed", 3, ENDED, received, CallDuration=str(call_duration))


def dial_action(
    dial_status, dial_duration, received=RECEIVED, dial_sid="CA22222222222222222222222222222222"
):
    # A <Dial> action callback: the parent's parameters, the leg's outcome, no Timestamp.
    params = {
        "CallSid": SID,
        "CallStatus": "in-progress",
        "DialCallSid": dial_sid,
        "DialCallStatus": dial_status,
        "DialCallDuration": str(dial_duration),
        "From": "+13125550100",
        "To": "+18885550123",
        "Direction": "inbound",
    }
    return twilio_callback_fact(params, received)


def merged_in_every_order(facts):
    """The merge of the facts, checked to be the same for every order they could arrive in."""
    results = {repr(twilio_call_merge(order)) for order in itertools.permutations(facts)}
    assert len(results) == 1, results
    return twilio_call_merge(facts)


def test_a_dial_nobody_answered_is_missed_though_the_parent_completed_in_the_ivr():
    call = merged_in_every_order([dial_action("no-answer", 0), completed(38)])
    assert call["status"] == "missed"
    assert call["duration_seconds"] == 0


def test_talk_time_is_the_time_with_the_buyer_not_the_whole_call():
    call = merged_in_every_order([dial_action("completed", 120), completed(140)])
    assert call["status"] == "answered"
    assert call["duration_seconds"] == 120


def test_without_a_dial_the_parent_status_and_duration_decide():
    call = merged_in_every_order([completed(95)])
    assert (call["status"], call["duration_seconds"]) == ("answered", 95)
    assert call["started_at"] == "2026-06-02T15:04:25+00:00"  # Timestamp less CallDuration


def test_buyers_rung_in_turn_the_one_who_answered_decides():
    first = dial_action("no-answer", 0, dial_sid="CA2000000000000000000000000000000a")
    second = dial_action("completed", 200, dial_sid="CA2000000000000000000000000000000b")
    call = merged_in_every_order([first, second, completed(260)])
    assert (call["status"], call["duration_seconds"]) == ("answered", 200)


def test_a_buyer_leg_canceled_while_ringing_is_abandoned():
    call = merged_in_every_order([dial_action("canceled", 0), completed(20)])
    assert call["status"] == "abandoned"


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_callbacks_before_the_end_never_make_a_call_by_themselves(status):
    assert twilio_call_merge([status_callback(status, 0, ENDED)]) is None


def test_start_is_the_earliest_instant_known():
    ringing = status_callback("ringing", 1, ENDED - dt.timedelta(seconds=150))
    call = merged_in_every_order([ringing, dial_action("completed", 120), completed(140)])
    assert call["started_at"] == "2026-06-02T15:03:30+00:00"  # the ringing Timestamp


def test_a_callback_without_timestamp_counts_from_its_receipt_only_when_nothing_better_is_known():
    alone = twilio_call_merge([dial_action("completed", 120)])
    assert alone["started_at"] == (RECEIVED - dt.timedelta(seconds=120)).isoformat()
    with_parent = merged_in_every_order([dial_action("completed", 120), completed(140)])
    assert with_parent["started_at"] == "2026-06-02T15:03:40+00:00"


def test_a_late_replay_of_a_dial_action_moves_nothing():
    first = dial_action("completed", 120)
    replay = dial_action("completed", 120, received=RECEIVED + dt.timedelta(hours=2))
    assert twilio_call_merge([first, replay]) == twilio_call_merge([first])
    assert twilio_call_merge([replay, first]) == twilio_call_merge([first])


def test_replays_are_one_fact_kept_with_their_earliest_receipt():
    late = completed(95, received=RECEIVED + dt.timedelta(minutes=5))
    kept = twilio_callback_facts_distinct([late, completed(95), late])
    assert len(kept) == 1
    assert kept[0].received_at == RECEIVED


def test_caller_and_tracking_number_come_from_the_callbacks():
    call = merged_in_every_order([dial_action("completed", 120), completed(140)])
    assert call["caller_number"] == "+13125550100"
    assert call["tracking_number"] == "+18885550123"
    assert call["caller_region"] == "IL"
    assert call["external_id"] == SID


def test_child_legs_are_not_facts_of_an_inbound_call():
    params = {"CallSid": "CA3", "CallStatus": "completed", "Direction": "outbound-dial"}
    assert twilio_callback_fact(params, RECEIVED) is None


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("CallDuration", "ninety"), ("SequenceNumber", "-1"), ("CallSid", "")],
)
def test_a_parameter_that_cannot_be_read_is_named(parameter, value):
    params = {"CallSid": SID, "CallStatus": "completed", parameter: value}
    with pytest.raises(TwilioParameterError) as raised:
        twilio_callback_fact(params, RECEIVED)
    assert raised.value.parameter == parameter


# Live routing's facts (calls.live_routing): the legs it dialed and the end of its choices.


def routed_leg(leg, buyer, plan=7):
    params = {"CallSid": SID, "CallStatus": "ringing", "From": "+13125550100", "To": "+18885550123"}
    params.update(RoutedLeg=str(leg), RoutedBuyer=str(buyer), RoutingPlan=str(plan))
    return twilio_callback_fact(params, RECEIVED)


def routed_dial(leg, buyer, status, seconds):
    fact = dial_action(status, seconds, dial_sid=f"CAleg{leg}")
    params = {**fact.params, "RoutedLeg": str(leg), "RoutedBuyer": str(buyer), "RoutingPlan": "7"}
    return twilio_callback_fact(params, RECEIVED)


def routing_end():
    return twilio_callback_fact({"CallSid": SID, "RoutingEnd": "1", "RoutingPlan": "7"}, RECEIVED)


def test_routed_legs_alone_make_no_call():
    assert twilio_call_merge([routed_leg(1, 11)]) is None


def test_the_buyer_is_the_one_whose_leg_was_answered():
    facts = [
        routed_leg(1, 11),
        routed_dial(1, 11, "no-answer", 0),
        routed_leg(2, 12),
        routed_dial(2, 12, "completed", 95),
        completed(140),
    ]
    item = merged_in_every_order(facts)
    assert (item["status"], item["buyer_id"], item["duration_seconds"]) == ("answered", 12, 95)
    assert twilio_call_routing_plan(facts) == 7


def test_nothing_left_to_dial_is_no_buyer_though_the_parent_completed():
    facts = [routed_leg(1, 11), routed_dial(1, 11, "busy", 0), routing_end(), completed(30)]
    item = merged_in_every_order(facts)
    assert (item["status"], item["duration_seconds"]) == ("no_buyer", 0)
    assert "buyer_id" not in item


def test_an_unknown_number_is_no_buyer_as_soon_as_it_is_told():
    assert twilio_call_merge([routing_end()])["status"] == "no_buyer"


def test_a_routed_leg_and_its_dial_are_distinct_facts_kept_once_each():
    facts = [routed_leg(1, 11), routed_dial(1, 11, "no-answer", 0)] * 2
    assert [f.key for f in twilio_callback_facts_distinct(facts)] == ["dial:1:CAleg1", "route:1"]


def test_calls_without_live_routing_have_no_plan_or_buyer():
    facts = [dial_action("completed", 60), completed(90)]
    assert "buyer_id" not in twilio_call_merge(facts)
    assert twilio_call_routing_plan(facts) is None


@pytest.mark.parametrize("parameter", ["RoutedLeg", "RoutedBuyer", "RoutingPlan"])
def test_a_routing_id_that_is_no_number_is_named(parameter):
    with pytest.raises(TwilioParameterError) as error:
        twilio_callback_fact({"CallSid": SID, parameter: "x1"}, RECEIVED)
    assert error.value.parameter == parameter
