import datetime as dt

import pytest

from routing.business_hours import BusinessHoursError, is_open, validate_business_hours
from routing.phone_numbers import (
    PhoneNumberError,
    caller_to_e164,
    phone_to_e164,
    whole_phone_to_e164,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+13125550100", "+13125550100"),
        ("(312) 555-0100", "+13125550100"),
        ("312.555.0100", "+13125550100"),
        ("1-312-555-0100", "+13125550100"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_to_e164(raw, expected):
    assert phone_to_e164(raw) == expected


@pytest.mark.parametrize("raw", ["not a number", "12", ""])
def test_phone_to_e164_refuses_non_numbers(raw):
    with pytest.raises(PhoneNumberError):
        phone_to_e164(raw)


@pytest.mark.parametrize("raw", ["Anonymous", "RESTRICTED", "", None, "  "])
def test_withheld_caller_is_empty(raw):
    assert caller_to_e164(raw) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(312) 555-0100", "+13125550100"),
        ("1 312 555 0100", "+13125550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("555-0100", None),  # no area code: a fragment of many numbers
        ("0100", None),
        ("caller", None),
    ],
)
def test_whole_phone_to_e164_refuses_fragments(raw, expected):
    assert whole_phone_to_e164(raw) == expected


HOURS = {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]], "sun": []}


def test_business_hours_validate_good_and_bad():
    validate_business_hours(HOURS)
    validate_business_hours({})
    for bad in ({"monday": []}, {"mon": [["17:00", "09:00"]]}, {"mon": [["9am", "5pm"]]}, []):
        with pytest.raises(BusinessHoursError):
            validate_business_hours(bad)


def test_is_open_uses_the_buyers_time_zone():
    # Monday 2026-11-02 14:30 UTC is 09:30 in New York (EST) and 06:30 in Los Angeles.
    at = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)
    assert is_open(HOURS, "America/New_York", at) is True
    assert is_open(HOURS, "America/Los_Angeles", at) is False


def test_is_open_closes_at_the_closing_minute_and_on_absent_days():
    close = dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC)  # 17:00 New York
    assert is_open(HOURS, "America/New_York", close) is False
    tuesday = dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC)
    assert is_open(HOURS, "America/New_York", tuesday) is False


def test_empty_hours_mean_always_open():
    assert is_open({}, "UTC", dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)) is True
