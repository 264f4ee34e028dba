"""Alert rules as pure functions: the kinds, their thresholds, and when each one fires.

No Django, no database: kpis selectors read the counts from the rollups, and these functions
say whether a subject (a campaign, a publisher within a campaign, or the whole tenant) is in
alert, with the numbers and the threshold that explain it.

"The last 60 minutes" is read from the hourly rollups (local day and hour), never from the
calls: the current hour's row counts whole (all of it lies in the window, it is the hour so
far), the hours before it count whole while they fit, and the oldest hour touched counts for
the share of it inside the window. At 19:40 the last 60 minutes are hour 19 (40 minutes so
far) and 20/60 of hour 18: a sliding-window estimate that assumes the calls of that older hour
were spread evenly over it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kpis.formatting import format_money

MISSED_CALL_RATE = "missed_call_rate"
NO_ANSWER = "no_answer"
RPM_BELOW_FLOOR = "rpm_below_floor"
PUBLISHER_VERDICT = "publisher_verdict"
VELOCITY_SPIKE = "velocity_spike"
KPIS_STALE = "kpis_stale"

KIND_LABELS: dict[str, str] = {
    MISSED_CALL_RATE: "Missed-call rate",
    NO_ANSWER: "No answered call",
    RPM_BELOW_FLOOR: "RPM below the floor",
    PUBLISHER_VERDICT: "Publisher verdict",
    VELOCITY_SPIKE: "Velocity spike",
    KPIS_STALE: "KPIs stale",
}
KINDS = tuple(KIND_LABELS)
# Kinds judged for the tenant as a whole: a campaign cannot override them.
TENANT_ONLY_KINDS = frozenset({KPIS_STALE})
VERDICT_LABELS = ("scale", "watch", "fix", "cut")


@dataclass(frozen=True)
class ThresholdField:
    key: str
    label: str
    default: Any
    low: float
    high: float
    whole: bool = True  # a whole number; else any number in [low, high]
    help: str = ""


THRESHOLD_FIELDS: dict[str, tuple[ThresholdField, ...]] = {
    MISSED_CALL_RATE: (
        ThresholdField("rate_pct", "Missed-call rate above (%)", 5.0, 0, 100, whole=False),
        ThresholdField(
            "min_calls", "With at least (calls)", 20, 1, 100_000, help="Fewer calls never fire."
        ),
        ThresholdField("window_minutes", "Over the last (minutes)", 60, 5, 1440),
    ),
    NO_ANSWER: (
        ThresholdField("minutes", "No answered call for (minutes)", 60, 15, 1440),
        ThresholdField(
            "min_calls",
            "While at least (calls) came in",
            3,
            1,
            100_000,
            help="An hour without traffic is no alert.",
        ),
    ),
    RPM_BELOW_FLOOR: (
        ThresholdField("window_hours", "Over the last (hours)", 24, 1, 168),
        ThresholdField("min_answered", "With at least (answered calls)", 30, 1, 100_000),
    ),
    PUBLISHER_VERDICT: (ThresholdField("days", "Verdict over the last (days)", 30, 1, 90),),
    VELOCITY_SPIKE: (
        ThresholdField(
            "hours",
            "Spike within the last (hours)",
            2,
            1,
            48,
            help="1: the current hour only; 2: it and the hour before.",
        ),
    ),
    KPIS_STALE: (ThresholdField("minutes", "KPIs behind by more than (minutes)", 5, 1, 1440),),
}
# The verdicts that open a publisher_verdict incident ("verdicts" in its thresholds).
DEFAULT_ALERT_VERDICTS = ("cut", "fix")


def thresholds_default(kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {field.key: field.default for field in THRESHOLD_FIELDS[kind]}
    if kind == PUBLISHER_VERDICT:
        values["verdicts"] = list(DEFAULT_ALERT_VERDICTS)
    return values


def _checked_value(field: ThresholdField, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{field.key} must be a number, got {type(value).__name__}")
    if field.whole and (isinstance(value, float | Decimal) and value != int(value)):
        raise ValueError(f"{field.key} must be a whole number, got {value}")
    number = float(value)
    if not math.isfinite(number) or not field.low <= number <= field.high:
        raise ValueError(f"{field.key} must be from {field.low:g} to {field.high:g}, got {value}")
    return int(number) if field.whole else number


def thresholds_checked(kind: str, overrides: object) -> dict[str, Any]:
    """The overrides of a rule of `kind`, each checked; ValueError names the first bad key.

    Only the kind's own keys are allowed; an empty mapping keeps every default.
    """
    if kind not in THRESHOLD_FIELDS:
        raise ValueError(f"{kind!r} is not an alert kind ({', '.join(KINDS)})")
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise ValueError("thresholds must be an object of numbers")
    fields = {field.key: field for field in THRESHOLD_FIELDS[kind]}
    checked: dict[str, Any] = {}
    for key, value in overrides.items():
        if kind == PUBLISHER_VERDICT and key == "verdicts":
            checked[key] = _checked_verdicts(value)
        elif key in fields:
            checked[key] = _checked_value(fields[key], value)
        else:
            allowed = [*fields, *(["verdicts"] if kind == PUBLISHER_VERDICT else [])]
            raise ValueError(f"{key!r} is no threshold of {kind} (allowed: {', '.join(allowed)})")
    return checked


def _checked_verdicts(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueError("verdicts must be a non-empty list of scale, watch, fix, cut")
    wrong = [v for v in value if v not in VERDICT_LABELS]
    if wrong:
        raise ValueError(f"verdicts: {wrong[0]!r} is not one of scale, watch, fix, cut")
    return [label for label in VERDICT_LABELS if label in value]


def thresholds_in_force(
    kind: str, tenant_overrides: object, campaign_overrides: object = None
) -> dict[str, Any]:
    """Defaults, then the tenant rule's overrides, then the campaign rule's: what is judged."""
    return {
        **thresholds_default(kind),
        **thresholds_checked(kind, tenant_overrides),
        **thresholds_checked(kind, campaign_overrides),
    }


# --- Time windows over hourly rollups -----------------------------------------------------


@dataclass(frozen=True)
class HourShare:
    day: dt.date  # local
    hour: int  # local, 0-23
    weight: float  # the share of the hour's calls counted in the window (0-1]


def window_hours(now: dt.datetime, tz: dt.tzinfo, minutes: int) -> list[HourShare]:
    """The local hourly rollup rows covering the `minutes` before `now`, newest first, each
    with the share of it inside the window (module docstring).

    Hours are stepped back in UTC and read on the local clock, so a DST change is handled: the
    hour a fall-back repeats is one rollup row and is counted once (its larger share).
    """
    local = now.astimezone(tz)
    elapsed = local.minute + (local.second + local.microsecond / 1e6) / 60
    hour_start_utc = (local - dt.timedelta(minutes=elapsed)).astimezone(dt.UTC)
    shares: dict[tuple[dt.date, int], float] = {}

    def add(hours_back: int, weight: float) -> None:
        local_hour = (hour_start_utc - dt.timedelta(hours=hours_back)).astimezone(tz)
        key = (local_hour.date(), local_hour.hour)
        shares[key] = max(shares.get(key, 0.0), weight)

    remaining = float(minutes)
    if elapsed > 0:  # at hh:00:00 the current hour holds nothing yet
        add(0, min(1.0, remaining / elapsed))
        remaining -= elapsed
    hours_back = 1
    while remaining > 1e-9:
        add(hours_back, min(remaining, 60.0) / 60)
        remaining -= 60
        hours_back += 1
    return [HourShare(day, hour, weight) for (day, hour), weight in shares.items()]


@dataclass(frozen=True)
class WindowCounts:
    """Counts over a window, each hour's row weighted by its share (so possibly fractional)."""

    calls: float = 0.0
    answered: float = 0.0
    revenue: Decimal = Decimal(0)
    talk_seconds: float = 0.0

    @property
    def missed(self) -> float:
        return self.calls - self.answered


