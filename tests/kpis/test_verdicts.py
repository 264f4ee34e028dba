"""kpis.verdicts against KPIS.md "Verdicts" and "Call quality signals" (no database).

Confidence intervals in the expected sentences are 95% Wilson intervals (checked against
Newcombe's published values in test_metrics.py); the ones used most:
0/30 -> 0.0-11.4% (upper = z^2 / (30 + z^2) = 3.8415 / 33.8415), 12/400 -> 1.7-5.2%,
20/100 -> 13.3-28.9%, 15/100 -> 9.3-23.3%, 10/100 -> 5.5-17.4%, 1/30 -> 0.6-16.7%.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kpis.metrics import BaseCounts, Kpis, kpis_from_counts
from kpis.verdicts import (
    PublisherPerformance,
    Spike,
    Verdict,
    VerdictThresholds,
    budget_reallocation,
    is_velocity_spike,
    qualifying_threshold_suggestion,
    velocity_spikes,
    verdict_for,
)

DEFAULTS = VerdictThresholds()


def make_kpis(
    calls: int,
    *,
    answered: int | None = None,
    conversions: int = 0,
    talk_seconds: int | None = None,
    revenue: str = "0",
    spend: str = "0",
    repeat_calls: int = 0,
    short_calls: int = 0,
) -> Kpis:
    """KPIs of hand-built counts; by default every call is answered and talks 200 s."""
    answered = calls if answered is None else answered
    return kpis_from_counts(
        BaseCounts(
            calls=calls,
            answered=answered,
            conversions=conversions,
            talk_seconds=answered * 200 if talk_seconds is None else talk_seconds,
            revenue=Decimal(revenue),
            call_cost=Decimal(spend),
            repeat_calls=repeat_calls,
            short_calls=short_calls,
        )
    )


def judge(
    kpis: Kpis,
    *,
    thresholds: VerdictThresholds = DEFAULTS,
    vertical: str = "other",
    rpm_floor: Decimal | None = None,
    spikes: int = 0,
) -> Verdict:
    return verdict_for(
        kpis,
        thresholds=thresholds,
        vertical=vertical,
        rpm_floor=rpm_floor,
        velocity_spikes=spikes,
    )


# --- scale / watch / cut on conversion ------------------------------------------------------


def test_strong_conversion_with_volume_is_scale():
    # 20 / 100 = 20% > 15%
    verdict = judge(make_kpis(100, conversions=20))
    assert verdict == Verdict(
        "scale", ["conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%"]
    )


def test_exactly_15_percent_is_not_strong_so_watch():
    # 15 / 100 = 15%, and strong means > 15%
    verdict = judge(make_kpis(100, conversions=15))
    assert verdict == Verdict(
        "watch", ["conversion 15.0% over 100 calls (95% CI 9.3-23.3%) is between 5% and 15%"]
    )


def test_middling_conversion_is_watch():
    # 10 / 100 = 10%: neither > 15% nor < 5%
    verdict = judge(make_kpis(100, conversions=10))
    assert verdict.label == "watch"
    assert verdict.reasons == [
        "conversion 10.0% over 100 calls (95% CI 5.5-17.4%) is between 5% and 15%"
    ]


def test_weak_conversion_with_volume_is_cut():
    # 12 / 400 = 3% < 5%, with 400 >= 30 calls and a 95% upper bound of 5.2% < 15%
    verdict = judge(make_kpis(400, conversions=12))
    assert verdict == Verdict(
        "cut", ["conversion 3.0% over 400 calls (95% CI 1.7-5.2%) is below 5%"]
    )


def test_exactly_5_percent_conversion_is_not_weak():
    # 5 / 100 = 5%, and weak means < 5%
    verdict = judge(make_kpis(100, conversions=5))
    assert verdict.label == "watch"
    assert verdict.reasons == [
        "conversion 5.0% over 100 calls (95% CI 2.2-11.2%) is between 5% and 15%"
    ]


def test_twelve_calls_is_watch_too_few():
    # 0 / 12 would be "weak" but 12 < 30 calls is too few to judge
    verdict = judge(make_kpis(12))
    assert verdict == Verdict("watch", ["only 12 calls: too few to judge (needs 30)"])


def test_strong_conversion_on_too_few_calls_is_watch():
    # 10 / 20 = 50%, but 20 < 30 calls
    verdict = judge(make_kpis(20, conversions=10))
    assert verdict == Verdict("watch", ["only 20 calls: too few to judge (needs 30)"])


def test_twenty_nine_calls_is_watch_too_few():
    assert judge(make_kpis(29)).label == "watch"


def test_exactly_thirty_calls_without_conversions_is_cut():
    # 0 / 30 = 0%, upper bound 3.8415 / 33.8415 = 11.35% < 15%: significant
    verdict = judge(make_kpis(30))
    assert verdict == Verdict(
        "cut", ["conversion 0.0% over 30 calls (95% CI 0.0-11.4%) is below 5%"]
    )


def test_low_conversion_whose_interval_reaches_15_percent_is_watch_not_cut():
    # 1 / 30 = 3.3% < 5% with 30 calls, but the 95% upper bound is 16.7% >= 15%
    verdict = judge(make_kpis(30, conversions=1))
    assert verdict == Verdict(
        "watch",
        [
            "conversion 3.3% over 30 calls (95% CI 0.6-16.7%) is below 5% "
            "but not conclusive: the interval reaches 15%"
        ],
    )


def test_one_call_and_no_calls_read_naturally():
    assert judge(make_kpis(1)).reasons == ["only 1 call: too few to judge (needs 30)"]
    assert judge(make_kpis(0)).reasons == ["no calls yet: nothing to judge (needs 30)"]


# --- missed-call leak: fix --------------------------------------------------------------------


def test_missed_call_leak_alone_is_fix():
    # 100 calls, 92 answered: 8 / 100 = 8% missed > 5%; conversion 10% is fine
    verdict = judge(make_kpis(100, answered=92, conversions=10))
    assert verdict == Verdict(
        "fix",
        [
            "missed-call rate 8.0% over 100 calls (95% CI 4.1-15.0%) is above 5%: "
            "a routing problem to fix",
            "conversion 10.0% over 100 calls (95% CI 5.5-17.4%) is between 5% and 15%",
        ],
    )


def test_exactly_5_percent_missed_is_not_a_leak():
    # 95 of 100 answered: 5 / 100 = 5% missed, and a leak means > 5%
    assert judge(make_kpis(100, answered=95, conversions=20)).label == "scale"


def test_strong_conversion_with_a_leak_is_fix_not_scale():
    # 20% conversion would scale, but 10% of calls are missed: fix routing first
    verdict = judge(make_kpis(100, answered=90, conversions=20))
    assert verdict.label == "fix"
    assert verdict.reasons[0].startswith("missed-call rate 10.0% over 100 calls")
    assert verdict.reasons[1].endswith("is above 15%")


def test_leak_on_too_few_calls_is_watch():
    # 10 missed of 20 = 50%, but 20 < 30 calls
    verdict = judge(make_kpis(20, answered=10))
    assert verdict == Verdict("watch", ["only 20 calls: too few to judge (needs 30)"])


# --- precedence -------------------------------------------------------------------------------


def test_weak_conversion_and_leak_is_cut_with_both_reasons():
    # 12 / 400 = 3% converts (cut) and 40 / 400 = 10% missed (leak)
    verdict = judge(make_kpis(400, answered=360, conversions=12))
    assert verdict.label == "cut"
    assert verdict.reasons == [
        "conversion 3.0% over 400 calls (95% CI 1.7-5.2%) is below 5%",
        "missed-call rate 10.0% over 400 calls (95% CI 7.4-13.3%) is above 5%: "
        "a routing problem to fix",
    ]


def test_leak_with_a_watch_signal_is_watch_listing_both():
    # 8% missed and 25 / 100 = 25% repeat callers (> 20%): the leak is not the only problem
    verdict = judge(make_kpis(100, answered=92, conversions=10, repeat_calls=25))
    assert verdict.label == "watch"
    assert verdict.reasons[0] == "repeat rate 25.0% over 100 calls is above 20%"
    assert verdict.reasons[1].startswith("missed-call rate 8.0% over 100 calls")


def test_cut_also_lists_quality_reasons():
    # 0 / 100 converts, 30 / 100 repeat callers, 2 velocity spikes
    verdict = judge(make_kpis(100, repeat_calls=30), spikes=2)
    assert verdict.label == "cut"
    assert verdict.reasons == [
        "conversion 0.0% over 100 calls (95% CI 0.0-3.7%) is below 5%",
        "repeat rate 30.0% over 100 calls is above 20%",
        "2 hours with a velocity spike (over 3x the trailing 7-day mean, at least 10 calls)",
    ]


# --- RPM floor --------------------------------------------------------------------------------


def test_rpm_under_the_floor_is_cut_even_with_strong_conversion():
    # 300.00 revenue / (100 calls x 200 s = 20000 s = 333.3 min) = 0.90 per minute < 1.00
    verdict = judge(make_kpis(100, conversions=20, revenue="300"), rpm_floor=Decimal("1.00"))
    assert verdict == Verdict(
        "cut",
        [
            "RPM 0.90 over 100 calls is under the 1.00 floor",
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
        ],
    )


def test_rpm_exactly_at_the_floor_is_not_cut():
    # 333.33... min x 0.90 = 300.00: RPM is exactly the floor
    verdict = judge(make_kpis(100, conversions=20, revenue="300"), rpm_floor=Decimal("0.9"))
    assert verdict.label == "scale"


def test_rpm_is_not_judged_without_a_floor():
    assert judge(make_kpis(100, conversions=20, revenue="1"), rpm_floor=None).label == "scale"


def test_rpm_under_the_floor_on_too_few_calls_is_watch():
    verdict = judge(make_kpis(29, conversions=10, revenue="1"), rpm_floor=Decimal("5.00"))
    assert verdict == Verdict("watch", ["only 29 calls: too few to judge (needs 30)"])


def test_rpm_and_floor_are_stated_with_two_decimals():
    # 10.00 / (30 x 200 s = 100 min) = 0.10; floor 0.125 rounds half up to 0.13
    verdict = judge(make_kpis(30, conversions=6, revenue="10"), rpm_floor=Decimal("0.125"))
    assert verdict.reasons[0] == "RPM 0.10 over 30 calls is under the 0.13 floor"


# --- short calls and call quality -------------------------------------------------------------


def test_short_average_duration_is_watch_not_scale():
    # 8000 s / 100 answered = 80 s < the 90 s home services benchmark; 20% would scale
    verdict = judge(make_kpis(100, conversions=20, talk_seconds=8000), vertical="home_services")
    assert verdict == Verdict(
        "watch",
        [
            "average call 80 s over 100 answered calls is under the 90 s benchmark "
            "for home_services",
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
        ],
    )


@pytest.mark.parametrize(
    ("vertical", "benchmark"),
    [("insurance", 180), ("legal", 180), ("home_services", 90), ("other", 120)],
)
def test_each_vertical_has_its_duration_benchmark(vertical, benchmark):
    at_benchmark = make_kpis(100, conversions=20, talk_seconds=100 * benchmark)
    just_under = make_kpis(100, conversions=20, talk_seconds=100 * benchmark - 1)
    assert judge(at_benchmark, vertical=vertical).label == "scale"
    under = judge(just_under, vertical=vertical)
    assert under.label == "watch"
    # 100 x benchmark - 1 seconds / 100 = benchmark - 0.01 s, stated truncated
    assert under.reasons[0] == (
        f"average call {benchmark - 1} s over 100 answered calls is under the "
        f"{benchmark} s benchmark for {vertical}"
    )


def test_an_unknown_vertical_uses_the_other_benchmark():
    assert DEFAULTS.duration_benchmark("solar") == 120


def test_short_average_duration_needs_thirty_answered_calls():
    # 40 calls, 29 answered at 10 s each: too few answered calls to judge the average
    verdict = judge(make_kpis(40, answered=29, conversions=8, talk_seconds=290))
    assert not any(reason.startswith("average call") for reason in verdict.reasons)


def test_repeat_rate_over_20_percent_is_a_watch_reason():
    # 21 / 100 = 21% repeat callers > 20%
    verdict = judge(make_kpis(100, conversions=20, repeat_calls=21))
    assert verdict.label == "watch"
    assert verdict.reasons[0] == "repeat rate 21.0% over 100 calls is above 20%"


def test_repeat_rate_of_exactly_20_percent_is_fine():
    assert judge(make_kpis(100, conversions=20, repeat_calls=20)).label == "scale"


def test_short_call_rate_over_30_percent_is_a_watch_reason():
    # 31 / 100 answered = 31% under 20 s > 30%
    verdict = judge(make_kpis(100, conversions=20, short_calls=31))
    assert verdict.label == "watch"
    assert verdict.reasons[0] == "short-call rate 31.0% over 100 answered calls is above 30%"


def test_short_call_rate_of_exactly_30_percent_is_fine():
    assert judge(make_kpis(100, conversions=20, short_calls=30)).label == "scale"


def test_short_call_rate_needs_thirty_answered_calls():
    # 15 / 29 answered = 52% short, but only 29 answered calls (32 calls: 3 missed = 9.4%)
    verdict = judge(make_kpis(32, answered=29, conversions=8, short_calls=15))
    assert verdict.label == "fix"
    assert not any(reason.startswith("short-call rate") for reason in verdict.reasons)


def test_a_velocity_spike_is_a_watch_reason():
    verdict = judge(make_kpis(100, conversions=20), spikes=1)
    assert verdict.label == "watch"
    assert verdict.reasons[0] == (
        "1 hour with a velocity spike (over 3x the trailing 7-day mean, at least 10 calls)"
    )


def test_a_velocity_spike_is_reported_even_with_too_few_calls():
    verdict = judge(make_kpis(12), spikes=1)
    assert verdict.label == "watch"
    assert verdict.reasons == [
        "only 12 calls: too few to judge (needs 30)",
        "1 hour with a velocity spike (over 3x the trailing 7-day mean, at least 10 calls)",
    ]


def test_call_counts_are_stated_with_thousands_separators():
    # 40 / 2000 = 2%: upper bound well under 15%
    verdict = judge(make_kpis(2000, conversions=40))
    assert verdict.reasons[0].startswith("conversion 2.0% over 2,000 calls (95% CI ")


# --- thresholds and overrides -----------------------------------------------------------------


def test_default_thresholds_are_the_kpis_md_defaults():
    assert DEFAULTS.strong_conversion_pct == 15
    assert DEFAULTS.weak_conversion_pct == 5
    assert DEFAULTS.weak_ci_upper_pct == 15
    assert DEFAULTS.min_calls == 30
    assert DEFAULTS.missed_leak_pct == 5
    assert DEFAULTS.repeat_rate_pct == 20
    assert DEFAULTS.short_call_rate_pct == 30
    benchmarks = {v: DEFAULTS.duration_benchmark(v) for v in ("insurance", "legal")}
    assert benchmarks == {"insurance": 180, "legal": 180}
    assert DEFAULTS.duration_benchmark("home_services") == 90
    assert DEFAULTS.duration_benchmark("other") == 120


def test_no_overrides_give_the_defaults():
    assert VerdictThresholds.from_overrides(None, None) == DEFAULTS
    assert VerdictThresholds.from_overrides({}, {}) == DEFAULTS


def test_campaign_overrides_win_over_tenant_overrides():
    thresholds = VerdictThresholds.from_overrides(
        {"strong_conversion_pct": 20, "min_calls": 50}, {"strong_conversion_pct": 25.5}
    )
    assert thresholds.strong_conversion_pct == 25.5
    assert thresholds.min_calls == 50
    assert thresholds.weak_conversion_pct == 5.0


def test_overridden_thresholds_change_the_verdict():
    thresholds = VerdictThresholds.from_overrides(None, {"strong_conversion_pct": 25})
    verdict = judge(make_kpis(100, conversions=20), thresholds=thresholds)
    assert verdict.label == "watch"
    assert verdict.reasons == [
        "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is between 5% and 25%"
    ]


def test_an_overridden_threshold_is_exact_at_its_boundary():
    # 7 / 50 = 14% exactly (7 / 50 * 100 would be 14.000000000000002 in floats)
    thresholds = VerdictThresholds.from_overrides({"strong_conversion_pct": 14}, None)
    assert judge(make_kpis(50, conversions=7), thresholds=thresholds).label == "watch"
    assert judge(make_kpis(50, conversions=8), thresholds=thresholds).label == "scale"


def test_overridden_min_calls_changes_what_is_too_few():
    thresholds = VerdictThresholds.from_overrides({"min_calls": 10}, None)
    assert judge(make_kpis(12, conversions=6), thresholds=thresholds).label == "scale"


def test_a_decimal_override_is_accepted_as_a_percentage():
    thresholds = VerdictThresholds.from_overrides(None, {"missed_leak_pct": Decimal("7.5")})
    assert thresholds.missed_leak_pct == 7.5
    # 7 / 100 = 7% missed is no longer a leak; 8 / 100 = 8% is
    assert judge(make_kpis(100, answered=93, conversions=20), thresholds=thresholds).label == (
        "scale"
    )
    leaking = judge(make_kpis(100, answered=92, conversions=20), thresholds=thresholds)
    assert leaking.label == "fix"
    assert leaking.reasons[0].endswith("is above 7.5%: a routing problem to fix")


@pytest.mark.parametrize(
    ("tenant", "campaign", "message"),
    [
        (None, {"strong_pct": 20}, "unknown verdict threshold 'strong_pct' in campaign overrides"),
        ({"min_call": 10}, None, "unknown verdict threshold 'min_call' in tenant overrides"),
        (
            {"strong_conversion_pct": "20"},
            None,
            "strong_conversion_pct in tenant overrides must be a number, got str",
        ),
        (
            None,
            {"missed_leak_pct": True},
            "missed_leak_pct in campaign overrides must be a number, got bool",
        ),
        (
            None,
            {"weak_conversion_pct": 150},
            "weak_conversion_pct in campaign overrides must be a percentage from 0 to 100",
        ),
        (
            None,
            {"weak_ci_upper_pct": float("nan")},
            "weak_ci_upper_pct in campaign overrides must be a percentage",
        ),
        ({"min_calls": 30.0}, None, "min_calls in tenant overrides must be a whole number"),
        ({"min_calls": 0}, None, "min_calls in tenant overrides must be at least 1, got 0"),
        (
            None,
            {"legal_benchmark_seconds": -1},
            "legal_benchmark_seconds in campaign overrides must be at least 0",
        ),
        (
            {"weak_conversion_pct": 20},
            None,
            r"weak_conversion_pct \(20\) must not exceed strong_conversion_pct \(15\)",
        ),
        (["min_calls"], None, "tenant verdict thresholds must be a dict, got list"),
    ],
)
def test_bad_overrides_raise_naming_the_key(tenant, campaign, message):
    with pytest.raises(ValueError, match=message):
        VerdictThresholds.from_overrides(tenant, campaign)


def test_thresholds_built_directly_are_validated_too():
    with pytest.raises(ValueError, match="min_calls must be at least 1"):
        VerdictThresholds(min_calls=0)


# --- velocity spikes --------------------------------------------------------------------------

# A DST-free synthetic fortnight: naive local hours from Monday 2025-01-06.
MONDAY = dt.datetime(2025, 1, 6)


def at(day: int, hour: int) -> dt.datetime:
    return MONDAY + dt.timedelta(days=day, hours=hour)


def steady_week(hour: int, calls: int, days: range = range(7)) -> dict[dt.datetime, int]:
    return {at(day, hour): calls for day in days}


def test_more_than_three_times_the_trailing_mean_is_a_spike():
    # 4 calls at 10:00 on each of 7 days: mean 4, 3 x 4 = 12; 13 > 12 on day 8
    hourly = steady_week(10, 4) | {at(7, 10): 13}
    assert velocity_spikes(hourly) == [Spike(hour=at(7, 10), calls=13, trailing_mean=4.0)]


def test_exactly_three_times_the_trailing_mean_is_not_a_spike():
    # mean 4, 12 calls is exactly 3 x 4
    hourly = steady_week(10, 4) | {at(7, 10): 12}
    assert velocity_spikes(hourly) == []


def test_a_spike_needs_at_least_ten_calls():
    # nothing at 03:00 all week: 9 calls is not a spike, 10 calls is
    hourly = steady_week(10, 4) | {at(7, 3): 9, at(8, 3): 10}
    assert [spike.hour for spike in velocity_spikes(hourly)] == [at(8, 3)]


def test_missing_hours_count_as_zero_in_the_trailing_mean():
    # 7 calls at 10:00 on only 3 of the 7 previous days: (3 x 7 + 4 x 0) / 7 = 3, 3 x 3 = 9
    hourly = steady_week(10, 7, range(0, 7, 3)) | {at(7, 10): 10}
    assert velocity_spikes(hourly) == [Spike(hour=at(7, 10), calls=10, trailing_mean=3.0)]


def test_only_the_same_hour_of_day_makes_the_mean():
    # busy 09:00 and 11:00 every day say nothing about 10:00
    hourly = steady_week(9, 40) | steady_week(11, 40) | steady_week(10, 4) | {at(7, 10): 13}
    assert [spike.hour for spike in velocity_spikes(hourly)] == [at(7, 10)]


def test_the_trailing_week_is_the_seven_days_before():
    # 100 calls at 10:00 eight days before do not count: day 8 looks back at days 1-7
    hourly = {at(0, 10): 100} | steady_week(10, 4, range(1, 8)) | {at(8, 10): 13}
    spikes = velocity_spikes(hourly)
    assert spikes == [Spike(hour=at(8, 10), calls=13, trailing_mean=4.0)]


def test_hours_without_a_full_trailing_week_are_not_judged():
    # day 0 starts the data: 50 calls on day 3 has only 3 days of history
    hourly = steady_week(10, 1, range(3)) | {at(3, 10): 50}
    assert velocity_spikes(hourly) == []
    # ... unless the caller says the data (zero calls included) starts a week earlier
    spikes = velocity_spikes(hourly, history_start=MONDAY - dt.timedelta(days=7))
    assert [spike.hour for spike in spikes] == [at(3, 10)]


def test_spikes_are_listed_in_time_order():
    hourly = steady_week(10, 0) | {at(9, 10): 20, at(7, 22): 15, at(8, 3): 11}
    assert [spike.hour for spike in velocity_spikes(hourly)] == [at(7, 22), at(8, 3), at(9, 10)]


def test_aware_hours_give_the_same_spikes():
    utc = dt.UTC
    hourly = {hour.replace(tzinfo=utc): calls for hour, calls in steady_week(10, 4).items()}
    hourly[at(7, 10).replace(tzinfo=utc)] = 13
    assert velocity_spikes(hourly) == [
        Spike(hour=at(7, 10).replace(tzinfo=utc), calls=13, trailing_mean=4.0)
    ]


def test_no_hours_no_spikes():
    assert velocity_spikes({}) == []


def test_an_hour_key_must_be_the_start_of_an_hour():
    with pytest.raises(ValueError, match="is not the start of an hour"):
        velocity_spikes({at(0, 10) + dt.timedelta(minutes=30): 12})


def test_a_spike_is_strictly_over_three_times_the_mean_and_at_least_ten_calls():
    assert is_velocity_spike(13, 28)  # 13 > 3 x 4
    assert not is_velocity_spike(12, 28)  # exactly 3 x 4
    assert not is_velocity_spike(9, 0)
    assert is_velocity_spike(10, 0)


# --- qualifying-threshold finder --------------------------------------------------------------

# buckets: 0-30, 30-60, 60-90, 90-120, 120-180, 180-300, 300+ s as (answered, conversions)


def test_threshold_is_the_first_edge_where_longer_calls_convert_three_times_better():
    buckets = [(200, 10), (100, 5), (100, 4), (100, 15), (100, 18), (100, 20), (50, 10)]
    # edge 30: shorter 10/200 = 5.0%, longer 72/550 = 13.1% < 15.0%   (3 x 5.0)
    # edge 60: shorter 15/300 = 5.0%, longer 67/450 = 14.9% < 15.0%
    # edge 90: shorter 19/400 = 4.75%, longer 63/350 = 18.0% >= 14.25% -> 90
    assert qualifying_threshold_suggestion(buckets) == 90


def test_exactly_three_times_qualifies():
    # edge 30: shorter 3/30 = 10%, longer 9/30 = 30% = 3 x 10%
    buckets = [(30, 3), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (30, 9)]
    assert qualifying_threshold_suggestion(buckets) == 30


def test_just_under_three_times_does_not_qualify():
    # shorter 3/30 = 10% everywhere; longer 8/30 = 26.7% < 30%
    buckets = [(30, 3), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (30, 8)]
    assert qualifying_threshold_suggestion(buckets) is None


def test_shorter_calls_that_never_convert_count_with_enough_calls():
    # edge 30: shorter 0/30 = 0%, longer 1/30 = 3.3% > 0
    buckets = [(30, 0), (30, 1), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]
    assert qualifying_threshold_suggestion(buckets) == 30


def test_shorter_calls_that_never_convert_need_thirty_calls():
    # edge 30: shorter 0/29 is too thin; edge 60: shorter 0/59 = 0% but longer has 0 answered
    buckets = [(29, 0), (30, 1), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]
    assert qualifying_threshold_suggestion(buckets) is None


def test_no_conversions_anywhere_suggest_nothing():
    buckets = [(100, 0)] * 7
    assert qualifying_threshold_suggestion(buckets) is None


def test_thin_longer_side_suggests_nothing():
    # edge 30 has only 29 answered calls at or over 30 s
    buckets = [(300, 3), (29, 20), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]
    assert qualifying_threshold_suggestion(buckets) is None


def test_a_flat_conversion_curve_suggests_nothing():
    assert qualifying_threshold_suggestion([(100, 10)] * 7) is None


def test_threshold_finder_rejects_the_wrong_number_of_buckets():
    with pytest.raises(ValueError, match="expected 7 duration buckets, got 6"):
        qualifying_threshold_suggestion([(10, 1)] * 6)


def test_threshold_finder_rejects_more_conversions_than_answered():
    with pytest.raises(ValueError, match="duration bucket 2 has 5 conversions for 4 answered"):
        qualifying_threshold_suggestion([(10, 1), (10, 1), (4, 5), (0, 0), (0, 0), (0, 0), (0, 0)])


# --- budget reallocation ----------------------------------------------------------------------


def performance(publisher_id: int, kpis: Kpis, rpm_floor: Decimal | None = None):
    verdict = judge(kpis, rpm_floor=rpm_floor)
    return PublisherPerformance(publisher_id, f"Publisher {publisher_id}", kpis, verdict)


def test_reallocation_spreads_and_spend_freed_by_cuts():
    # 1: 20/100 = 20%, RPM 300 / (20000 s / 60) = 0.90, spend 500 -> scale
    star = performance(1, make_kpis(100, conversions=20, revenue="300", spend="500"))
    # 2: 4/200 = 2%, RPM 60 / (40000 s / 60) = 0.09, spend 800 -> cut
    dud = performance(2, make_kpis(200, conversions=4, revenue="60", spend="800"))
    # 3: 10/20 = 50% but only 20 calls: not compared; watch
    newcomer = performance(3, make_kpis(20, conversions=10, revenue="500", spend="40"))
    # 4: 10/100 = 10%, RPM 100 / (20000 s / 60) = 0.30 < floor 0.50 -> cut, spend 300
    cheap = performance(
        4, make_kpis(100, conversions=10, revenue="100", spend="300"), Decimal("0.50")
    )
    assert [p.verdict.label for p in (star, dud, newcomer, cheap)] == [
        "scale",
        "cut",
        "watch",
        "cut",
    ]

    reallocation = budget_reallocation([star, dud, newcomer, cheap])

    assert reallocation.compared == [star, dud, cheap]
    assert reallocation.conversion is not None
    assert reallocation.conversion.best is star
    assert reallocation.conversion.worst is dud
    assert reallocation.conversion.points == pytest.approx(18.0)  # 20% - 2%
    assert reallocation.rpm is not None
    assert reallocation.rpm.best is star
    assert reallocation.rpm.worst is dud
    assert reallocation.rpm.amount == Decimal("0.81")  # 0.90 - 0.09
    assert reallocation.cut == [dud, cheap]
    assert reallocation.freed_spend == Decimal("1100")  # 800 + 300
    assert isinstance(reallocation.freed_spend, Decimal)


def test_reallocation_needs_two_publishers_with_volume_to_compare():
    alone = performance(1, make_kpis(100, conversions=20))
    thin = performance(2, make_kpis(10, conversions=1))
    reallocation = budget_reallocation([alone, thin])
    assert reallocation.compared == [alone]
    assert reallocation.conversion is None
    assert reallocation.rpm is None
    assert reallocation.cut == []
    assert reallocation.freed_spend == Decimal("0")


def test_publishers_without_talk_time_are_left_out_of_the_rpm_spread():
    talking = performance(1, make_kpis(100, conversions=20, revenue="100"))
    silent = performance(2, make_kpis(100, answered=0, conversions=0))
    reallocation = budget_reallocation([talking, silent])
    assert reallocation.conversion is not None  # 20% vs 0%
    assert reallocation.conversion.points == pytest.approx(20.0)
    assert reallocation.rpm is None  # only one publisher has an RPM


def test_tied_publishers_are_best_and_worst_in_input_order():
    first = performance(1, make_kpis(100, conversions=10))
    second = performance(2, make_kpis(100, conversions=10))
    reallocation = budget_reallocation([first, second])
    assert reallocation.conversion is not None
    assert reallocation.conversion.best is first
    assert reallocation.conversion.worst is second
    assert reallocation.conversion.points == 0.0


def test_reallocation_minimum_volume_is_configurable():
    a = performance(1, make_kpis(10, conversions=5))
    b = performance(2, make_kpis(10, conversions=1))
    assert budget_reallocation([a, b]).conversion is None
    spread = budget_reallocation([a, b], min_calls=10).conversion
    assert spread is not None
    assert spread.points == pytest.approx(40.0)  # 50% - 10%
