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
    ThresholdFinding,
    Verdict,
    VerdictThresholds,
    budget_reallocation,
    is_velocity_spike,
    qualifying_threshold_suggestion,
    threshold_tradeoff,
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
    spikes: tuple[Spike, ...] = (),
    subject: str = "publisher",
) -> Verdict:
    return verdict_for(
        kpis,
        thresholds=thresholds,
        vertical=vertical,
        rpm_floor=rpm_floor,
        spikes=spikes,
        subject=subject,
        currency="USD",
    )


def spike(day: int, hour: int, calls: int) -> Spike:
    return Spike(hour=dt.datetime(2026, 11, day, hour), calls=calls, trailing_mean=1.0)


# Money in the examples: revenue 2,000 over spend 1,000 returns 100% ROI ($1,000 profit).
PROFITABLE = {"revenue": "2000", "spend": "1000"}
LOSING = {"revenue": "100", "spend": "1000"}  # -90% ROI (-$900 profit)


# --- KPIS.md: "scale: conversion strong, not losing money, and no floor broken, no leak, no
# short calls and no traffic-quality flag" -------------------------------------------------------


def test_strong_conversion_that_makes_money_is_scale():
    # 20 / 100 = 20% > 15%, ROI (2000 - 1000) / 1000 = 100%
    verdict = judge(make_kpis(100, conversions=20, **PROFITABLE))
    assert verdict == Verdict(
        "scale",
        [
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
            "returns 100% ROI ($1,000 profit)",
        ],
    )


def test_exactly_15_percent_is_not_strong_so_watch():
    verdict = judge(make_kpis(100, conversions=15, **PROFITABLE))
    assert verdict == Verdict(
        "watch",
        [
            "conversion 15.0% over 100 calls (95% CI 9.3-23.3%) is between 5% and 15%",
            "returns 100% ROI ($1,000 profit)",
        ],
    )


def test_strong_conversion_that_loses_money_is_watch_not_scale():
    verdict = judge(make_kpis(100, conversions=20, **LOSING))
    assert verdict == Verdict(
        "watch",
        [
            "loses money: -90% ROI (-$900 profit)",
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
        ],
    )


def test_strong_conversion_without_spend_is_scale():
    verdict = judge(make_kpis(100, conversions=20, revenue="450"))
    assert verdict.label == "scale"
    assert verdict.reasons[-1] == "no spend recorded ($450 revenue)"


def test_a_profitable_star_with_one_small_spike_hour_is_still_scale():
    # The demo's star: one spike hour of 12 calls in 1,809 is 0.7% of its calls, under 10%.
    verdict = judge(make_kpis(1809, conversions=497, **PROFITABLE), spikes=(spike(3, 14, 12),))
    assert verdict.label == "scale"
    assert verdict.notes == [
        "1 velocity-spike hour (Nov 3 14:00) holds 12 calls, 0.7% of the calls: "
        "under 10%, noted only"
    ]


# --- "cut: conversion weak or RPM floor broken, and losing money" ------------------------------


def test_weak_conversion_that_loses_money_is_cut():
    # 12 / 400 = 3% < 5%, upper bound 5.2% < 15%; ROI (100 - 1000) / 1000 = -90%
    verdict = judge(make_kpis(400, conversions=12, **LOSING))
    assert verdict == Verdict(
        "cut",
        [
            "conversion 3.0% over 400 calls (95% CI 1.7-5.2%) is below 5%",
            "loses money: -90% ROI (-$900 profit)",
        ],
    )


def test_exactly_thirty_calls_without_conversions_that_lose_money_is_cut():
    # 0 / 30 = 0%, upper bound 3.8415 / 33.8415 = 11.35% < 15%: significant
    verdict = judge(make_kpis(30, spend="300"))
    assert verdict == Verdict(
        "cut",
        [
            "conversion 0.0% over 30 calls (95% CI 0.0-11.4%) is below 5%",
            "loses money: -100% ROI (-$300 profit)",
        ],
    )


