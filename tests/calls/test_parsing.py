import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from calls.parsing import parse_bool, parse_datetime, parse_money, parse_seconds

NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("Y", True),
        (1, True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("", False),
        (None, False),
        (False, False),
    ],
)
def test_parse_bool_accepts_common_spellings(raw, expected):
    assert parse_bool(raw) is expected


def test_parse_bool_refuses_other_words():
    with pytest.raises(ValueError, match="yes/no"):
        parse_bool("maybe")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$1,234.50", Decimal("1234.5")),
        ("12", Decimal("12")),
        ("USD 7.25", Decimal("7.25")),
        ("", Decimal("0")),
        (None, Decimal("0")),
        (3.1, Decimal("3.1")),
        ("€ 1.000,00", Decimal("1000")),
        ("12,50", Decimal("12.5")),
        ("1,234,567", Decimal("1234567")),
        ("1,2,3", None),
    ],
)
def test_parse_money(raw, expected):
    if expected is None:
        with pytest.raises(ValueError):
            parse_money(raw)
    else:
        assert parse_money(raw) == expected


@pytest.mark.parametrize("raw", ["-5", "($5.00)", "abc", "NaN", "1e20", True])
def test_parse_money_refuses_negative_and_junk(raw):
    with pytest.raises(ValueError):
        parse_money(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(95, 95), ("95", 95), ("95.4", 95), ("1:35", 95), ("00:01:35", 95), ("", 0), (None, 0)],
)
def test_parse_seconds(raw, expected):
    assert parse_seconds(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "ninety", "1:xx", 10**9, True])
def test_parse_seconds_refuses(raw):
    with pytest.raises(ValueError):
        parse_seconds(raw)


UTC_1605 = dt.datetime(2026, 11, 3, 16, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-03T16:05:00Z",
        "2026-11-03T11:05:00-05:00",
        "2026-11-03 11:05:00",  # naive: the tenant's zone (New York, EST in November)
        "11/03/2026 11:05 AM",
        "11/03/2026 11:05:00",
        1793721900,  # epoch seconds
        1793721900000,  # epoch milliseconds
        "1793721900",
        "Tue, 03 Nov 2026 16:05:00 +0000",
        "2026-11-03 11:05:00 -05:00 (EST)",
    ],
)
def test_parse_datetime_forms(raw):
    assert parse_datetime(raw, NY) == UTC_1605


@pytest.mark.parametrize("raw", ["2026-11-03 11:05 AM", "2026-11-03 11:05:00 AM"])
def test_parse_datetime_reads_a_12_hour_clock_after_an_iso_date(raw):
    assert parse_datetime(raw, NY) == UTC_1605
    # PM is the afternoon, never a time zone name to drop.
    assert parse_datetime(raw.replace("11:05", "01:05").replace("AM", "PM"), NY) == (
        UTC_1605 + dt.timedelta(hours=2)
    )


def test_parse_datetime_refuses_am_or_pm_it_cannot_read():
    with pytest.raises(ValueError):
        parse_datetime("2026-11-03 13:05 PM", NY)


@pytest.mark.parametrize("raw", ["", "not a date", "13/45/2026", "1999-01-01T00:00:00Z", -5])
def test_parse_datetime_refuses(raw):
    with pytest.raises(ValueError):
        parse_datetime(raw, NY)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-03 16:05:00 UTC",
        "2026-11-03 16:05:00 GMT",
        "2026-11-03 08:05:00 PST",
        "11/03/2026 11:05:00 AM (EST)",
        "2026-11-03 09:05:00 PDT",  # a wrong-season name still means its own offset
    ],
)
def test_parse_datetime_reads_trailing_zone_names(raw):
    assert parse_datetime(raw, NY) == UTC_1605
