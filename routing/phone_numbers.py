"""Phone numbers as they are stored and matched: E.164, read in the tenant's country.

Two rules, one home. A number we configure (a tracking number, a buyer's line) must be a
full phone number. A number a call reports (its caller, the number it dialed) is E.164 when
it is a full phone number, and otherwise its dialed digits: an extension or a short DID that
a PBX logs is still a call, never a reason to drop one.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import ValidationResult

DEFAULT_COUNTRY = "US"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# What a dialed number may hold besides digits: its formatting, a leading +, and * or #
# (feature codes). Anything else (letters, SIP URIs) is not a number someone dialed.
_DIALABLE = re.compile(r"^\+?[\d\s().*#/-]+$")
_FORMATTING = re.compile(r"[\s().\-/]")
# The longest number the call columns hold (E.164 is at most 16 characters).
MAX_DIALED_LENGTH = 20
# What carriers and platforms put in the caller field when the caller withheld the number.
WITHHELD_MARKERS = frozenset(
    {"anonymous", "restricted", "private", "unknown", "unavailable", "withheld", "blocked"}
)


_WHOLE = phonenumbers.ValidationResult.IS_POSSIBLE  # not IS_POSSIBLE_LOCAL_ONLY


class PhoneNumberError(ValueError):
    pass


def phone_to_e164(raw: str, default_region: str = DEFAULT_COUNTRY) -> str:
    """`raw` as E.164 (`+15551234567`); raises PhoneNumberError when it is not a phone number.

    Numbers without a country code are read in `default_region` (the tenant's country). A
    number that only works inside its area (a local number without its area code, an
    extension) is not a phone number here. Already-E.164 input takes a fast path: bulk ingest
    sees millions.
    """
    value = raw.strip()
    if _E164.match(value):
        return value
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"'{raw}' is not a phone number") from exc
    # IS_POSSIBLE_LOCAL_ONLY would turn a 6-digit local number into a bogus "+44712345".
    if phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        raise PhoneNumberError(f"'{raw}' is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def whole_phone_to_e164(raw: str, default_region: str = DEFAULT_COUNTRY) -> str | None:
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


def call_number_normalized(raw: str, country: str = DEFAULT_COUNTRY) -> str:
    """A number a call reports, as stored: E.164 if it is a phone number in `country`, else
    its dialed digits (an extension "201", a short DID "712345"), formatting dropped.

    Raises PhoneNumberError only for text that nobody could have dialed ("n/a", a SIP URI).
    """
    value = raw.strip()
    if not value:
        return ""
    try:
        return phone_to_e164(value, country)
    except PhoneNumberError:
        pass
    if not _DIALABLE.match(value):
        raise PhoneNumberError(f"'{raw}' is not a phone number")
    digits = _FORMATTING.sub("", value)
    if len(digits) > MAX_DIALED_LENGTH:
        raise PhoneNumberError(f"'{raw}' is longer than {MAX_DIALED_LENGTH} digits")
    return digits


def caller_number_normalized(raw: str | None, country: str = DEFAULT_COUNTRY) -> str:
    """Like call_number_normalized, but a withheld or empty caller number is stored as ''."""
    if raw is None:
        return ""
    value = str(raw).strip()
    if not value or value.lower() in WITHHELD_MARKERS:
        return ""
    return call_number_normalized(value, country)
