"""Scale / watch / fix / cut verdicts and call quality signals of KPIS.md, as pure functions.

No Django, no database: callers read Kpis from the rollups (kpis.selectors), build the
thresholds from the tenant's and campaign's overrides, and pass plain values in.

The signals (KPIS.md v2), each judged only with volume: at least `min_calls` calls for the
rules about calls (conversion, missed rate, profit, traffic quality), at least `min_calls`
answered calls for the rules about talk time (duration benchmark, RPM floor):

- conversion strong: conversion > 15%; weak: < 5% with the 95% Wilson upper bound < 15%
  (a low rate whose interval reaches 15% is "not conclusive", a watch reason);
- missed-call leak: missed-call rate > 5% (a routing problem);
- RPM floor broken: RPM under the campaign's floor, when one is set;
- short calls: average duration under the vertical's benchmark;
- losing money: ROI under the ROI floor (default 0%: profit < 0), with spend > 0;
- traffic quality (publishers only; on a campaign they are notes): repeat rate > 20%,
  short-call rate > 30%, or velocity-spike hours holding at least 10% of the calls.

The verdict:
- **cut**: conversion weak or RPM floor broken, and losing money;
- **fix**: a missed-call leak and nothing that warrants cut ("fix routing"), or conversion
  weak or RPM floor broken while still making money ("fix the deal");
- **scale**: conversion strong, not losing money, no floor broken, no leak, no short calls
  and no traffic-quality flag;
- **watch**: everything else: too few calls, mixed signals, quality flags.

Reasons are the sentences behind the verdict, the deciding ones first, each with its
numbers; notes are facts that did not decide it (spike hours under the 10% share, traffic
quality on a campaign, talk time not judged for want of answered calls). Numbers are written
the same way everywhere: rates with 1 decimal ("3.1%"), the 95% Wilson interval as "95% CI
1.7-5.3%", RPM with 2 decimals and profit in whole units of the tenant's currency, seconds
as whole seconds (truncated), thresholds as configured ("15%", "7.5%"), counts with
thousands separators.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from .formatting import format_money
from .metrics import DURATION_BUCKET_EDGES, Kpis

VerdictLabel = Literal["scale", "watch", "fix", "cut"]

MIN_CALLS = 30  # KPIS.md "significant volume"
SPIKE_MULTIPLIER = 3
SPIKE_MIN_CALLS = 10
SPIKE_HISTORY_DAYS = 7
THRESHOLD_MIN_CONVERSIONS = 30  # KPIS.md: the finder needs 30 conversions
THRESHOLD_MAX_SHARE_BELOW_PCT = 5.0  # share of conversions a threshold may leave unpaid

_PERCENT_FIELDS = frozenset(
    {
        "strong_conversion_pct",
        "weak_conversion_pct",
        "weak_ci_upper_pct",
        "missed_leak_pct",
        "repeat_rate_pct",
        "short_call_rate_pct",
        "spike_share_pct",
    }
)
# ROI runs from -100% up; a floor may be negative (accept a small loss) or far above 100%.
_ROI_FLOOR_RANGE = (-100.0, 10_000.0)
_BENCHMARK_FIELDS = {
    "insurance": "insurance_benchmark_seconds",
    "legal": "legal_benchmark_seconds",
    "home_services": "home_services_benchmark_seconds",
    "other": "other_benchmark_seconds",
}


def _as_float(value: float | int | Decimal) -> float:
    """The number as a float; one too large for a float reads as infinite (then refused)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


# Calls and seconds: far beyond any real threshold, well within every integer column and float.
_WHOLE_THRESHOLD_MAX = 1_000_000_000


def _checked_threshold(key: str, value: Any, source: str) -> float | int:
    """One override value, checked against the field's kind; ValueError names the key."""
    where = f" in {source} overrides" if source else ""
    if key == "roi_floor_pct":
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"{key}{where} must be a number, got {type(value).__name__}")
        number = _as_float(value)
        low, high = _ROI_FLOOR_RANGE
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(f"{key}{where} must be from {low:g} to {high:g} (%), got {value}")
        return number
    if key in _PERCENT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError(f"{key}{where} must be a number, got {type(value).__name__}")
        number = _as_float(value)
        if not math.isfinite(number) or not 0 <= number <= 100:
            raise ValueError(f"{key}{where} must be a percentage from 0 to 100, got {value}")
        return number
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key}{where} must be a whole number, got {type(value).__name__}")
    lowest = 1 if key == "min_calls" else 0
    if value < lowest:
        raise ValueError(f"{key}{where} must be at least {lowest}, got {value}")
    if value > _WHOLE_THRESHOLD_MAX:
        raise ValueError(f"{key}{where} must be at most {_WHOLE_THRESHOLD_MAX:,}")
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
    spike_share_pct: float = 10.0  # flag when velocity-spike hours hold >= this % of calls
    roi_floor_pct: float = 0.0  # losing money when ROI < this (0%: profit < 0)
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
class Spike:
    """An hour in which a publisher sent far more calls than usual at that hour."""

    hour: datetime  # start of the local hour, as given
    calls: int
    trailing_mean: float  # mean calls in the same hour of the previous 7 days


