"""routing.whatif: the replay's arithmetic on hand-made plans and arrivals."""

import datetime as dt

import pytest

from routing.rules import Caller, PlanRules, TargetRule
from routing.whatif import (
    AnswerHistory,
    ArrivalGroup,
    answer_probability,
    caller_class_key,
    plan_edited,
    replay,
)

UTC = dt.UTC
MONDAY_10 = dt.datetime(2026, 11, 2, 10, 30, tzinfo=UTC)


def target(tid, tier=1, **extra):
    return TargetRule(
        target_id=tid,
        name=f"T{tid}",
        destination=f"+121255500{tid:02d}",
        timezone="UTC",
        hours=extra.pop("hours", {}),
        tier=tier,
        weight=1,
        **extra,
    )


def plan(*targets):
    return PlanRules(plan_id=1, version=1, campaign_id=1, targets=tuple(targets))


def test_answer_probability_pulls_a_short_record_toward_the_prior():
    assert answer_probability(None, 0.6) == pytest.approx(0.6)
    assert answer_probability(AnswerHistory(sent=10, answered=5), 0.6) == pytest.approx(0.55)
    assert answer_probability(AnswerHistory(sent=990, answered=990), 0.0) == pytest.approx(0.99)


def test_unanswered_calls_fail_over_down_the_tiers():
    result = replay(
        plan(target(1), target(2, tier=2)),
        [ArrivalGroup(MONDAY_10, Caller(), 10)],
        {1: 0.5, 2: 0.8},
        hold_seconds=None,
    )
    # 10 to T1, 5 answered; 5 fail over to T2, 4 answered; 1 missed.
    assert result.sent == {1: 10, 2: 5}
    assert result.answered == pytest.approx(9)
    assert result.missed == pytest.approx(1)
    assert result.missed_rate == pytest.approx(10)


def test_a_closed_target_takes_nothing_and_hourly_caps_overflow():
    evening_only = {"mon": [["17:00", "23:00"]]}
    result = replay(
        plan(target(1, hourly_cap=3), target(2, tier=2, hours=evening_only)),
        [
            ArrivalGroup(MONDAY_10, Caller(), 5),
            ArrivalGroup(MONDAY_10.replace(hour=19), Caller(), 5),
        ],
        {1: 1.0, 2: 1.0},
        hold_seconds=None,
    )
    # 10:00: T1 takes 3 (its cap), T2 is closed, 2 missed. 19:00: a new hour, T1 takes 3 more.
    assert result.sent == {1: 6, 2: 2}
    assert result.missed == pytest.approx(2)


def test_daily_cap_counts_in_the_targets_zone():
    # 23:30 UTC Monday and 00:30 UTC Tuesday are both Monday evening in New York.
    rule = TargetRule(
        target_id=1,
        name="NY",
        destination="+12125550001",
        timezone="America/New_York",
        hours={},
        tier=1,
        weight=1,
        daily_cap=4,
    )
    late = dt.datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    groups = [
        ArrivalGroup(late, Caller(), 3),
        ArrivalGroup(late + dt.timedelta(hours=1), Caller(), 3),
    ]
    result = replay(plan(rule), groups, {1: 1.0}, hold_seconds=None)
    assert result.answered == pytest.approx(4)


def test_concurrency_limits_answered_calls_per_hour():
    # One line, 10-minute calls: at most 6 answered calls an hour; at p = 0.5 that is 12 sent.
    result = replay(
        plan(target(1, concurrency_cap=1)),
        [ArrivalGroup(MONDAY_10, Caller(), 20)],
        {1: 0.5},
        hold_seconds=600,
    )
    assert result.sent[1] == pytest.approx(12)
    assert result.answered == pytest.approx(6)


def test_geo_lists_decide_through_route_decide():
    texas_only = target(1, geo_allow=frozenset({"US-TX"}))
    groups = [
        ArrivalGroup(MONDAY_10, Caller(country="US", region="US-TX"), 2),
        ArrivalGroup(MONDAY_10, Caller(country="US", region="US-IL"), 3),
        ArrivalGroup(MONDAY_10, Caller(), 1),  # unknown: refused by an allow list
    ]
    result = replay(plan(texas_only), groups, {1: 1.0}, hold_seconds=None)
    assert result.answered == pytest.approx(2)
    assert result.decisions == 3


def test_caller_classes_merge_places_no_list_names():
    mentioned = frozenset({"US-TX", "CA"})
    key = caller_class_key
    assert key(Caller(country="US", region="US-IL"), mentioned) == key(
        Caller(country="US", region="US-OH"), mentioned
    )
    assert key(Caller(country="US", region="US-TX"), mentioned) != key(
        Caller(country="US", region="US-IL"), mentioned
    )
    assert key(Caller(country="CA", region="CA-ON"), mentioned) != key(
        Caller(country="US", region="US-IL"), mentioned
    )
    assert key(Caller(), mentioned) != key(Caller(country="US", region="US-IL"), mentioned)


def test_plan_edits_add_change_and_remove():
    base = plan(target(1), target(2, tier=2))
    edited = plan_edited(
        base,
        add=[target(3, tier=3)],
        remove=frozenset({2}),
        changes={1: {"hourly_cap": 10, "hours": {"mon": [["09:00", "21:00"]]}}},
    )
    assert [t.target_id for t in edited.targets] == [1, 3]
    assert edited.targets[0].hourly_cap == 10
    assert base.targets[0].hourly_cap is None  # the current plan is left as it was
    with pytest.raises(ValueError, match="already in the plan"):
        plan_edited(base, add=[target(1)])
    with pytest.raises(ValueError, match="not in the plan"):
        plan_edited(base, changes={9: {"weight": 2}})
    with pytest.raises(ValueError, match="cannot change destination"):
        plan_edited(base, changes={1: {"destination": "+1"}})
