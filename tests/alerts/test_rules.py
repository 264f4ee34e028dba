"""The pure alert rules (alerts.rules): windows over hourly rollups, thresholds, when each kind
fires. Hand-computed numbers, no database."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from alerts import rules
from alerts.rules import HourShare, WindowCounts

NY = zoneinfo.ZoneInfo("America/New_York")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


def test_last_60_minutes_at_19_40_are_hour_19_and_a_third_of_hour_18():
    assert rules.window_hours(at(2026, 11, 24, 19, 40), NY, 60) == [
        HourShare(dt.date(2026, 11, 24), 19, 1.0),
        HourShare(dt.date(2026, 11, 24), 18, 20 / 60),
    ]


def test_on_the_hour_the_window_is_the_hour_before_whole():
    assert rules.window_hours(at(2026, 11, 24, 19, 0), NY, 60) == [
        HourShare(dt.date(2026, 11, 24), 18, 1.0)
    ]


def test_a_window_crosses_midnight_into_the_local_day_before():
    assert rules.window_hours(at(2026, 11, 24, 0, 15), NY, 120) == [
        HourShare(dt.date(2026, 11, 24), 0, 1.0),
        HourShare(dt.date(2026, 11, 23), 23, 1.0),
        HourShare(dt.date(2026, 11, 23), 22, 0.75),
    ]


def test_a_window_shorter_than_the_hour_so_far_takes_its_share_of_the_current_hour():
    assert rules.window_hours(at(2026, 11, 24, 19, 40), NY, 10) == [
        HourShare(dt.date(2026, 11, 24), 19, 0.25)
    ]


def test_the_hour_a_fall_back_repeats_is_one_rollup_row_counted_once():
    # 2026-11-01 01:00-02:00 happens twice in New York; the rollups hold it as one row.
    shares = rules.window_hours(dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC), NY, 180)
    assert [(s.hour, s.weight) for s in shares] == [(2, 1.0), (1, 1.0), (0, 0.5)]


def test_window_counts_weigh_each_hour_by_its_share():
    shares = rules.window_hours(at(2026, 11, 24, 19, 15), NY, 60)
    rows = {
        (dt.date(2026, 11, 24), 18): WindowCounts(
            calls=40, answered=32, revenue=Decimal("100"), talk_seconds=600
        ),
        (dt.date(2026, 11, 24), 19): WindowCounts(calls=10, answered=10),
    }
    counts = rules.window_counts(shares, rows)
    # 10 + 0.75 x 40 calls, 10 + 0.75 x 32 answered.
    assert (counts.calls, counts.answered, counts.missed) == (40.0, 34.0, 6.0)
    assert counts.revenue == Decimal("75.00")


MISSED = rules.thresholds_default(rules.MISSED_CALL_RATE)


def test_missed_call_rate_fires_above_5_percent_with_20_calls():
    finding = rules.missed_call_rate_finding("Auto", WindowCounts(calls=20, answered=18), MISSED)
    assert finding is not None
    assert finding.summary == "Auto: 10.0% of 20 calls missed in the last 60 min (alert above 5%)"
    assert finding.values == {
        "calls": 20,
        "missed": 2,
        "missed_rate_pct": 10.0,
        "threshold_pct": 5.0,
        "min_calls": 20,
        "window_minutes": 60,
    }


def test_missed_call_rate_of_exactly_5_percent_does_not_fire():
    assert rules.missed_call_rate_finding("A", WindowCounts(calls=20, answered=19), MISSED) is None


def test_missed_call_rate_needs_the_minimum_calls():
    # 19 calls, 10 missed: 53%, but too few calls to say.
    assert rules.missed_call_rate_finding("A", WindowCounts(calls=19, answered=9), MISSED) is None


def test_no_answer_fires_only_with_traffic_and_no_answer():
    thresholds = rules.thresholds_default(rules.NO_ANSWER)
    finding = rules.no_answer_finding("HVAC", 3, 0, thresholds)
    assert finding is not None
    assert finding.summary == "HVAC: none of 3 calls answered in the last 60 min"
    assert rules.no_answer_finding("HVAC", 2, 0, thresholds) is None
    assert rules.no_answer_finding("HVAC", 30, 1, thresholds) is None


def test_rpm_below_floor_fires_under_the_floor_with_30_answered():
    thresholds = rules.thresholds_default(rules.RPM_BELOW_FLOOR)
    # 30 calls of 2 minutes paying $1.50 each: $45 over 60 minutes, RPM $0.75.
    counts = WindowCounts(calls=30, answered=30, revenue=Decimal("45"), talk_seconds=3600)
    finding = rules.rpm_below_floor_finding("Legal", counts, Decimal("1.00"), thresholds)
    assert finding is not None
    assert finding.values["rpm"] == "0.75"
    assert finding.summary.startswith("Legal: RPM $0.75 over the last 24 h is under the $1.00")
    # At the floor is not under it; no floor, no alert; 29 answered calls are too few.
    assert rules.rpm_below_floor_finding("L", counts, Decimal("0.75"), thresholds) is None
    assert rules.rpm_below_floor_finding("L", counts, None, thresholds) is None
    few = WindowCounts(calls=29, answered=29, revenue=Decimal("1"), talk_seconds=3480)
    assert rules.rpm_below_floor_finding("L", few, Decimal("1.00"), thresholds) is None


def test_publisher_verdict_fires_on_cut_and_fix_by_default():
    thresholds = rules.thresholds_default(rules.PUBLISHER_VERDICT)
    assert rules.publisher_verdict_finding("P in C", "cut", ["weak"], thresholds) is not None
    assert rules.publisher_verdict_finding("P in C", "fix", [], thresholds) is not None
    assert rules.publisher_verdict_finding("P in C", "watch", [], thresholds) is None
    only_cut = {**thresholds, "verdicts": ["cut"]}
    assert rules.publisher_verdict_finding("P in C", "fix", [], only_cut) is None


def test_kpis_stale_fires_past_5_minutes_behind():
    thresholds = rules.thresholds_default(rules.KPIS_STALE)
    finding = rules.kpis_stale_finding("Acme", dt.timedelta(minutes=6), 2, thresholds)
    assert finding is not None and finding.values["behind_minutes"] == 6
    assert rules.kpis_stale_finding("Acme", dt.timedelta(minutes=5), 2, thresholds) is None


def test_thresholds_in_force_lay_the_campaign_over_the_tenant_over_the_defaults():
    merged = rules.thresholds_in_force(
        rules.MISSED_CALL_RATE, {"rate_pct": 10, "min_calls": 50}, {"min_calls": 5}
    )
    assert merged == {"rate_pct": 10.0, "min_calls": 5, "window_minutes": 60}


@pytest.mark.parametrize(
    "kind, overrides, message",
    [
        ("missed_call_rate", {"rate_pct": 101}, "rate_pct must be from 0 to 100"),
        ("missed_call_rate", {"min_calls": 2.5}, "min_calls must be a whole number"),
        ("missed_call_rate", {"min_calls": True}, "min_calls must be a number"),
        ("missed_call_rate", {"minutes": 5}, "'minutes' is no threshold of missed_call_rate"),
        ("publisher_verdict", {"verdicts": ["bad"]}, "'bad' is not one of"),
        ("publisher_verdict", {"verdicts": []}, "non-empty list"),
        ("kpis_stale", [], "thresholds must be an object"),
        ("nonsense", {}, "'nonsense' is not an alert kind"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_key(kind, overrides, message):
    with pytest.raises(ValueError, match=message):
        rules.thresholds_checked(kind, overrides)


def test_values_are_shown_as_name_and_text_with_lists_joined():
    assert rules.values_display({"verdicts": ["cut", "fix"], "days": 30}) == [
        ("verdicts", "cut, fix"),
        ("days", "30"),
    ]