def test_exactly_5_percent_conversion_is_not_weak():
    # 20 / 400 = 5%: weak means < 5%
    assert judge(make_kpis(400, conversions=20, **LOSING)).label == "watch"


def test_low_conversion_whose_interval_reaches_15_percent_is_watch_not_cut():
    # 1 / 30 = 3.3% < 5% with 30 calls, but the 95% upper bound is 16.7% >= 15%
    verdict = judge(make_kpis(30, conversions=1, revenue="50", spend="300"))
    assert verdict == Verdict(
        "watch",
        [
            "loses money: -83% ROI (-$250 profit)",
            "conversion 3.3% over 30 calls (95% CI 0.6-16.7%) is below 5% "
            "but not conclusive: the interval reaches 15%",
        ],
    )


def test_rpm_under_the_floor_that_loses_money_is_cut():
    # 300.00 revenue / (100 calls x 200 s = 333.3 min) = $0.90 a minute < $1.00; spend 400
    verdict = judge(
        make_kpis(100, conversions=20, revenue="300", spend="400"), rpm_floor=Decimal("1.00")
    )
    assert verdict == Verdict(
        "cut",
        [
            "RPM $0.90 over 100 answered calls is under the $1.00 floor",
            "loses money: -25% ROI (-$100 profit)",
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
        ],
    )


def test_rpm_exactly_at_the_floor_is_not_broken():
    # 600 / 333.3 min = $1.80 a minute, at a $1.80 floor
    verdict = judge(make_kpis(100, conversions=20, revenue="600"), rpm_floor=Decimal("1.80"))
    assert verdict.label == "scale"


def test_rpm_is_not_judged_without_a_floor():
    assert judge(make_kpis(100, conversions=20, revenue="1", spend="0.5")).label == "scale"


# --- "fix: a missed-call leak and nothing that warrants cut ("fix routing"); or conversion weak
# or RPM floor broken while still making money ("fix the deal")" -------------------------------


def test_weak_conversion_that_makes_money_is_fix_the_deal():
    # The demo's "2.4% conversion but 51% ROI": 12 / 400 = 3%, ROI (1510 - 1000) / 1000 = 51%
    verdict = judge(make_kpis(400, conversions=12, revenue="1510", spend="1000"))
    assert verdict == Verdict(
        "fix",
        [
            "conversion 3.0% over 400 calls (95% CI 1.7-5.2%) is below 5%",
            "returns 51% ROI ($510 profit): fix the deal before cutting",
        ],
    )


def test_rpm_under_the_floor_that_makes_money_is_fix_the_deal():
    verdict = judge(
        make_kpis(100, conversions=20, revenue="300", spend="100"), rpm_floor=Decimal("1.00")
    )
    assert verdict.label == "fix"
    assert verdict.reasons[:2] == [
        "RPM $0.90 over 100 answered calls is under the $1.00 floor",
        "returns 200% ROI ($200 profit): fix the deal before cutting",
    ]


def test_weak_conversion_without_spend_is_fix_the_deal():
    verdict = judge(make_kpis(400, conversions=12, revenue="100"))
    assert verdict.label == "fix"
    assert verdict.reasons[1] == "no spend recorded ($100 revenue): fix the deal before cutting"


def test_missed_call_leak_alone_is_fix_routing():
    # 100 calls, 92 answered: 8 / 100 = 8% missed > 5%; conversion 10% is fine
    verdict = judge(make_kpis(100, answered=92, conversions=10, **PROFITABLE))
    assert verdict == Verdict(
        "fix",
        [
            "missed-call rate 8.0% over 100 calls (95% CI 4.1-15.0%) is above 5%: "
            "a routing problem to fix",
            "conversion 10.0% over 100 calls (95% CI 5.5-17.4%) is between 5% and 15%",
            "returns 100% ROI ($1,000 profit)",
        ],
    )


def test_exactly_5_percent_missed_is_not_a_leak():
    # 95 of 100 answered: 5 / 100 = 5% missed, and a leak means > 5%
    assert judge(make_kpis(100, answered=95, conversions=20, **PROFITABLE)).label == "scale"