@dataclass(frozen=True)
class Verdict:
    label: VerdictLabel
    reasons: list[str] = field(default_factory=list)  # why this verdict, deciding ones first
    notes: list[str] = field(default_factory=list)  # facts that did not decide it


VerdictSubject = Literal["campaign", "publisher"]


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


def _rpm(value: Decimal, currency: str) -> str:
    return format_money(value, currency)


def _whole_money(value: Decimal, currency: str) -> str:
    return format_money(value, currency, places=0)


def _roi(value: float) -> str:
    # Whole percent ("51%"), but a small loss must not read as "-0%".
    return f"{value:.0f}%" if abs(value) >= 1 else f"{value:.1f}%"


def _calls(count: int, noun: str = "calls") -> str:
    singular = noun.removesuffix("s")
    return f"{count:,} {singular if count == 1 else noun}"


SPIKE_HOURS_LISTED = 6


def _hours(spikes: Sequence[Spike]) -> str:
    """Spike hours in local time: "Nov 3 14:00, Nov 5 09:00" (the first few, then a count)."""
    listed = ", ".join(
        f"{s.hour:%b} {s.hour.day} {s.hour:%H:00}" for s in spikes[:SPIKE_HOURS_LISTED]
    )
    more = len(spikes) - SPIKE_HOURS_LISTED
    return f"{listed} and {more} more" if more > 0 else listed


def _share(part: int, whole: int) -> float:
    return part * 100 / whole if whole else 0.0


