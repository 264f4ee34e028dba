"""KPI formulas of KPIS.md as pure functions: no Django, no database, Decimal for money.

Every function takes additive sums (never per-row rates), so a KPI over any group is a ratio of
sums. A KPI whose denominator is empty is None (shown as "-"), never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")
# KPIS.md statuses that count as missed (every status but `answered`).
MISSED_STATUSES = ("missed", "no_buyer", "abandoned", "failed")
# z for a two-sided 95% interval.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class BaseCounts:
    """The additive counts of KPIS.md over one filter (rollup rows sum into this)."""

    calls: int = 0
    answered: int = 0
    qualified: int = 0
    conversions: int = 0
    talk_seconds: int = 0
    revenue: Decimal = ZERO
    call_cost: Decimal = ZERO  # per-call publisher payouts
    ad_spend: Decimal = ZERO
    repeat_calls: int = 0
    short_calls: int = 0
    # Follow-ups: calls that got one, calls recovered through one, the revenue recovered
    # (a part of `revenue`).
    followups: int = 0
    recovered: int = 0
    recovered_revenue: Decimal = ZERO
    missed_by_status: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(MISSED_STATUSES, 0)
    )

    @property
    def missed(self) -> int:
        return self.calls - self.answered

    @property
    def spend(self) -> Decimal:
        return self.call_cost + self.ad_spend

    def __add__(self, other: BaseCounts) -> BaseCounts:
        statuses = dict(self.missed_by_status)
        for status, count in other.missed_by_status.items():
            statuses[status] = statuses.get(status, 0) + count
        return BaseCounts(
            calls=self.calls + other.calls,
            answered=self.answered + other.answered,
            qualified=self.qualified + other.qualified,
            conversions=self.conversions + other.conversions,
            talk_seconds=self.talk_seconds + other.talk_seconds,
            revenue=self.revenue + other.revenue,
            call_cost=self.call_cost + other.call_cost,
            ad_spend=self.ad_spend + other.ad_spend,
            repeat_calls=self.repeat_calls + other.repeat_calls,
            short_calls=self.short_calls + other.short_calls,
            followups=self.followups + other.followups,
            recovered=self.recovered + other.recovered,
            recovered_revenue=self.recovered_revenue + other.recovered_revenue,
            missed_by_status=statuses,
        )


def _percent(numerator: int, denominator: int) -> float | None:
    # Multiply first: 7 / 50 * 100 is 14.000000000000002 but 700 / 50 is exactly 14.0, and
    # verdict thresholds compare these values at their boundaries.
    return None if denominator == 0 else numerator * 100 / denominator


def average_duration(talk_seconds: int, answered: int) -> float | None:
    """Average talk time of answered calls, in seconds."""
    return None if answered == 0 else talk_seconds / answered


def qualified_rate(qualified: int, answered: int) -> float | None:
    """Answered calls at or over the campaign's qualifying seconds, % of answered."""
    return _percent(qualified, answered)


def conversion_rate(conversions: int, calls: int) -> float | None:
    """Conversions, % of calls."""
    return _percent(conversions, calls)


def missed_rate(missed: int, calls: int) -> float | None:
    """Calls not answered (missed, no_buyer, abandoned, failed), % of calls."""
    return _percent(missed, calls)


def repeat_rate(repeat_calls: int, calls: int) -> float | None:
    """Calls from a caller who already called the campaign within its window, % of calls."""
    return _percent(repeat_calls, calls)


def short_call_rate(short_calls: int, answered: int) -> float | None:
    """Answered calls under 20 s, % of answered."""
    return _percent(short_calls, answered)


def recovery_rate(recovered: int, followups: int) -> float | None:
    """Calls recovered through a follow-up, % of the calls that got one."""
    return _percent(recovered, followups)


def cost_per_call(spend: Decimal, calls: int) -> Decimal | None:
    """Spend (payouts + ad spend) per call, money."""
    return None if calls == 0 else spend / calls