def test_strong_conversion_with_a_leak_is_fix_not_scale():
    verdict = judge(make_kpis(100, answered=90, conversions=20, **PROFITABLE))
    assert verdict.label == "fix"
    assert verdict.reasons[0].startswith("missed-call rate 10.0% over 100 calls")


def test_a_leak_with_weak_conversion_that_loses_money_is_cut_listing_the_leak():
    # 12 / 400 = 3% converts, 40 / 400 = 10% missed, -90% ROI
    verdict = judge(make_kpis(400, answered=360, conversions=12, **LOSING))
    assert verdict == Verdict(
        "cut",
        [
            "conversion 3.0% over 400 calls (95% CI 1.7-5.2%) is below 5%",
            "loses money: -90% ROI (-$900 profit)",
            "missed-call rate 10.0% over 400 calls (95% CI 7.4-13.3%) is above 5%: "
            "a routing problem to fix",
        ],
    )


def test_a_leak_with_a_profitable_weak_converter_is_fix_listing_both():
    verdict = judge(make_kpis(400, answered=360, conversions=12, revenue="1510", spend="1000"))
    assert verdict.label == "fix"
    assert verdict.reasons == [
        "conversion 3.0% over 400 calls (95% CI 1.7-5.2%) is below 5%",
        "returns 51% ROI ($510 profit): fix the deal before cutting",
        "missed-call rate 10.0% over 400 calls (95% CI 7.4-13.3%) is above 5%: "
        "a routing problem to fix",
    ]


def test_a_leak_with_a_quality_flag_is_still_fix():
    # "a missed-call leak and nothing that warrants cut": 25% repeat callers do not
    verdict = judge(make_kpis(100, answered=92, conversions=10, repeat_calls=25, **PROFITABLE))
    assert verdict.label == "fix"
    assert "repeat rate 25.0% over 100 calls is above 20%" in verdict.reasons


# --- "losing money: ROI below the ROI floor (default 0%, i.e. profit < 0), with volume and
# spend > 0" ------------------------------------------------------------------------------------


def test_losing_money_alone_is_watch_with_the_loss_first():
    verdict = judge(make_kpis(100, conversions=10, revenue="900", spend="1000"))
    assert verdict == Verdict(
        "watch",
        [
            "loses money: -10% ROI (-$100 profit)",
            "conversion 10.0% over 100 calls (95% CI 5.5-17.4%) is between 5% and 15%",
        ],
    )


def test_a_small_loss_does_not_read_as_zero():
    verdict = judge(make_kpis(100, conversions=20, revenue="997", spend="1000"))
    assert verdict.reasons[0] == "loses money: -0.3% ROI (-$3 profit)"


def test_break_even_is_not_losing_money():
    verdict = judge(make_kpis(100, conversions=20, revenue="1000", spend="1000"))
    assert verdict == Verdict(
        "scale",
        [
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
            "returns 0.0% ROI ($0 profit)",
        ],
    )


def test_the_roi_floor_is_configurable():
    thresholds = VerdictThresholds.from_overrides({"roi_floor_pct": 20}, None)
    # ROI (1100 - 1000) / 1000 = 10% < 20%: weak conversion is then cut
    verdict = judge(
        make_kpis(400, conversions=12, revenue="1100", spend="1000"), thresholds=thresholds
    )
    assert verdict.label == "cut"
    assert verdict.reasons[1] == "10% ROI ($100 profit) is under the 20% ROI floor"
    # A negative floor accepts a small loss.
    tolerant = VerdictThresholds.from_overrides(None, {"roi_floor_pct": -20})
    assert (
        judge(
            make_kpis(400, conversions=12, **{"revenue": "900", "spend": "1000"}),
            thresholds=tolerant,
        ).label
        == "fix"
    )


# --- "Volume" and "too few calls to judge" ------------------------------------------------------


