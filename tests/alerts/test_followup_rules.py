"""alerts.followup_rules: which calls get a follow-up, and the status changes (no database)."""

import datetime as dt

import pytest

from alerts.followup_rules import (
    MISSED,
    NOT_CONVERTED,
    CallFacts,
    RuleSettings,
    followup_due_at,
    followup_reason,
    transition_error,
)

START = dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC)
BOTH = RuleSettings(
    on_missed=True, missed_delay_minutes=10, on_not_converted=True, not_converted_minutes=60
)


def call(status="answered", converted=False, duration=120) -> CallFacts:
    return CallFacts(
        status=status, converted=converted, started_at=START, duration_seconds=duration
    )


@pytest.mark.parametrize("status", ["missed", "no_buyer", "abandoned", "failed"])
def test_every_unanswered_status_is_missed_from_the_end_of_the_call_plus_the_delay(status):
    reason = followup_reason(BOTH, call(status, duration=30), START)
    assert reason == (MISSED, START + dt.timedelta(seconds=30, minutes=10))


def test_missed_calls_get_none_when_the_rule_is_off():
    rule = RuleSettings(False, 0, True, 60)
    assert followup_reason(rule, call("missed"), START) is None


def test_answered_unconverted_call_waits_for_its_deadline():
    deadline = START + dt.timedelta(seconds=120, minutes=60)
    assert followup_reason(BOTH, call(), deadline - dt.timedelta(seconds=1)) is None
    assert followup_reason(BOTH, call(), deadline) == (NOT_CONVERTED, deadline)


def test_converted_call_gets_none():
    assert followup_reason(BOTH, call(converted=True), START + dt.timedelta(days=1)) is None


def test_not_converted_gets_none_when_the_rule_is_off():
    rule = RuleSettings(True, 0, False, 60)
    assert followup_reason(rule, call(), START + dt.timedelta(days=1)) is None


def test_due_at_is_at_once_without_hours_or_with_hours_that_never_open():
    assert followup_due_at({}, "America/New_York", START) == START
    closed = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert followup_due_at(closed, "America/New_York", START) == START


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("open", "contacted"),
        ("open", "recovered"),
        ("open", "lost"),
        ("contacted", "recovered"),
        ("contacted", "lost"),
    ],
)
def test_allowed_transitions(current, wanted):
    assert transition_error(current, wanted) is None


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("contacted", "contacted"),
        ("contacted", "open"),
        ("recovered", "lost"),
        ("recovered", "contacted"),
        ("lost", "recovered"),
        ("open", "open"),
        ("open", "won"),
    ],
)
def test_refused_transitions_say_why(current, wanted):
    assert transition_error(current, wanted)