def cpa(spend: Decimal, conversions: int) -> Decimal | None:
    """Cost per acquisition: spend per conversion, money."""
    return None if conversions == 0 else spend / conversions


def rpm(revenue: Decimal, talk_seconds: int) -> Decimal | None:
    """Revenue per minute of talk time, money per minute."""
    return None if talk_seconds == 0 else revenue * 60 / talk_seconds


def profit(revenue: Decimal, spend: Decimal) -> Decimal:
    """Revenue minus spend, money (0 when both are empty)."""
    return revenue - spend


def roi(revenue: Decimal, spend: Decimal) -> float | None:
    """(Revenue - spend) / spend, %."""
    return None if spend == 0 else float((revenue - spend) / spend * 100)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, as percentages; None with no trials.

    Unlike the normal approximation it stays inside [0, 100] and is honest for small samples
    and rates near 0, which is where cut decisions are made.
    """
    if not 0 <= successes <= trials:
        raise ValueError(
            f"wilson_interval needs 0 <= successes <= trials, got {successes}/{trials}"
        )
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low * 100, high * 100


@dataclass(frozen=True)
class Kpis:
    """Every KPI of KPIS.md for one set of base counts."""

    calls: int
    answered: int
    missed: int
    qualified: int
    conversions: int
    talk_seconds: int
    revenue: Decimal
    spend: Decimal
    average_duration: float | None
    qualified_rate: float | None
    conversion_rate: float | None
    conversion_rate_ci: tuple[float, float] | None
    cost_per_call: Decimal | None
    cpa: Decimal | None
    missed_rate: float | None
    missed_rate_ci: tuple[float, float] | None
    rpm: Decimal | None
    profit: Decimal
    roi: float | None
    repeat_rate: float | None
    short_call_rate: float | None
    followups: int
    recovered: int
    recovered_revenue: Decimal
    recovery_rate: float | None


def kpis_from_counts(counts: BaseCounts) -> Kpis:
    """Every KPI of one set of base counts (sum the counts first to get a group's KPIs)."""
    return Kpis(
        calls=counts.calls,
        answered=counts.answered,
        missed=counts.missed,
        qualified=counts.qualified,
        conversions=counts.conversions,
        talk_seconds=counts.talk_seconds,
        revenue=counts.revenue,
        spend=counts.spend,
        average_duration=average_duration(counts.talk_seconds, counts.answered),
        qualified_rate=qualified_rate(counts.qualified, counts.answered),
        conversion_rate=conversion_rate(counts.conversions, counts.calls),
        conversion_rate_ci=wilson_interval(counts.conversions, counts.calls),
        cost_per_call=cost_per_call(counts.spend, counts.calls),
        cpa=cpa(counts.spend, counts.conversions),
        missed_rate=missed_rate(counts.missed, counts.calls),
        missed_rate_ci=wilson_interval(counts.missed, counts.calls),
        rpm=rpm(counts.revenue, counts.talk_seconds),
        profit=profit(counts.revenue, counts.spend),
        roi=roi(counts.revenue, counts.spend),
        repeat_rate=repeat_rate(counts.repeat_calls, counts.calls),
        short_call_rate=short_call_rate(counts.short_calls, counts.answered),
        followups=counts.followups,
        recovered=counts.recovered,
        recovered_revenue=counts.recovered_revenue,
        recovery_rate=recovery_rate(counts.recovered, counts.followups),
    )


# KPIS.md duration buckets (seconds): [0, 30), [30, 60), ... [300, inf).
DURATION_BUCKET_EDGES = (0, 30, 60, 90, 120, 180, 300)
SHORT_CALL_SECONDS = 20


def duration_bucket_label(index: int) -> str:
    low = DURATION_BUCKET_EDGES[index]
    if index + 1 < len(DURATION_BUCKET_EDGES):
        return f"{low}-{DURATION_BUCKET_EDGES[index + 1]}"
    return f"{low}+"