def window_counts(
    shares: Sequence[HourShare], rows: Mapping[tuple[dt.date, int], WindowCounts]
) -> WindowCounts:
    """The hourly rows of a window summed, each by its share."""
    total = WindowCounts()
    for share in shares:
        row = rows.get((share.day, share.hour))
        if row is None:
            continue
        total = WindowCounts(
            calls=total.calls + row.calls * share.weight,
            answered=total.answered + row.answered * share.weight,
            revenue=total.revenue + row.revenue * Decimal(str(share.weight)),
            talk_seconds=total.talk_seconds + row.talk_seconds * share.weight,
        )
    return total


# --- When each kind fires -----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A subject in alert: one line for people, and the numbers behind it (with the threshold)."""

    summary: str
    values: dict[str, Any]


def _one(value: float) -> float:
    return round(value, 1)


def _calls_text(value: float) -> str:
    rounded = _one(value)
    text = f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"
    return f"{text} call" if rounded == 1 else f"{text} calls"


def missed_call_rate_finding(
    subject: str, counts: WindowCounts, thresholds: Mapping[str, Any]
) -> Finding | None:
    """Missed-call rate over the window above `rate_pct`, with at least `min_calls` calls."""
    if counts.calls < thresholds["min_calls"] or counts.calls <= 0:
        return None
    rate = counts.missed * 100 / counts.calls
    if rate <= thresholds["rate_pct"]:
        return None
    minutes = thresholds["window_minutes"]
    return Finding(
        summary=(
            f"{subject}: {rate:.1f}% of {_calls_text(counts.calls)} missed in the last "
            f"{minutes} min (alert above {thresholds['rate_pct']:g}%)"
        ),
        values={
            "calls": _one(counts.calls),
            "missed": _one(counts.missed),
            "missed_rate_pct": _one(rate),
            "threshold_pct": thresholds["rate_pct"],
            "min_calls": thresholds["min_calls"],
            "window_minutes": minutes,
        },
    )