def test_too_few_calls_is_watch_with_the_count_needed():
    verdict = judge(make_kpis(16, conversions=8, **PROFITABLE))
    assert verdict == Verdict("watch", ["too few calls to judge: 16 of the 30 needed"])


def test_twenty_nine_calls_is_too_few_whatever_the_rates():
    assert judge(make_kpis(29, answered=10, **LOSING)).label == "watch"


def test_no_calls_is_too_few():
    assert judge(make_kpis(0)).reasons == ["too few calls to judge: 0 of the 30 needed"]


def test_spikes_on_too_few_calls_are_notes():
    verdict = judge(make_kpis(20), spikes=(spike(3, 14, 12),))
    assert verdict.label == "watch"
    assert verdict.notes == [
        "1 velocity-spike hour (Nov 3 14:00) holds 12 calls, 60.0% of the calls"
    ]


def test_talk_time_rules_need_thirty_answered_calls():
    # 100 calls, only 20 answered (80% missed): average 60 s < 180 s and RPM $0.50 < $1.00,
    # but talk time is judged on 30 answered calls
    kpis = make_kpis(100, answered=20, conversions=20, talk_seconds=1200, revenue="10")
    verdict = judge(kpis, vertical="insurance", rpm_floor=Decimal("1.00"))
    assert verdict.label == "fix"  # the leak, not the talk time
    assert not any("RPM" in r or "average call" in r for r in verdict.reasons)
    assert verdict.notes == ["talk time not judged: 20 of the 30 answered calls needed"]


def test_call_counts_are_stated_with_thousands_separators():
    # 40 / 2000 = 2%: upper bound well under 15%
    verdict = judge(make_kpis(2000, conversions=40, **LOSING))
    assert verdict.reasons[0].startswith("conversion 2.0% over 2,000 calls (95% CI ")


# --- "short calls: average duration below the vertical's benchmark" ---------------------------


def test_short_average_duration_blocks_scale():
    # 100 answered calls of 100 s < 120 s (other)
    verdict = judge(make_kpis(100, conversions=20, talk_seconds=10_000, **PROFITABLE))
    assert verdict == Verdict(
        "watch",
        [
            "average call 100 s over 100 answered calls is under the 120 s benchmark for other",
            "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is above 15%",
            "returns 100% ROI ($1,000 profit)",
        ],
    )


@pytest.mark.parametrize(
    ("vertical", "benchmark"),
    [("insurance", 180), ("legal", 180), ("home_services", 90), ("other", 120)],
)
def test_each_vertical_has_its_duration_benchmark(vertical, benchmark):
    below = make_kpis(100, conversions=20, talk_seconds=(benchmark - 1) * 100, **PROFITABLE)
    at = make_kpis(100, conversions=20, talk_seconds=benchmark * 100, **PROFITABLE)
    assert judge(below, vertical=vertical).label == "watch"
    assert judge(at, vertical=vertical).label == "scale"


def test_an_unknown_vertical_uses_the_other_benchmark():
    kpis = make_kpis(100, conversions=20, talk_seconds=110 * 100, **PROFITABLE)
    assert judge(kpis, vertical="solar").reasons[0].endswith("benchmark for solar")


# --- "traffic quality ... Traffic-quality signals are publisher reasons; on a campaign they are
# notes" -----------------------------------------------------------------------------------------


def test_repeat_rate_over_20_percent_keeps_a_publisher_from_scale():
    verdict = judge(make_kpis(100, conversions=20, repeat_calls=25, **PROFITABLE))
    assert verdict.label == "watch"
    assert verdict.reasons[0] == "repeat rate 25.0% over 100 calls is above 20%"


def test_repeat_rate_of_exactly_20_percent_is_fine():
    assert judge(make_kpis(100, conversions=20, repeat_calls=20, **PROFITABLE)).label == "scale"


def test_short_call_rate_over_30_percent_keeps_a_publisher_from_scale():
    verdict = judge(make_kpis(100, conversions=20, short_calls=31, **PROFITABLE))
    assert verdict.label == "watch"
    assert verdict.reasons[0] == "short-call rate 31.0% over 100 answered calls is above 30%"


