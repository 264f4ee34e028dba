"""kpis.metrics against KPIS.md, with hand-computed numbers (no database)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from kpis.metrics import (
    DURATION_BUCKET_EDGES,
    MISSED_STATUSES,
    Z_95,
    BaseCounts,
    average_duration,
    conversion_rate,
    cost_per_call,
    cpa,
    duration_bucket_label,
    kpis_from_counts,
    missed_rate,
    profit,
    qualified_rate,
    repeat_rate,
    roi,
    rpm,
    short_call_rate,
    wilson_interval,
)

# --- one formula at a time ------------------------------------------------------------------


def test_average_duration_is_talk_seconds_per_answered_call():
    # 600 s / 4 answered = 150 s
    assert average_duration(600, 4) == 150.0


def test_average_duration_is_none_without_answered_calls():
    assert average_duration(0, 0) is None


def test_qualified_rate_is_percent_of_answered():
    # 3 qualified / 4 answered x 100 = 75%
    assert qualified_rate(3, 4) == 75.0


def test_qualified_rate_is_none_without_answered_calls():
    assert qualified_rate(0, 0) is None


def test_conversion_rate_is_percent_of_calls():
    # 3 conversions / 40 calls x 100 = 7.5%
    assert conversion_rate(3, 40) == 7.5


def test_conversion_rate_is_none_without_calls():
    assert conversion_rate(0, 0) is None


def test_missed_rate_is_percent_of_calls():
    # 5 missed / 40 calls x 100 = 12.5%
    assert missed_rate(5, 40) == 12.5


def test_missed_rate_is_none_without_calls():
    assert missed_rate(0, 0) is None


def test_repeat_rate_is_percent_of_calls():
    # 6 repeat calls / 40 calls x 100 = 15%
    assert repeat_rate(6, 40) == 15.0


def test_repeat_rate_is_none_without_calls():
    assert repeat_rate(0, 0) is None


def test_short_call_rate_is_percent_of_answered():
    # 2 short / 8 answered x 100 = 25%
    assert short_call_rate(2, 8) == 25.0


def test_short_call_rate_is_none_without_answered_calls():
    assert short_call_rate(0, 0) is None


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent"),
    [(7, 50, 14), (29, 100, 29), (11, 20, 55), (15, 100, 15), (3, 60, 5), (7, 100, 7)],
)
def test_an_exact_percentage_is_exact(numerator, denominator, percent):
    # 7 / 50 * 100 is 14.000000000000002 in floats; a rate exactly at a verdict threshold
    # must compare equal to it (15% is not "> 15%").
    assert conversion_rate(numerator, denominator) == percent
    assert missed_rate(numerator, denominator) == percent


def test_cost_per_call_is_spend_per_call_in_decimal():
    # 100.00 / 40 calls = 2.50
    value = cost_per_call(Decimal("100.00"), 40)
    assert value == Decimal("2.5")
    assert isinstance(value, Decimal)


def test_cost_per_call_is_none_without_calls():
    assert cost_per_call(Decimal("50"), 0) is None


def test_cpa_is_spend_per_conversion_in_decimal():
    # 100.00 / 4 conversions = 25.00
    value = cpa(Decimal("100.00"), 4)
    assert value == Decimal("25")
    assert isinstance(value, Decimal)


def test_cpa_is_none_without_conversions():
    assert cpa(Decimal("100.00"), 0) is None


def test_rpm_is_revenue_per_talk_minute_in_decimal():
    # 90.00 revenue / (1800 s / 60 = 30 min) = 3.00 per minute
    value = rpm(Decimal("90.00"), 1800)
    assert value == Decimal("3")
    assert isinstance(value, Decimal)


def test_rpm_keeps_fractional_minutes():
    # 10.00 / (90 s / 60 = 1.5 min) = 6.666... per minute
    assert rpm(Decimal("10.00"), 90) == Decimal("10.00") * 60 / 90
    assert rpm(Decimal("10.00"), 90).quantize(Decimal("0.01")) == Decimal("6.67")


def test_rpm_is_none_without_talk_time():
    assert rpm(Decimal("90.00"), 0) is None


def test_profit_is_revenue_minus_spend():
    # 90.00 - 100.00 = -10.00
    assert profit(Decimal("90.00"), Decimal("100.00")) == Decimal("-10.00")


def test_profit_is_zero_with_nothing():
    value = profit(Decimal("0"), Decimal("0"))
    assert value == 0
    assert isinstance(value, Decimal)


def test_roi_is_profit_over_spend_in_percent():
    # (150 - 100) / 100 x 100 = 50%;  (75 - 100) / 100 x 100 = -25%
    assert roi(Decimal("150"), Decimal("100")) == 50.0
    assert roi(Decimal("75"), Decimal("100")) == -25.0


def test_roi_is_none_without_spend():
    assert roi(Decimal("150"), Decimal("0")) is None


# --- Wilson score interval ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score
        # interval without continuity correction), as proportions to 4 places.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_table_one(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert interval is not None
    # The published values are proportions rounded to 4 places = percentages to 2 places.
    assert round(interval[0], 2) == pytest.approx(low * 100)
    assert round(interval[1], 2) == pytest.approx(high * 100)


def test_wilson_upper_bound_with_no_successes_is_z_squared_over_n_plus_z_squared():
    # With p = 0 the interval is [0, z^2 / (n + z^2)]:
    # 1.95996^2 = 3.84146;  3.84146 / (30 + 3.84146) = 0.113513 -> 11.35%
    low, high = wilson_interval(0, 30)
    assert low == 0.0
    assert high == pytest.approx(Z_95**2 / (30 + Z_95**2) * 100)
    assert high == pytest.approx(11.3513, abs=1e-4)


def test_wilson_interval_by_hand_for_one_in_five():
    # p = 0.2, n = 5, z^2 = 3.84146
    # centre = (0.2 + 3.84146/10) / (1 + 3.84146/5) = 0.584146 / 1.768292 = 0.330344
    # half = 1.95996 x sqrt(0.2 x 0.8 / 5 + 3.84146 / 100) / 1.768292
    #      = 1.95996 x sqrt(0.032 + 0.0384146) / 1.768292 = 1.95996 x 0.265357 / 1.768292
    #      = 0.294120
    # -> [3.6224%, 62.4464%]
    low, high = wilson_interval(1, 5)
    assert low == pytest.approx(3.6224, abs=1e-3)
    assert high == pytest.approx(62.4464, abs=1e-3)


def test_wilson_interval_is_symmetric_between_successes_and_failures():
    # The interval of 3/20 mirrors that of 17/20 around 50%.
    low, high = wilson_interval(3, 20)
    mirrored_low, mirrored_high = wilson_interval(17, 20)
    assert low == pytest.approx(100 - mirrored_high)
    assert high == pytest.approx(100 - mirrored_low)


def test_wilson_interval_with_every_trial_a_success_ends_at_100():
    low, high = wilson_interval(20, 20)
    assert high == 100.0
    # 1 - 0.1611 from the 0/20 case
    assert round(low, 2) == pytest.approx(83.89)


def test_wilson_interval_contains_the_rate_and_stays_in_0_100():
    for successes, trials in [(1, 1), (1, 2), (5, 100), (99, 100), (412, 413)]:
        low, high = wilson_interval(successes, trials)
        assert 0 <= low <= successes * 100 / trials <= high <= 100


def test_wilson_interval_is_none_without_trials():
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(("successes", "trials"), [(5, 4), (-1, 10), (0, -1)])
def test_wilson_interval_rejects_impossible_counts(successes, trials):
    with pytest.raises(ValueError, match="0 <= successes <= trials"):
        wilson_interval(successes, trials)


# --- BaseCounts and kpis_from_counts --------------------------------------------------------

A = BaseCounts(
    calls=40,
    answered=32,
    qualified=24,
    conversions=4,
    talk_seconds=4800,
    revenue=Decimal("240.00"),
    call_cost=Decimal("80.00"),
    ad_spend=Decimal("20.00"),
    repeat_calls=6,
    short_calls=8,
    missed_by_status={"missed": 5, "no_buyer": 2, "abandoned": 1, "failed": 0},
)


def test_base_counts_missed_is_calls_minus_answered():
    # 40 - 32 = 8 (= 5 missed + 2 no_buyer + 1 abandoned)
    assert A.missed == 8
    assert sum(A.missed_by_status.values()) == A.missed


def test_base_counts_spend_is_call_cost_plus_ad_spend():
    # 80.00 + 20.00 = 100.00
    assert A.spend == Decimal("100.00")


def test_empty_base_counts_have_every_missed_status_at_zero():
    assert BaseCounts().missed_by_status == dict.fromkeys(MISSED_STATUSES, 0)


def test_kpis_from_counts_by_hand():
    k = kpis_from_counts(A)
    assert (k.calls, k.answered, k.missed, k.qualified, k.conversions) == (40, 32, 8, 24, 4)
    assert k.revenue == Decimal("240.00")
    assert k.spend == Decimal("100.00")
    assert k.average_duration == 150.0  # 4800 s / 32 answered
    assert k.qualified_rate == 75.0  # 24 / 32
    assert k.conversion_rate == 10.0  # 4 / 40
    assert k.conversion_rate_ci == wilson_interval(4, 40)
    assert k.missed_rate == 20.0  # 8 / 40
    assert k.missed_rate_ci == wilson_interval(8, 40)
    assert k.cost_per_call == Decimal("2.5")  # 100.00 / 40
    assert k.cpa == Decimal("25")  # 100.00 / 4
    assert k.rpm == Decimal("3")  # 240.00 / (4800 s / 60 = 80 min)
    assert k.profit == Decimal("140.00")  # 240.00 - 100.00
    assert k.roi == 140.0  # 140 / 100 x 100
    assert k.repeat_rate == 15.0  # 6 / 40
    assert k.short_call_rate == 25.0  # 8 / 32


def test_money_kpis_are_decimal_never_float():
    k = kpis_from_counts(A)
    for value in (k.revenue, k.spend, k.cost_per_call, k.cpa, k.rpm, k.profit):
        assert isinstance(value, Decimal)


def test_kpis_of_nothing_are_none_except_profit_zero():
    k = kpis_from_counts(BaseCounts())
    for name in (
        "average_duration",
        "qualified_rate",
        "conversion_rate",
        "conversion_rate_ci",
        "cost_per_call",
        "cpa",
        "missed_rate",
        "missed_rate_ci",
        "rpm",
        "roi",
        "repeat_rate",
        "short_call_rate",
    ):
        assert getattr(k, name) is None, name
    assert k.profit == Decimal("0")
    assert isinstance(k.profit, Decimal)


def test_ad_spend_without_calls_gives_cost_kpis_none_and_negative_profit():
    k = kpis_from_counts(BaseCounts(ad_spend=Decimal("50.00")))
    assert k.cost_per_call is None
    assert k.cpa is None
    assert k.roi == -100.0  # (0 - 50) / 50 x 100
    assert k.profit == Decimal("-50.00")


def test_adding_base_counts_sums_every_count():
    total = A + A
    assert total.calls == 80
    assert total.talk_seconds == 9600
    assert total.revenue == Decimal("480.00")
    assert total.spend == Decimal("200.00")
    assert total.missed_by_status == {"missed": 10, "no_buyer": 4, "abandoned": 2, "failed": 0}


def test_group_rates_are_ratios_of_sums_not_averages_of_rates():
    small = BaseCounts(calls=4, answered=4, conversions=1, talk_seconds=120, revenue=Decimal("6"))
    large = BaseCounts(
        calls=100, answered=50, conversions=1, talk_seconds=6000, revenue=Decimal("20")
    )
    # conversion: 1/4 = 25% and 1/100 = 1% average to 13%, but the group converts
    # (1 + 1) / (4 + 100) = 2/104 = 1.923%
    group = kpis_from_counts(small + large)
    assert group.conversion_rate == pytest.approx(200 / 104)
    assert group.conversion_rate != pytest.approx(13.0)
    # missed: 0/4 and 50/100 -> 50 / 104 = 48.08% (not 25%)
    assert group.missed_rate == pytest.approx(5000 / 104)
    # average duration: (120 + 6000) / (4 + 50) = 113.33 s (not (30 + 120) / 2 = 75)
    assert group.average_duration == pytest.approx(6120 / 54)
    # RPM: (6 + 20) / (6120 s / 60 = 102 min) = 0.2549 (not (3 + 0.2) / 2 = 1.6)
    assert group.rpm == Decimal("26") * 60 / 6120
    # the interval is of the summed counts too
    assert group.conversion_rate_ci == wilson_interval(2, 104)


def test_group_kpis_equal_kpis_of_summed_counts_in_any_order():
    small = BaseCounts(calls=3, answered=2, conversions=1, revenue=Decimal("1.10"))
    assert kpis_from_counts(small + A) == kpis_from_counts(A + small)


# --- duration buckets -----------------------------------------------------------------------


def test_duration_bucket_edges_are_the_kpis_md_buckets():
    # 0-30, 30-60, 60-90, 90-120, 120-180, 180-300, 300+ s
    labels = [duration_bucket_label(i) for i in range(len(DURATION_BUCKET_EDGES))]
    assert labels == ["0-30", "30-60", "60-90", "90-120", "120-180", "180-300", "300+"]


def test_duration_bucket_edges_are_increasing_and_start_at_zero():
    assert DURATION_BUCKET_EDGES[0] == 0
    assert all(a < b for a, b in itertools.pairwise(DURATION_BUCKET_EDGES))
