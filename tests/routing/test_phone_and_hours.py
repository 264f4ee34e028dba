import datetime as dt

import pytest

from routing.business_hours import BusinessHoursError, is_open, validate_business_hours
from routing.phone_numbers import (
    PhoneNumberError,
    call_number_normalized,
    caller_number_normalized,
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


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("020 7946 0958", "GB", "+442079460958"),
        ("07700 900123", "GB", "+447700900123"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("030 1234567", "DE", "+49301234567"),
        ("+1 312 555 0100", "GB", "+13125550100"),
    ],
)
def test_numbers_without_a_country_code_are_read_in_the_tenants_country(raw, country, expected):
    assert phone_to_e164(raw, country) == expected
    assert call_number_normalized(raw, country) == expected


def test_a_local_number_without_its_area_code_is_not_a_phone_number():
    # phonenumbers calls "712345" a possible *local* number in GB: "+44712345" would be bogus.
    with pytest.raises(PhoneNumberError):
        phone_to_e164("712345", "GB")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("201", "201"), ("712345", "712345"), ("71-23 45", "712345"), ("*97", "*97"), ("12", "12")],
)
def test_a_call_number_that_is_no_phone_number_is_kept_as_dialed_digits(raw, expected):
    assert call_number_normalized(raw, "GB") == expected
    assert caller_number_normalized(raw, "US") == expected


@pytest.mark.parametrize("raw", ["not a number", "sip:201@pbx", "n/a", "1" * 21])
def test_a_call_number_nobody_could_dial_is_refused(raw):
    with pytest.raises(PhoneNumberError):
        call_number_normalized(raw)


@pytest.mark.parametrize("raw", ["Anonymous", "RESTRICTED", "", None, "  "])
def test_withheld_caller_is_empty(raw):
    assert caller_number_normalized(raw) == ""


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
