"""CSV cells that spreadsheets read as data, never as formulas (this module imports no app)."""

from __future__ import annotations

import re

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_text(text: str) -> str:
    """Names come from tenants' imports: a leading quote keeps a spreadsheet from running
    "=HYPERLINK(...)" as a formula (OWASP CSV injection).

    A plain signed number (an E.164 phone number, a negative amount) is its own value in any
    spreadsheet, not a formula, and stays as it is: `-21-21` is arithmetic and is quoted.
    """
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return f"'{text}"
    return text
