"""CSV cells that spreadsheets read as data, never as formulas (this module imports no app)."""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """Names come from tenants' imports: a leading quote keeps a spreadsheet from running
    "=HYPERLINK(...)" as a formula (OWASP CSV injection)."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