def test_short_call_rate_of_exactly_30_percent_is_fine():
    assert judge(make_kpis(100, conversions=20, short_calls=30, **PROFITABLE)).label == "scale"


def test_spike_hours_holding_10_percent_of_the_calls_are_a_quality_flag():
    spikes = (spike(3, 14, 6), spike(5, 9, 4))  # 10 of 100 calls: exactly 10%
    verdict = judge(make_kpis(100, conversions=20, **PROFITABLE), spikes=spikes)
    assert verdict.label == "watch"
    assert verdict.reasons[0] == (
        "2 velocity-spike hours (Nov 3 14:00, Nov 5 09:00) hold 10 calls, 10.0% of the calls: "
        "at least 10%"
    )


def test_spike_hours_under_10_percent_are_a_note_listing_their_hours():
    verdict = judge(make_kpis(100, conversions=20, **PROFITABLE), spikes=(spike(3, 14, 9),))
    assert verdict.label == "scale"
    assert verdict.notes == [
        "1 velocity-spike hour (Nov 3 14:00) holds 9 calls, 9.0% of the calls: "
        "under 10%, noted only"
    ]


def test_many_spike_hours_list_the_first_six():
    spikes = tuple(spike(day, 10, 1) for day in range(1, 10))
    verdict = judge(make_kpis(100, conversions=20, **PROFITABLE), spikes=spikes)
    assert (
        "(Nov 1 10:00, Nov 2 10:00, Nov 3 10:00, Nov 4 10:00, Nov 5 10:00, Nov 6 10:00 and 3 more)"
        in verdict.notes[0]
    )


def test_quality_signals_on_a_campaign_are_notes():
    verdict = judge(
        make_kpis(100, conversions=20, repeat_calls=25, short_calls=31, **PROFITABLE),
        subject="campaign",
    )
    assert verdict.label == "scale"
    assert verdict.notes == [
        "repeat rate 25.0% over 100 calls is above 20%",
        "short-call rate 31.0% over 100 answered calls is above 30%",
    ]


def test_a_quality_flag_does_not_save_a_losing_weak_publisher_from_cut():
    verdict = judge(make_kpis(100, repeat_calls=30, **LOSING))
    assert verdict.label == "cut"
    assert verdict.reasons == [
        "conversion 0.0% over 100 calls (95% CI 0.0-3.7%) is below 5%",
        "loses money: -90% ROI (-$900 profit)",
        "repeat rate 30.0% over 100 calls is above 20%",
    ]


def test_reasons_use_the_tenants_currency():
    verdict = verdict_for(
        make_kpis(400, conversions=12, revenue="1510", spend="1000"),
        thresholds=DEFAULTS,
        vertical="other",
        rpm_floor=None,
        currency="EUR",
    )
    assert verdict.reasons[1] == "returns 51% ROI (€510 profit): fix the deal before cutting"


# --- thresholds and overrides -----------------------------------------------------------------


def test_default_thresholds_are_the_kpis_md_defaults():
    assert DEFAULTS.strong_conversion_pct == 15
    assert DEFAULTS.weak_conversion_pct == 5
    assert DEFAULTS.weak_ci_upper_pct == 15
    assert DEFAULTS.min_calls == 30
    assert DEFAULTS.missed_leak_pct == 5
    assert DEFAULTS.repeat_rate_pct == 20
    assert DEFAULTS.short_call_rate_pct == 30
    assert DEFAULTS.spike_share_pct == 10
    assert DEFAULTS.roi_floor_pct == 0
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
    verdict = judge(make_kpis(100, conversions=20, **PROFITABLE), thresholds=thresholds)
    assert verdict.label == "watch"
    assert verdict.reasons == [
        "conversion 20.0% over 100 calls (95% CI 13.3-28.9%) is between 5% and 25%",
        "returns 100% ROI ($1,000 profit)",
    ]


