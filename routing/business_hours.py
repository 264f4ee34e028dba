"""Buyer hours of operation: validation and the pure "is it open now?" question.

Format: weekday name -> list of ["HH:MM", "HH:MM"] ranges in the buyer's own time zone, e.g.
{"mon": [["09:00", "17:00"]], "sat": []}. A weekday that is absent is closed. An empty dict
means open around the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHoursError(ValueError):
    pass


# The same few clock strings are read for every call routed: parse each once.
@functools.lru_cache(maxsize=4096)
def _parse_clock(value: object) -> dt.time:
    if not isinstance(value, str):
        raise BusinessHoursError(f"{value!r} is not a time like '09:00'")
    if value == "24:00":
        return dt.time.max
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise BusinessHoursError(f"'{value}' is not a time like '09:00'") from exc


def validate_business_hours(hours: object) -> None:
    if not isinstance(hours, dict):
        raise BusinessHoursError("business hours must be an object of weekday -> ranges")
    for day, ranges in hours.items():
        if day not in WEEKDAYS:
            raise BusinessHoursError(f"'{day}' is not one of {', '.join(WEEKDAYS)}")
        if not isinstance(ranges, list):
            raise BusinessHoursError(f"{day}: expected a list of [open, close] pairs")
        for pair in ranges:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise BusinessHoursError(f"{day}: {pair!r} is not an [open, close] pair")
            opens, closes = (_parse_clock(v) for v in pair)
            if closes <= opens:
                raise BusinessHoursError(f"{day}: {pair[0]}-{pair[1]} closes before it opens")


def is_open(hours: Mapping, timezone: str, at: dt.datetime) -> bool:
    """Whether a buyer with these hours, in this time zone, takes calls at the aware time `at`."""
    if not hours:
        return True
    return is_open_local(hours, at.astimezone(zoneinfo.ZoneInfo(timezone)))


def is_open_local(hours: Mapping, local: dt.datetime) -> bool:
    """`is_open` for a time already in the buyer's zone (a decision over many buyers converts
    the time once per zone)."""
    if not hours:
        return True
    clock = local.time()
    for opens, closes in hours.get(WEEKDAYS[local.weekday()], ()):
        if _parse_clock(opens) <= clock < _parse_clock(closes) or (
            closes == "24:00" and clock >= _parse_clock(opens)
        ):
            return True
    return False


def next_opening(hours: Mapping, timezone: str, at: dt.datetime) -> dt.datetime | None:
    """The local wall-clock time (naive, in `timezone`) of the next window that opens after
    `at`, within a week; None when the hours never open. For the "why was it skipped" text,
    so a window opening in a DST gap is shown as written ("02:30"), not shifted."""
    if not hours:
        return None
    local = at.astimezone(zoneinfo.ZoneInfo(timezone)).replace(tzinfo=None)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        for opens, _closes in sorted(hours.get(WEEKDAYS[day.weekday()], [])):
            candidate = dt.datetime.combine(day, _parse_clock(opens))
            if candidate > local:
                return candidate
    return None


# A window the weekly grid shows: its open and close times, None where the cell is empty.
GridWindow = tuple[dt.time | None, dt.time | None]


def hours_from_grid(grid: dict[str, list[GridWindow]]) -> dict[str, list[list[str]]]:
    """The stored hours of a weekly grid: every weekday, its filled windows in order; a day
    without any is closed (`[]`). A window that closes at 00:00 closes at midnight ("24:00"),
    the end of its day: a time input cannot say 24:00.

    Raises BusinessHoursError for a window with only one of its two times, naming the day.
    """
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        windows = []
        for number, (opens, closes) in enumerate(grid.get(day, []), start=1):
            if opens is None and closes is None:
                continue
            if opens is None or closes is None:
                raise BusinessHoursError(
                    f"{day}: window {number} needs both an open and a close time"
                )
            close_text = "24:00" if closes == dt.time(0, 0) else closes.strftime("%H:%M")
            windows.append([opens.strftime("%H:%M"), close_text])
        hours[day] = windows
    return hours


def grid_from_hours(hours: dict) -> dict[str, list[tuple[str, str]]]:
    """The weekly grid of stored hours (valid ones): each weekday's windows as ("HH:MM",
    "HH:MM"), midnight's "24:00" shown as "00:00" as a time input holds it."""
    return {
        day: [
            (opens, "00:00" if closes == "24:00" else closes)
            for opens, closes in hours.get(day, [])
        ]
        for day in WEEKDAYS
    }


def hours_summary(hours: dict) -> str:
    """Stored hours in a line a person reads: "Around the clock", or runs of weekdays with the
    same windows, e.g. "Mon-Fri 09:00-12:00, 13:00-17:00 · Sat closed · Sun closed"."""
    if not hours:
        return "Around the clock"
    parts: list[str] = []
    run: list[str] = []

    def text(day: str) -> str:
        windows = hours.get(day) or []
        return ", ".join(f"{opens}-{closes}" for opens, closes in windows) or "closed"

    for day in (*WEEKDAYS, None):
        if run and (day is None or text(day) != text(run[0])):
            days = run[0].title() if len(run) == 1 else f"{run[0].title()}-{run[-1].title()}"
            parts.append(f"{days} {text(run[0])}")
            run = []
        if day is not None:
            run.append(day)
    return " · ".join(parts)


# A buyer's week repeats: past a week and a day (a DST change may shift one day's windows)
# with no window opening, it never opens.
_SEARCH_DAYS = 8


def _offset_changes(
    tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """The instants in (start, end] where the zone's UTC offset changes (DST), to the second.

    At most one per local day, so `start` and `end` a day apart: one bisection.
    """
    if start.astimezone(tz).utcoffset() == end.astimezone(tz).utcoffset():
        return []
    low, high = int(start.timestamp()), int(end.timestamp())
    before = start.astimezone(tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return [dt.datetime.fromtimestamp(high, dt.UTC)]


def next_open_moment(hours: dict, timezone: str, at: dt.datetime) -> dt.datetime | None:
    """The first instant at or after the aware time `at` at which `is_open` holds, in UTC;
    None for hours that never open (every weekday closed).

    DST-safe: a window opening at a wall time the spring change skips opens at the change
    itself (02:30 on a 02:00->03:00 night is open from 03:00); a wall time the autumn change
    repeats opens at its first occurrence, and a window the repeated hour re-enters opens
    again at the change.
    """
    at = at.astimezone(dt.UTC)
    if not hours or is_open(hours, timezone, at):
        return at
    tz = zoneinfo.ZoneInfo(timezone)
    first_day = at.astimezone(tz).date()
    for offset in range(_SEARCH_DAYS):
        day = first_day + dt.timedelta(days=offset)
        day_start = dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
        next_start = dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time.min, tzinfo=tz
        ).astimezone(dt.UTC)
        candidates = _offset_changes(tz, day_start, next_start)
        for opens, _closes in hours.get(WEEKDAYS[day.weekday()], []):
            wall = dt.datetime.combine(day, _parse_clock(opens))
            # Both readings of a wall time: they differ only where DST repeats or skips it.
            for fold in (0, 1):
                candidates.append(wall.replace(tzinfo=tz, fold=fold).astimezone(dt.UTC))
        opening = [c for c in candidates if c >= at and is_open(hours, timezone, c)]
        if opening:
            return min(opening)
    return None