def verdict_for(
    kpis: Kpis,
    *,
    thresholds: VerdictThresholds,
    vertical: str,
    rpm_floor: Decimal | None,
    spikes: Sequence[Spike] = (),
    subject: VerdictSubject = "publisher",
    currency: str = "USD",
) -> Verdict:
    """The scale / watch / fix / cut verdict of a publisher or campaign (module docstring).

    `spikes` are the subject's velocity-spike hours in the range (local hours); `subject`
    says whether traffic-quality signals decide ("publisher") or are notes ("campaign").
    """
    t = thresholds
    spike_calls = sum(s.calls for s in spikes)
    spike_text = ""
    if spikes:
        hours, hold = ("hour", "holds") if len(spikes) == 1 else ("hours", "hold")
        spike_text = (
            f"{len(spikes)} velocity-spike {hours} ({_hours(spikes)}) {hold} "
            f"{_calls(spike_calls)}, {_pct(_share(spike_calls, kpis.calls))} of the calls"
        )
    if kpis.calls < t.min_calls:
        notes = [spike_text] if spike_text else []
        return Verdict(
            "watch",
            [f"too few calls to judge: {kpis.calls:,} of the {t.min_calls:,} needed"],
            notes,
        )

    deciding: list[str] = []  # cut or fix reasons
    flags: list[str] = []  # watch reasons: what keeps a source from scale
    context: list[str] = []  # what the verdict stands on besides
    notes: list[str] = []

    # Conversion.
    conversion = kpis.conversion_rate
    assert conversion is not None  # calls >= min_calls >= 1
    stated = (
        f"conversion {_pct(conversion)} over {_calls(kpis.calls)}{_ci(kpis.conversion_rate_ci)}"
    )
    strong = conversion > t.strong_conversion_pct
    weak = False
    if conversion < t.weak_conversion_pct:
        upper = kpis.conversion_rate_ci[1] if kpis.conversion_rate_ci else 100.0
        if upper < t.weak_ci_upper_pct:
            weak = True
            deciding.append(f"{stated} is below {_limit(t.weak_conversion_pct)}")
        else:
            flags.append(
                f"{stated} is below {_limit(t.weak_conversion_pct)} but not conclusive: "
                f"the interval reaches {_limit(t.weak_ci_upper_pct)}"
            )
    elif strong:
        context.append(f"{stated} is above {_limit(t.strong_conversion_pct)}")
    else:
        context.append(
            f"{stated} is between {_limit(t.weak_conversion_pct)} "
            f"and {_limit(t.strong_conversion_pct)}"
        )

    # Talk time: the duration benchmark and the RPM floor need answered volume.
    rpm_broken = short_average = False
    if kpis.answered >= t.min_calls:
        if rpm_floor is not None and kpis.rpm is not None and kpis.rpm < rpm_floor:
            rpm_broken = True
            deciding.append(
                f"RPM {_rpm(kpis.rpm, currency)} over "
                f"{_calls(kpis.answered, 'answered calls')} is under the "
                f"{_rpm(rpm_floor, currency)} floor"
            )
        benchmark = t.duration_benchmark(vertical)
        average = kpis.average_duration
        if average is not None and average < benchmark:
            short_average = True
            # Whole seconds, truncated, so the stated figure is always under the benchmark.
            flags.append(
                f"average call {int(average)} s over {_calls(kpis.answered, 'answered calls')} "
                f"is under the {benchmark} s benchmark for {vertical}"
            )
    else:
        notes.append(
            f"talk time not judged: {kpis.answered:,} of the {t.min_calls:,} answered calls needed"
        )

    # Profit.
    losing = kpis.spend > 0 and kpis.roi is not None and kpis.roi < t.roi_floor_pct
    profit = _whole_money(kpis.profit, currency)
    if kpis.roi is None:
        money_reason = f"no spend recorded ({_whole_money(kpis.revenue, currency)} revenue)"
    elif not losing:
        money_reason = f"returns {_roi(kpis.roi)} ROI ({profit} profit)"
    elif t.roi_floor_pct == 0:
        money_reason = f"loses money: {_roi(kpis.roi)} ROI ({profit} profit)"
    else:
        money_reason = (
            f"{_roi(kpis.roi)} ROI ({profit} profit) is under the "
            f"{_limit(t.roi_floor_pct)} ROI floor"
        )

    # Routing.
    leak = kpis.missed_rate is not None and kpis.missed_rate > t.missed_leak_pct
    leak_reason = (
        f"missed-call rate {_pct(kpis.missed_rate or 0.0)} over {_calls(kpis.calls)}"
        f"{_ci(kpis.missed_rate_ci)} is above {_limit(t.missed_leak_pct)}: "
        "a routing problem to fix"
    )

    # Traffic quality: publisher reasons, campaign notes.
    quality: list[str] = []
    if kpis.repeat_rate is not None and kpis.repeat_rate > t.repeat_rate_pct:
        quality.append(
            f"repeat rate {_pct(kpis.repeat_rate)} over {_calls(kpis.calls)} "
            f"is above {_limit(t.repeat_rate_pct)}"
        )
    short_rate = kpis.short_call_rate
    if short_rate is not None and short_rate > t.short_call_rate_pct:
        quality.append(
            f"short-call rate {_pct(short_rate)} over {_calls(kpis.answered, 'answered calls')} "
            f"is above {_limit(t.short_call_rate_pct)}"
        )
    if spikes:
        if _share(spike_calls, kpis.calls) >= t.spike_share_pct:
            quality.append(f"{spike_text}: at least {_limit(t.spike_share_pct)}")
        else:
            notes.append(f"{spike_text}: under {_limit(t.spike_share_pct)}, noted only")
    if subject == "campaign":
        notes = quality + notes
        quality = []

    leaks = [leak_reason] if leak else []
    others = quality + flags + context
    if (weak or rpm_broken) and losing:
        return Verdict("cut", [*deciding, money_reason, *leaks, *others], notes)
    if weak or rpm_broken:
        deal = f"{money_reason}: fix the deal before cutting"
        return Verdict("fix", [*deciding, deal, *leaks, *others], notes)
    if leak:
        return Verdict("fix", [leak_reason, *others, money_reason], notes)
    if strong and not losing and not short_average and not quality:
        return Verdict("scale", [*context, money_reason], notes)
    if losing:
        return Verdict("watch", [money_reason, *others], notes)
    return Verdict("watch", [*others, money_reason], notes)


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


