"""Scale / watch / fix / cut verdicts and call quality signals of KPIS.md, as pure functions.

No Django, no database: callers read Kpis from the rollups (kpis.selectors), build the
thresholds from the tenant's and campaign's overrides, and pass plain values in.

Verdict precedence (the first rule that applies sets the label; every signal that fired is
still listed in the reasons, the deciding ones first):

1. fewer calls than `min_calls` -> **watch** ("too few to judge"), whatever the rates say
   (velocity spikes, which need no volume, are still listed);
2. weak conversion (significant volume) or RPM under the campaign's floor -> **cut**;
3. a missed-call leak and no other problem -> **fix** (routing, not the publisher; this
   holds even with strong conversion: scaling a leaking campaign burns calls);
4. any watch signal -> **watch**: low conversion whose 95% interval still reaches the weak
   bound (not conclusive), short calls (average duration under the vertical's benchmark),
   repeat rate, short-call rate, velocity spikes. A leak that comes with one of these is
   listed but the verdict is watch, since the leak is then not the only problem;
5. strong conversion -> **scale**;
6. otherwise (conversion between weak and strong) -> **watch**.

Short calls make a verdict watch, never cut: the vertical benchmark is a floor that blocks
scale, but a short average alone says nothing of what buyers pay (the RPM floor does that).
Signals measured over answered calls (average duration, short-call rate) need `min_calls`
answered calls; the others need `min_calls` calls.

Reasons state their numbers the same way everywhere: rates with 1 decimal ("3.1%"), the
95% Wilson interval as "95% CI 1.7-5.3%", money with 2 decimals (half up), seconds as whole
seconds (truncated), thresholds as configured ("15%", "7.5%"), counts with thousands
separators.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .metrics import DURATION_BUCKET_EDGES, Kpis

VerdictLabel = Literal["scale", "watch", "fix", "cut"]

MIN_CALLS = 30  # KPIS.md "significant volume"
SPIKE_MULTIPLIER = 3
SPIKE_MIN_CALLS = 10
SPIKE_HISTORY_DAYS = 7
THRESHOLD_RATIO = 3
THRESHOLD_MIN_ANSWERED = 30

_PERCENT_FIELDS = frozenset(
    {
        "strong_conversion_pct",
        "weak_conversion_pct",
        "weak_ci_upper_pct",
        "missed_leak_pct",
        "repeat_rate_pct",
        "short_call_rate_pct",
    }
)
_BENCHMARK_FIELDS = {
    "insurance": "insurance_benchmark_seconds",
    "legal": "legal_benchmark_seconds",
    "home_services": "home_services_benchmark_seconds",
    "other": "other_benchmark_seconds",
}


def _checked_threshold(key: str, value: Any, source: str) -> float | int:
    """One override value, checked against the field's kind; ValueError names the key."""
    where = f" in {source} overrides" if source else ""
    if key in _PERCENT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"{key}{where} must be a number, got {type(value).__name__}")
        number = float(value)
        if not math.isfinite(number) or not 0 <= number <= 100:
            raise ValueError(f"{key}{where} must be a percentage from 0 to 100, got {value}")
        return number
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key}{where} must be a whole number, got {type(value).__name__}")
    lowest = 1 if key == "min_calls" else 0
    if value < lowest:
        raise ValueError(f"{key}{where} must be at least {lowest}, got {value}")
    return value