def test_an_overridden_threshold_is_exact_at_its_boundary():
    # 7 / 50 = 14% exactly (7 / 50 * 100 would be 14.000000000000002 in floats)
    thresholds = VerdictThresholds.from_overrides({"strong_conversion_pct": 14}, None)
    assert judge(make_kpis(50, conversions=7, **PROFITABLE), thresholds=thresholds).label == (
        "watch"
    )
    assert judge(make_kpis(50, conversions=8, **PROFITABLE), thresholds=thresholds).label == (
        "scale"
    )


def test_overridden_min_calls_changes_what_is_too_few():
    thresholds = VerdictThresholds.from_overrides({"min_calls": 10}, None)
    assert judge(make_kpis(12, conversions=6), thresholds=thresholds).label == "scale"
    assert judge(make_kpis(9, conversions=6), thresholds=thresholds).reasons == [
        "too few calls to judge: 9 of the 10 needed"
    ]


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
        (None, {"roi_floor_pct": -101}, "roi_floor_pct in campaign overrides must be from -100"),
        (None, {"roi_floor_pct": "0"}, "roi_floor_pct in campaign overrides must be a number"),
        ({"spike_share_pct": 101}, None, "spike_share_pct in tenant overrides must be a percent"),
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


def test_threshold_is_the_largest_edge_below_which_calls_hold_at_most_5_percent():
    # KPIS.md: "the largest bucket edge b ... such that answered calls shorter than b hold at
    # most 5% of the answered calls' conversions". 100 conversions: under 30 s 1, under 60 s 2,
    # under 90 s 3 (3%), under 120 s 13 (13% > 5%) -> 90
    buckets = [(200, 1), (100, 1), (100, 1), (100, 10), (100, 20), (100, 30), (50, 37)]
    assert qualifying_threshold_suggestion(buckets) == ThresholdFinding(
        90, 100, "calls under 90 s hold 3.0% of 100 conversions, at most 5%"
    )


def test_exactly_5_percent_below_still_qualifies():
    # 5 of 100 conversions under 30 s and none until 300 s: every edge holds 5% -> 300
    buckets = [(100, 5), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0), (100, 95)]
    assert qualifying_threshold_suggestion(buckets).seconds == 300


def test_over_5_percent_under_30_seconds_suggests_0():
    # "0 s when even calls under 30 s hold more than 5%"
    buckets = [(100, 6), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0), (100, 94)]
    assert qualifying_threshold_suggestion(buckets) == ThresholdFinding(
        0,
        100,
        "even calls under 30 s hold 6.0% of 100 conversions, over 5%: every answered call converts",
    )


def test_the_finder_needs_thirty_conversions():
    # "It needs at least 30 conversions ("not enough conversions to suggest: 12 of 30")"
    buckets = [(100, 0), (100, 0), (100, 2), (100, 4), (100, 6), (0, 0), (0, 0)]
    assert qualifying_threshold_suggestion(buckets) == ThresholdFinding(
        None, 12, "not enough conversions to suggest: 12 of 30"
    )
    buckets[6] = (30, 18)  # 30 conversions: under 60 s 0, under 90 s 2 (6.7% > 5%) -> 60
    assert qualifying_threshold_suggestion(buckets).seconds == 60


def test_calls_that_convert_late_suggest_a_late_threshold():
    # The demo campaign where calls under 90 s convert at 0-0.6%: 1 of 200 conversions under
    # 90 s (0.5%), 9 more in 90-120 (5% in all under 120 s), 30 in 120-180 -> 120
    buckets = [(300, 0), (200, 1), (150, 0), (100, 9), (200, 30), (300, 80), (200, 80)]
    assert qualifying_threshold_suggestion(buckets).seconds == 120


def test_threshold_finder_rejects_the_wrong_number_of_buckets():
    with pytest.raises(ValueError, match="expected 7 duration buckets, got 6"):
        qualifying_threshold_suggestion([(10, 1)] * 6)


def test_threshold_finder_rejects_more_conversions_than_answered():
    with pytest.raises(ValueError, match="duration bucket 2 has 5 conversions for 4 answered"):
        qualifying_threshold_suggestion([(10, 1), (10, 1), (4, 5), (0, 0), (0, 0), (0, 0), (0, 0)])