def _checked_buckets(buckets: Sequence[tuple[int, int]]) -> None:
    if len(buckets) != len(DURATION_BUCKET_EDGES):
        raise ValueError(
            f"expected {len(DURATION_BUCKET_EDGES)} duration buckets, got {len(buckets)}"
        )
    for index, (answered, conversions) in enumerate(buckets):
        if not 0 <= conversions <= answered:
            raise ValueError(
                f"duration bucket {index} has {conversions} conversions for {answered} answered"
            )


@dataclass(frozen=True)
class ThresholdFinding:
    """KPIS.md "Qualifying-threshold finder" for one campaign: the suggested threshold, or
    why there is none."""

    seconds: int | None  # None: not enough conversions
    conversions: int  # of answered calls, over the range
    reason: str  # the suggestion or the reason for none, as a sentence


def qualifying_threshold_suggestion(
    buckets: Sequence[tuple[int, int]],
    *,
    min_conversions: int = THRESHOLD_MIN_CONVERSIONS,
    max_share_below_pct: float = THRESHOLD_MAX_SHARE_BELOW_PCT,
) -> ThresholdFinding:
    """The largest bucket edge b (30, 60, 90, 120, 180 or 300 s) such that answered calls
    shorter than b hold at most 5% of the answered calls' conversions: where calls actually
    convert. 0 s when even the calls under 30 s hold more than 5%.

    `buckets` holds one (answered, conversions) pair per KPIS.md duration bucket, in the
    order of kpis.metrics.DURATION_BUCKET_EDGES (0-30, 30-60, ... 300+). It needs
    `min_conversions` conversions ("not enough conversions to suggest: 12 of 30").
    """
    _checked_buckets(buckets)
    total = sum(conversions for _, conversions in buckets)
    if total < min_conversions:
        return ThresholdFinding(
            None, total, f"not enough conversions to suggest: {total:,} of {min_conversions:,}"
        )
    suggested = 0
    below = 0
    for index in range(1, len(DURATION_BUCKET_EDGES)):
        below += buckets[index - 1][1]
        # below / total <= max share, cross-multiplied to stay exact at the boundary.
        if below * 100 > max_share_below_pct * total:
            break
        suggested = DURATION_BUCKET_EDGES[index]
    if suggested == 0:
        reason = (
            f"even calls under {DURATION_BUCKET_EDGES[1]} s hold "
            f"{_pct(_share(buckets[0][1], total))} of {_calls(total, 'conversions')}, "
            f"over {_limit(max_share_below_pct)}: every answered call converts"
        )
    else:
        index = DURATION_BUCKET_EDGES.index(suggested)
        unpaid = sum(c for _, c in buckets[:index])
        reason = (
            f"calls under {suggested} s hold {_pct(_share(unpaid, total))} of "
            f"{_calls(total, 'conversions')}, at most {_limit(max_share_below_pct)}"
        )
    return ThresholdFinding(suggested, total, reason)


def threshold_tradeoff(
    buckets: Sequence[tuple[int, int]],
    *,
    suggested_seconds: int,
    current_seconds: int,
    current_qualified: int,
    payout: Decimal | None,
    currency: str = "USD",
) -> str:
    """The suggestion weighed against the threshold in force, over the same calls:
    "qualifying at 120 s keeps 96% of conversions and pays for 1,204 fewer calls ($18,060
    less payout) than 90 s".

    `current_qualified` is the answered calls at or over the current threshold (the rollups
    count them by the campaign's threshold, which need not be a bucket edge); the calls a
    suggestion would pay for are those in its bucket and above. `payout` is per qualified
    call; without one the money is left out.
    """
    _checked_buckets(buckets)
    index = DURATION_BUCKET_EDGES.index(suggested_seconds)
    total = sum(c for _, c in buckets)
    kept = sum(c for _, c in buckets[index:])
    qualified = sum(a for a, _ in buckets[index:])
    change = qualified - current_qualified
    keeps = (
        f"keeps {_share(kept, total):.0f}% of conversions" if total else "keeps every conversion"
    )
    if suggested_seconds == current_seconds:
        return f"the current {current_seconds} s threshold {keeps}"
    if change == 0:
        pays = "pays for as many calls as"
    else:
        fewer_or_more = "fewer" if change < 0 else "more"
        noun = "call" if abs(change) == 1 else "calls"
        pays = f"pays for {abs(change):,} {fewer_or_more} {noun}"
        if payout:
            amount = _whole_money(abs(change) * payout, currency)
            pays += f" ({amount} {'less' if change < 0 else 'more'} payout)"
        pays += " than"
    return f"qualifying at {suggested_seconds} s {keeps} and {pays} {current_seconds} s"


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