@dataclass(frozen=True)
class VerdictThresholds:
    """The configurable rules of KPIS.md "Verdicts" and "Call quality signals".

    Percentages are in % (15.0 means 15%), durations in seconds. Build one per campaign with
    `from_overrides(tenant, campaign)`.
    """

    strong_conversion_pct: float = 15.0  # strong when conversion > this
    weak_conversion_pct: float = 5.0  # weak when conversion < this ...
    weak_ci_upper_pct: float = 15.0  # ... and the 95% Wilson upper bound < this
    min_calls: int = MIN_CALLS  # significant volume, for every rule
    missed_leak_pct: float = 5.0  # leak when missed-call rate > this
    repeat_rate_pct: float = 20.0  # watch when repeat rate > this
    short_call_rate_pct: float = 30.0  # watch when short-call rate > this
    insurance_benchmark_seconds: int = 180  # short calls when average duration < benchmark
    legal_benchmark_seconds: int = 180
    home_services_benchmark_seconds: int = 90
    other_benchmark_seconds: int = 120

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            _checked_threshold(item.name, getattr(self, item.name), "")
        if self.weak_conversion_pct > self.strong_conversion_pct:
            raise ValueError(
                f"weak_conversion_pct ({self.weak_conversion_pct:g}) must not exceed "
                f"strong_conversion_pct ({self.strong_conversion_pct:g})"
            )

    @classmethod
    def from_overrides(
        cls,
        tenant: Mapping[str, Any] | None = None,
        campaign: Mapping[str, Any] | None = None,
    ) -> VerdictThresholds:
        """The defaults, overridden by the tenant's values, then by the campaign's.

        Raises ValueError naming the key on an unknown key or a value of the wrong kind.
        """
        values: dict[str, Any] = {}
        for source, overrides in (("tenant", tenant), ("campaign", campaign)):
            if overrides is not None:
                values.update(cls.checked_overrides(overrides, source))
        return cls(**values)

    @classmethod
    def checked_overrides(cls, overrides: Any, source: str) -> dict[str, Any]:
        """Each override alone: a known name and a value of its kind (ValueError names the
        key). Whether they agree with each other depends on what they override."""
        if not isinstance(overrides, Mapping):
            raise ValueError(
                f"{source} verdict thresholds must be a dict, got {type(overrides).__name__}"
            )
        names = {item.name for item in dataclasses.fields(cls)}
        checked = {}
        for key, value in overrides.items():
            if key not in names:
                raise ValueError(
                    f"unknown verdict threshold {key!r} in {source} overrides "
                    f"(known: {', '.join(sorted(names))})"
                )
            checked[key] = _checked_threshold(key, value, source)
        return checked

    def duration_benchmark(self, vertical: str) -> int:
        """Average-duration benchmark of a vertical, in seconds (unknown verticals: other)."""
        name = _BENCHMARK_FIELDS.get(vertical, _BENCHMARK_FIELDS["other"])
        benchmark: int = getattr(self, name)
        return benchmark


@dataclass(frozen=True)
class Verdict:
    label: VerdictLabel
    reasons: list[str] = field(default_factory=list)


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _limit(value: float) -> str:
    # Thresholds read as written: 15.0 -> "15%", 7.5 -> "7.5%".
    return f"{value:g}%"


