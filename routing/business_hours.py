"""Buyer hours of operation: validation and the pure "is it open now?" question.

Format: weekday name -> list of ["HH:MM", "HH:MM"] ranges in the buyer's own time zone, e.g.
{"mon": [["09:00", "17:00"]], "sat": []}. A weekday that is absent is closed. An empty dict
means open around the clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHoursError(ValueError):
    pass


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


def is_open(hours: dict, timezone: str, at: dt.datetime) -> bool:
    """Whether a buyer with these hours, in this time zone, takes calls at the aware time `at`."""
    if not hours:
        return True
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    clock = local.time()
    for opens, closes in hours.get(WEEKDAYS[local.weekday()], []):
        if _parse_clock(opens) <= clock < _parse_clock(closes) or (
            closes == "24:00" and clock >= _parse_clock(opens)
        ):
            return True
    return False