def test_the_tradeoff_states_conversions_kept_calls_paid_and_payout():
    # KPIS.md: "qualifying at 120 s keeps 96% of conversions and pays for 1,204 fewer calls
    # ($18,060 less payout) than 90 s". 1,000 conversions, 40 under 120 s: 96% kept. At 90 s
    # the campaign pays for 6,000 calls; at 120 s for the 4,796 calls of 120 s and over:
    # 1,204 fewer, at $15.00 a call $18,060.
    buckets = [(2000, 10), (1000, 10), (1000, 10), (1200, 10), (2000, 300), (2000, 400), (796, 260)]
    sentence = threshold_tradeoff(
        buckets,
        suggested_seconds=120,
        current_seconds=90,
        current_qualified=6000,
        payout=Decimal("15.00"),
    )
    assert sentence == (
        "qualifying at 120 s keeps 96% of conversions and pays for 1,204 fewer calls "
        "($18,060 less payout) than 90 s"
    )


def test_a_lower_suggestion_pays_for_more_calls():
    buckets = [(100, 0), (100, 0), (100, 40), (100, 0), (0, 0), (0, 0), (0, 0)]
    # at 60 s the campaign would pay for the 200 calls of 60 s and over
    sentence = threshold_tradeoff(
        buckets,
        suggested_seconds=60,
        current_seconds=90,
        current_qualified=100,  # the 90-120 s calls
        payout=Decimal("10"),
    )
    assert sentence == (
        "qualifying at 60 s keeps 100% of conversions and pays for 100 more calls "
        "($1,000 more payout) than 90 s"
    )


def test_the_threshold_in_force_says_so_and_no_payout_means_no_money():
    buckets = [(100, 0), (100, 0), (100, 1), (100, 39), (0, 0), (0, 0), (0, 0)]
    assert (
        threshold_tradeoff(
            buckets, suggested_seconds=90, current_seconds=90, current_qualified=100, payout=None
        )
        == "the current 90 s threshold keeps 98% of conversions"
    )
    assert (
        threshold_tradeoff(
            buckets,
            suggested_seconds=60,
            current_seconds=90,
            current_qualified=100,
            payout=Decimal("0"),
        )
        == "qualifying at 60 s keeps 100% of conversions and pays for 100 more calls than 90 s"
    )
    # A current threshold off the bucket edges may pay for exactly as many calls.
    assert (
        threshold_tradeoff(
            buckets, suggested_seconds=60, current_seconds=75, current_qualified=200, payout=None
        )
        == "qualifying at 60 s keeps 100% of conversions and pays for as many calls as 75 s"
    )


# --- budget reallocation ----------------------------------------------------------------------


def performance(publisher_id: int, kpis: Kpis, rpm_floor: Decimal | None = None):
    verdict = judge(kpis, rpm_floor=rpm_floor)
    return PublisherPerformance(publisher_id, f"Publisher {publisher_id}", kpis, verdict)


def test_reallocation_spreads_and_spend_freed_by_cuts():
    # 1: 20/100 = 20%, RPM 600 / (20000 s / 60) = 1.80, spend 500 (ROI 20%) -> scale
    star = performance(1, make_kpis(100, conversions=20, revenue="600", spend="500"))
    # 2: 4/200 = 2%, RPM 60 / (40000 s / 60) = 0.09, spend 800 (losing money) -> cut
    dud = performance(2, make_kpis(200, conversions=4, revenue="60", spend="800"))
    # 3: 10/20 = 50% but only 20 calls: not compared; watch
    newcomer = performance(3, make_kpis(20, conversions=10, revenue="500", spend="40"))
    # 4: 10/100 = 10%, RPM 100 / (20000 s / 60) = 0.30 < floor 0.50, losing -> cut, spend 300
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
    assert reallocation.rpm.amount == Decimal("1.71")  # 1.80 - 0.09
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