def _ci(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return ""
    low, high = interval
    return f" (95% CI {low:.1f}-{high:.1f}%)"


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _calls(count: int, noun: str = "calls") -> str:
    singular = noun.removesuffix("s")
    return f"{count:,} {singular if count == 1 else noun}"


def _spike_reason(spikes: int) -> str:
    hours = "hour" if spikes == 1 else "hours"
    return (
        f"{spikes} {hours} with a velocity spike (over {SPIKE_MULTIPLIER}x the trailing "
        f"{SPIKE_HISTORY_DAYS}-day mean, at least {SPIKE_MIN_CALLS} calls)"
    )


def _too_few_reason(calls: int, needed: int) -> str:
    if calls == 0:
        return f"no calls yet: nothing to judge (needs {needed})"
    return f"only {_calls(calls)}: too few to judge (needs {needed})"


def verdict_for(
    kpis: Kpis,
    *,
    thresholds: VerdictThresholds,
    vertical: str,
    rpm_floor: Decimal | None,
    velocity_spikes: int = 0,
) -> Verdict:
    """The scale / watch / fix / cut verdict of a publisher or campaign (module docstring)."""
    t = thresholds
    if kpis.calls < t.min_calls:
        reasons = [_too_few_reason(kpis.calls, t.min_calls)]
        if velocity_spikes > 0:
            reasons.append(_spike_reason(velocity_spikes))
        return Verdict("watch", reasons)

    cut: list[str] = []
    watch: list[str] = []
    leak: list[str] = []

    conversion = kpis.conversion_rate
    assert conversion is not None  # calls >= min_calls >= 1
    stated = (
        f"conversion {_pct(conversion)} over {_calls(kpis.calls)}{_ci(kpis.conversion_rate_ci)}"
    )
    strong = conversion > t.strong_conversion_pct
    conversion_reason: str | None = None  # stated last when it decides nothing
    if conversion < t.weak_conversion_pct:
        upper = kpis.conversion_rate_ci[1] if kpis.conversion_rate_ci else 100.0
        if upper < t.weak_ci_upper_pct:
            cut.append(f"{stated} is below {_limit(t.weak_conversion_pct)}")
        else:
            watch.append(
                f"{stated} is below {_limit(t.weak_conversion_pct)} but not conclusive: "
                f"the interval reaches {_limit(t.weak_ci_upper_pct)}"
            )
    elif strong:
        conversion_reason = f"{stated} is above {_limit(t.strong_conversion_pct)}"
    else:
        conversion_reason = (
            f"{stated} is between {_limit(t.weak_conversion_pct)} "
            f"and {_limit(t.strong_conversion_pct)}"
        )

    if rpm_floor is not None and kpis.rpm is not None and kpis.rpm < rpm_floor:
        cut.append(
            f"RPM {_money(kpis.rpm)} over {_calls(kpis.calls)} is under "
            f"the {_money(rpm_floor)} floor"
        )

    if kpis.missed_rate is not None and kpis.missed_rate > t.missed_leak_pct:
        leak.append(
            f"missed-call rate {_pct(kpis.missed_rate)} over {_calls(kpis.calls)}"
            f"{_ci(kpis.missed_rate_ci)} is above {_limit(t.missed_leak_pct)}: "
            "a routing problem to fix"
        )

    benchmark = t.duration_benchmark(vertical)
    enough_answered = kpis.answered >= t.min_calls
    average = kpis.average_duration
    if enough_answered and average is not None and average < benchmark:
        # Whole seconds, truncated, so the stated figure is always under the benchmark.
        watch.append(
            f"average call {int(average)} s over {_calls(kpis.answered, 'answered calls')} "
            f"is under the {benchmark} s benchmark for {vertical}"
        )
    if kpis.repeat_rate is not None and kpis.repeat_rate > t.repeat_rate_pct:
        watch.append(
            f"repeat rate {_pct(kpis.repeat_rate)} over {_calls(kpis.calls)} "
            f"is above {_limit(t.repeat_rate_pct)}"
        )
    short_rate = kpis.short_call_rate
    if enough_answered and short_rate is not None and short_rate > t.short_call_rate_pct:
        watch.append(
            f"short-call rate {_pct(short_rate)} over {_calls(kpis.answered, 'answered calls')} "
            f"is above {_limit(t.short_call_rate_pct)}"
        )
    if velocity_spikes > 0:
        watch.append(_spike_reason(velocity_spikes))

    context = [conversion_reason] if conversion_reason else []
    if cut:
        return Verdict("cut", cut + leak + watch + context)
    if leak and not watch:
        return Verdict("fix", leak + context)
    if watch:
        return Verdict("watch", watch + leak + context)
    if strong:
        return Verdict("scale", context)
    return Verdict("watch", context)


@dataclass(frozen=True)
class Spike:
    """An hour in which a publisher sent far more calls than usual at that hour."""

    hour: datetime  # start of the local hour, as given
    calls: int
    trailing_mean: float  # mean calls in the same hour of the previous 7 days


def _wall_clock(hour: datetime) -> datetime:
    if hour.minute or hour.second or hour.microsecond:
        raise ValueError(f"{hour.isoformat()} is not the start of an hour")
    return hour.replace(tzinfo=None, fold=0)


def velocity_spikes(
    hourly_calls: Mapping[datetime, int],
    *,
    history_start: datetime | None = None,
    multiplier: float = SPIKE_MULTIPLIER,
    min_calls: int = SPIKE_MIN_CALLS,
) -> list[Spike]:
    """Hours in which one publisher sent more than 3x its trailing 7-day mean for that hour.

    `hourly_calls` maps the start of each local hour to the publisher's calls in it; hours
    without calls may be left out (they count as 0). The trailing mean of an hour is the mean
    of the same wall-clock hour on each of the 7 previous days, so 10:00 Tuesday is compared
    with 10:00 of the 7 days before. A spike needs at least `min_calls` calls and strictly
    more than `multiplier` x that mean; a publisher silent all week at that hour spikes with
    `min_calls` calls.

    An hour is judged only when its whole trailing week lies inside the data: from
    `history_start` (the start of the window the caller loaded), by default from midnight of
    the earliest hour given. Otherwise the first week of any window would count its history
    as 0 calls and flag every busy hour.

    KPIS.md says "trailing 7-day mean for that hour of the week"; a 7-day window holds each
    hour of the week once, so "that hour" is read as the same hour of the day on each of the
    7 days, which is what a mean over them needs.

    Keys are compared on wall-clock time (time zone dropped), so DST days neither shift the
    "same hour" nor hide it; the repeated hour of a fall-back night is summed for the means.
    """
    if not hourly_calls:
        return []
    by_wall_clock: dict[datetime, int] = {}
    for hour, calls in hourly_calls.items():
        if calls < 0:
            raise ValueError(f"{hour.isoformat()} has a negative call count ({calls})")
        wall = _wall_clock(hour)
        by_wall_clock[wall] = by_wall_clock.get(wall, 0) + calls
    if history_start is None:
        start = min(by_wall_clock).replace(hour=0)
    else:
        start = history_start.replace(tzinfo=None, fold=0)

    spikes: list[Spike] = []
    for hour in sorted(hourly_calls, key=_wall_clock):
        calls = hourly_calls[hour]
        wall = _wall_clock(hour)
        if calls < min_calls or wall - timedelta(days=SPIKE_HISTORY_DAYS) < start:
            continue
        total = sum(
            by_wall_clock.get(wall - timedelta(days=day), 0)
            for day in range(1, SPIKE_HISTORY_DAYS + 1)
        )
        if is_velocity_spike(calls, total, multiplier=multiplier, min_calls=min_calls):
            spikes.append(Spike(hour=hour, calls=calls, trailing_mean=total / SPIKE_HISTORY_DAYS))
    return spikes


def is_velocity_spike(
    calls: int,
    trailing_calls: int,
    *,
    multiplier: float = SPIKE_MULTIPLIER,
    min_calls: int = SPIKE_MIN_CALLS,
) -> bool:
    """Whether `calls` in one hour spike against `trailing_calls`, the publisher's total in
    the same hour of the 7 days before: at least `min_calls`, and strictly more than
    `multiplier` x the trailing mean."""
    # calls > multiplier * trailing_calls / 7, kept in integers where possible.
    return calls >= min_calls and calls * SPIKE_HISTORY_DAYS > multiplier * trailing_calls


def qualifying_threshold_suggestion(
    buckets: Sequence[tuple[int, int]],
    *,
    min_answered: int = THRESHOLD_MIN_ANSWERED,
    ratio: float = THRESHOLD_RATIO,
) -> int | None:
    """The smallest duration (s) past which calls convert at least 3x better than before it.

    `buckets` holds one (answered, conversions) pair per KPIS.md duration bucket, in the
    order of kpis.metrics.DURATION_BUCKET_EDGES (0-30, 30-60, ... 300+). For each edge after
    0, the conversion rate of all answered calls at or over the edge (ratio of sums) is
    compared with that of all calls under it; the first edge where longer >= `ratio` x
    shorter is the suggestion. Both sides need `min_answered` answered calls, so a shorter
    side converting at 0% counts only when it is that large, and the longer side must
    convert at all (0 >= 3 x 0 is no signal). None when no edge qualifies.
    """
    if len(buckets) != len(DURATION_BUCKET_EDGES):
        raise ValueError(
            f"expected {len(DURATION_BUCKET_EDGES)} duration buckets, got {len(buckets)}"
        )
    for index, (answered, conversions) in enumerate(buckets):
        if not 0 <= conversions <= answered:
            raise ValueError(
                f"duration bucket {index} has {conversions} conversions for {answered} answered"
            )
    for index in range(1, len(DURATION_BUCKET_EDGES)):
        short_answered = sum(answered for answered, _ in buckets[:index])
        short_conversions = sum(conversions for _, conversions in buckets[:index])
        long_answered = sum(answered for answered, _ in buckets[index:])
        long_conversions = sum(conversions for _, conversions in buckets[index:])
        if short_answered < min_answered or long_answered < min_answered:
            continue
        # long / long_answered >= ratio * short / short_answered, cross-multiplied.
        if long_conversions > 0 and (
            long_conversions * short_answered >= ratio * short_conversions * long_answered
        ):
            return DURATION_BUCKET_EDGES[index]
    return None


@dataclass(frozen=True)
class PublisherPerformance:
    """One publisher's KPIs and verdict within one campaign."""

    publisher_id: int
    name: str
    kpis: Kpis
    verdict: Verdict


@dataclass(frozen=True)
class ConversionSpread:
    best: PublisherPerformance
    worst: PublisherPerformance
    points: float  # best - worst conversion rate, percentage points


@dataclass(frozen=True)
class RpmSpread:
    best: PublisherPerformance
    worst: PublisherPerformance
    amount: Decimal  # best - worst RPM, money per minute


@dataclass(frozen=True)
class Reallocation:
    """KPIS.md "Budget reallocation" for one campaign."""

    compared: list[PublisherPerformance]  # publishers with at least min_calls calls
    conversion: ConversionSpread | None  # None with fewer than 2 publishers to compare
    rpm: RpmSpread | None  # same, among compared publishers with talk time
    cut: list[PublisherPerformance]
    freed_spend: Decimal  # spend of the publishers whose verdict is cut


def budget_reallocation(
    publishers: Sequence[PublisherPerformance], *, min_calls: int = MIN_CALLS
) -> Reallocation:
    """Best-to-worst spread (conversion rate, RPM) and the spend a cut would free.

    Pass the publishers of one campaign. Only publishers with at least `min_calls` calls are
    compared; ties keep the input order (the first of the best, the last of the worst).
    """
    compared = [p for p in publishers if p.kpis.calls >= min_calls]

    conversion_spread = None
    by_conversion = sorted(
        (p for p in compared if p.kpis.conversion_rate is not None),
        key=lambda p: p.kpis.conversion_rate or 0.0,
        reverse=True,
    )
    if len(by_conversion) >= 2:
        best, worst = by_conversion[0], by_conversion[-1]
        conversion_spread = ConversionSpread(
            best=best,
            worst=worst,
            points=(best.kpis.conversion_rate or 0.0) - (worst.kpis.conversion_rate or 0.0),
        )

    rpm_spread = None
    by_rpm = sorted(
        (p for p in compared if p.kpis.rpm is not None),
        key=lambda p: p.kpis.rpm or Decimal("0"),
        reverse=True,
    )
    if len(by_rpm) >= 2:
        best, worst = by_rpm[0], by_rpm[-1]
        rpm_spread = RpmSpread(
            best=best,
            worst=worst,
            amount=(best.kpis.rpm or Decimal("0")) - (worst.kpis.rpm or Decimal("0")),
        )

    cut = [p for p in publishers if p.verdict.label == "cut"]
    return Reallocation(
        compared=compared,
        conversion=conversion_spread,
        rpm=rpm_spread,
        cut=cut,
        freed_spend=sum((p.kpis.spend for p in cut), Decimal("0")),
    )
