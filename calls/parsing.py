"""Lenient value parsers for call records from JSON and from other platforms' CSV exports.

Each raises ValueError with a message fit to show a user next to the field or column name.
Real exports are messy: "Yes"/"1"/"TRUE", "$1,234.50", epoch milliseconds, "11/03/2026 4:05 PM".
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from decimal import Decimal, InvalidOperation

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "connected", "converted", "answered"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "", "not connected", "none", "null"})
MONEY_LIMIT = Decimal("10000000000")  # 10 integer digits, as the money columns store

# Formats seen in platform exports, tried after ISO 8601 and epoch numbers.
_DATETIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %I:%M %p",
    "%a, %d %b %Y %H:%M:%S %z",  # RFC 2822, Twilio's API and webhooks
    "%a, %d %b %Y %H:%M:%S",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %I:%M %p",
    "%d %b %Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S %z",
    "%m/%d/%Y",
    "%Y-%m-%d",
)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_MONEY_JUNK = re.compile(r"[\s$€£¥]|USD|EUR|GBP|CAD|AUD", re.IGNORECASE)
# Platform suffixes such as Ringba's "... -05:00 (EST)" or Twilio's "... PDT".
_TRAILING_ZONE_NAME = re.compile(r"\s*\(?\b[A-Za-z]{2,5}\)?$")
_ZONE_ABBREVIATIONS: dict[str, dt.tzinfo] = {
    "UTC": dt.UTC,
    "GMT": dt.UTC,
    "Z": dt.UTC,
    **{
        name: dt.timezone(dt.timedelta(hours=hours), name)
        for name, hours in {
            "EST": -5,
            "EDT": -4,
            "CST": -6,
            "CDT": -5,
            "MST": -7,
            "MDT": -6,
            "PST": -8,
            "PDT": -7,
            "AKST": -9,
            "AKDT": -8,
            "HST": -10,
        }.items()
    },
}


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"'{_shortened(value)}' is not a yes/no value (true/false, 1/0, yes/no)")


def parse_money(value: object) -> Decimal:
    """A non-negative amount; accepts currency symbols, codes and thousands separators."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool):
        raise ValueError(f"'{_shortened(value)}' is not an amount")
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = _normalize_separators(_MONEY_JUNK.sub("", str(value)))
        if text.startswith("(") and text.endswith(")"):
            text = "-" + text[1:-1]
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"'{_shortened(value)}' is not an amount") from exc
    if not amount.is_finite():
        raise ValueError(f"'{_shortened(value)}' is not an amount")
    if amount < 0:
        raise ValueError(f"'{_shortened(value)}' is negative; amounts must be 0 or more")
    if amount >= MONEY_LIMIT:
        raise ValueError(f"'{_shortened(value)}' is too large")
    return amount.quantize(Decimal("0.0001"))


def _normalize_separators(text: str) -> str:
    """'1,234.50' and '1.234,50' -> '1234.50'; '12,50' -> '12.50'; '1,234' -> '1234'."""
    if "," not in text:
        return text
    if "." in text:
        # Whichever separator comes last is the decimal point.
        if text.rfind(",") > text.rfind("."):
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    groups = text.split(",")
    if all(len(group) == 3 for group in groups[1:]):
        return text.replace(",", "")
    if len(groups) == 2 and len(groups[1]) in (1, 2):
        return f"{groups[0]}.{groups[1]}"
    return text  # ambiguous: left for Decimal() to refuse


def parse_seconds(value: object) -> int:
    """Whole seconds from 95, "95", "95.4", "1:35" or "00:01:35"."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"'{_shortened(value)}' is not a number of seconds")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float):
        seconds = round(value)
    else:
        text = str(value).strip()
        if ":" in text:
            parts = text.split(":")
            if len(parts) > 3 or not all(p.strip().isdigit() for p in parts):
                raise ValueError(f"'{_shortened(value)}' is not a duration like 95 or 00:01:35")
            seconds = 0
            for part in parts:
                seconds = seconds * 60 + int(part)
        elif _NUMBER.match(text):
            number = float(text)
            if not math.isfinite(number):  # "9" x 400 is a float overflow, not a duration
                raise ValueError(f"'{_shortened(value)}' is too large a number of seconds")
            seconds = round(number)
        else:
            raise ValueError(f"'{_shortened(value)}' is not a number of seconds")
    if seconds < 0:
        raise ValueError(f"'{_shortened(value)}' is negative")
    if seconds > 7 * 24 * 3600:
        raise ValueError(f"'{_shortened(value)}' seconds is longer than a week")
    return seconds


def _shortened(value: object, limit: int = 40) -> str:
    """A value quoted in an error message, cut when it is long (a 400-digit number)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _from_epoch(number: float) -> dt.datetime:
    # Epoch milliseconds are 1000x larger than any plausible epoch seconds (after 2001).
    if number > 1e11:
        number /= 1000.0
    if not 0 < number < 4102444800:  # up to 2100-01-01
        raise ValueError("epoch value out of range")
    return dt.datetime.fromtimestamp(number, tz=dt.UTC)


def parse_datetime(value: object, default_tz: zoneinfo.ZoneInfo | dt.tzinfo) -> dt.datetime:
    """An aware datetime; naive input is read in `default_tz` (the tenant's time zone)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _from_epoch(float(value))
        except (ValueError, OverflowError, OSError) as exc:
            raise ValueError(f"'{_shortened(value)}' is not a date and time") from exc
    else:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise ValueError("a date and time is required")
        parsed = _parse_datetime_text(text)
        if parsed is None:
            raise ValueError(
                f"'{_shortened(value)}' is not a date and time (use ISO 8601 like "
                "2026-11-03T16:05:00Z, epoch seconds or milliseconds)"
            )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    if not 2000 <= parsed.year <= 2100:
        raise ValueError(f"'{_shortened(value)}' is outside the years 2000-2100")
    return parsed


def _parse_datetime_candidate(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _parse_datetime_text(text: str) -> dt.datetime | None:
    if _NUMBER.match(text) and len(text.split(".")[0]) >= 9:
        try:
            return _from_epoch(float(text))
        except (ValueError, OverflowError, OSError):
            return None
    # A trailing zone name (Ringba's "(EST)", Twilio's "PDT", "UTC"): a known one sets the zone
    # of a time that has no offset; an unknown one is dropped (the tenant's zone applies).
    candidates: list[tuple[str, dt.tzinfo | None]] = [(text, None)]
    match = _TRAILING_ZONE_NAME.search(text)
    # AM/PM is half of a 12-hour time, never a zone name to drop.
    if match and match.group(0).strip(" ()").upper() not in {"AM", "PM"}:
        name = match.group(0).strip(" ()").upper()
        candidates.append((text[: match.start()].strip(), _ZONE_ABBREVIATIONS.get(name)))
    for candidate, zone in candidates:
        parsed = _parse_datetime_candidate(candidate)
        if parsed is not None:
            if zone is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zone)
            return parsed
    return None