def no_answer_finding(
    subject: str, calls: int, answered: int, thresholds: Mapping[str, Any]
) -> Finding | None:
    """No answered call among at least `min_calls` calls in the hours the last `minutes` touch.

    The counts are whole hourly rows (not shares): an answer anywhere in an hour the window
    touches counts, so the rule can only be late, never fire on an answered call.
    """
    if answered > 0 or calls < thresholds["min_calls"]:
        return None
    minutes = thresholds["minutes"]
    return Finding(
        summary=f"{subject}: none of {_calls_text(calls)} answered in the last {minutes} min",
        values={
            "calls": calls,
            "answered": 0,
            "minutes": minutes,
            "min_calls": thresholds["min_calls"],
        },
    )


def rpm_below_floor_finding(
    subject: str,
    counts: WindowCounts,
    floor: Decimal | None,
    thresholds: Mapping[str, Any],
    currency: str = "USD",
) -> Finding | None:
    """RPM (revenue per talk minute) over the window under the campaign's floor, with at least
    `min_answered` answered calls. No floor, no alert."""
    if floor is None or counts.answered < thresholds["min_answered"] or counts.talk_seconds <= 0:
        return None
    rpm = counts.revenue * 60 / Decimal(str(counts.talk_seconds))
    if rpm >= floor:
        return None
    hours = thresholds["window_hours"]
    return Finding(
        summary=(
            f"{subject}: RPM {format_money(rpm, currency)} over the last {hours} h is under "
            f"the {format_money(floor, currency)} floor ({_calls_text(counts.answered)} answered)"
        ),
        values={
            "rpm": f"{rpm:.2f}",
            "rpm_floor": f"{floor:.2f}",
            "answered": _one(counts.answered),
            "revenue": f"{counts.revenue:.2f}",
            "talk_minutes": _one(counts.talk_seconds / 60),
            "window_hours": hours,
            "min_answered": thresholds["min_answered"],
        },
    )


def publisher_verdict_finding(
    subject: str, verdict: str, reasons: Sequence[str], thresholds: Mapping[str, Any]
) -> Finding | None:
    """The publisher's verdict (in a campaign, over the last `days`) is one of `verdicts`."""
    if verdict not in thresholds["verdicts"]:
        return None
    because = f": {reasons[0]}" if reasons else ""
    return Finding(
        summary=f"{subject} is now '{verdict}' over the last {thresholds['days']} days{because}",
        values={
            "verdict": verdict,
            "reasons": list(reasons),
            "alert_verdicts": list(thresholds["verdicts"]),
            "days": thresholds["days"],
        },
    )


@dataclass(frozen=True)
class SpikeHour:
    day: dt.date
    hour: int
    calls: int
    trailing_calls: int  # the same hour of the 7 days before, summed


def velocity_spike_finding(
    subject: str, spikes: Sequence[SpikeHour], thresholds: Mapping[str, Any]
) -> Finding | None:
    """A velocity-spike hour (kpis.spikes) within the last `hours` local hours: the biggest."""
    if not spikes:
        return None
    spike = max(spikes, key=lambda s: (s.calls, s.day, s.hour))
    mean = spike.trailing_calls / 7
    return Finding(
        summary=(
            f"{subject}: {spike.calls:,} calls at {spike.day:%Y-%m-%d} {spike.hour:02d}:00, "
            f"over 3x the usual {mean:.1f} for that hour"
        ),
        values={
            "day": spike.day.isoformat(),
            "hour": spike.hour,
            "calls": spike.calls,
            "trailing_mean": _one(mean),
            "multiplier": 3,
            "hours": thresholds["hours"],
        },
    )


def kpis_stale_finding(
    subject: str, behind: dt.timedelta, pending_days: int, thresholds: Mapping[str, Any]
) -> Finding | None:
    """The KPIs are more than `minutes` behind the writes (rollup refreshes are not running)."""
    minutes = thresholds["minutes"]
    if behind <= dt.timedelta(minutes=minutes):
        return None
    behind_minutes = int(behind.total_seconds() // 60)
    days = "1 day" if pending_days == 1 else f"{pending_days:,} days"
    return Finding(
        summary=(
            f"{subject}: KPIs are {behind_minutes} min behind the calls ({days} waiting for "
            f"recomputation; alert after {minutes} min): is the worker down?"
        ),
        values={
            "behind_minutes": behind_minutes,
            "pending_days": pending_days,
            "threshold_minutes": minutes,
        },
    )


def values_display(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An incident's or a rule's numbers as (name, text) pairs for a page: lists joined."""
    return [
        (key, ", ".join(str(item) for item in value) if isinstance(value, list) else str(value))
        for key, value in values.items()
    ]
