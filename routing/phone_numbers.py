"""Phone number normalization to E.164, the one format numbers are stored and matched in."""

from __future__ import annotations

import re

import phonenumbers

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# What carriers and platforms put in the caller field when the caller withheld the number.
WITHHELD_MARKERS = frozenset(
    {"anonymous", "restricted", "private", "unknown", "unavailable", "withheld", "blocked"}
)


_WHOLE = phonenumbers.ValidationResult.IS_POSSIBLE  # not IS_POSSIBLE_LOCAL_ONLY


class PhoneNumberError(ValueError):
    pass


def phone_to_e164(raw: str, default_region: str = "US") -> str:
    """`raw` as E.164 (`+15551234567`); raises PhoneNumberError when it is not a phone number.

    Numbers without a country code are read in `default_region` (US/Canada by default, where
    pay per call lives). Already-E.164 input takes a fast path: bulk ingest sees millions.
    """
    value = raw.strip()
    if _E164.match(value):
        return value
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneNumberError(f"'{raw}' is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def whole_phone_to_e164(raw: str, default_region: str = "US") -> str | None:
    """`raw` as E.164 when it is a whole number, as phone_to_e164 would store it; else None.

    Whole means with its area code: `(312) 555-0100` is, `555-0100` is not (phone_to_e164
    would store it as +15550100, a number no caller with an area code has). For searches,
    where a fragment means "numbers containing these digits".
    """
    value = raw.strip()
    if _E164.match(value):
        return value
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(parsed) != _WHOLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_to_e164(raw: str | None) -> str:
    """Like phone_to_e164, but a withheld or empty caller number is stored as ''."""
    if raw is None:
        return ""
    value = str(raw).strip()
    if not value or value.lower() in WITHHELD_MARKERS:
        return ""
    return phone_to_e164(value)
