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
    if not text.startswith(_FORMULA_STARTS):
        return text
    digits = text[1:]
    # The quick test first: exports hold an E.164 number in every row.
    if (digits.isascii() and digits.isdigit()) or _PLAIN_NUMBER.fullmatch(text):
        return text
    return f"'{text}"
