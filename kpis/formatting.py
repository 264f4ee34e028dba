"""How KPI values are written for people: pages, reports, verdict reasons. Pure: no Django.

Kinds: `count` (1,234), `percent` (3.1%), `interval` (a 95% CI pair: 1.7-5.3%), `seconds`
(whole seconds, truncated like the verdict reasons, so "143 s" on a tile and in a reason
agree), `money` (2 decimals, half up, in the tenant's currency), `points` (a difference
of two rates: 4.2 pts). None is "-" (KPIS.md: an empty denominator is shown as "-").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

NULL = "-"
# Prefix symbols for the common currencies; any other code is written after the amount.
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_money(value: Decimal | float | int, currency: str, places: int = 2) -> str:
    """Money in the tenant's currency, half up: "$1,234.50"; places=0 gives "$1,235"."""
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {currency}".rstrip()


def format_kpi(value: Any, kind: str, currency: str = "") -> str:
    """A KPI value as pages show it; see the module docstring for the kinds."""
    if value is None or value == "":  # "" is what a template makes of a missing value
        return NULL
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{float(value):.1f}%"
    if kind == "interval":
        low, high = value
        return f"{low:.1f}-{high:.1f}%"
    if kind == "points":
        return f"{float(value):.1f} pts"
    if kind == "seconds":
        return f"{int(value):,} s"
    if kind == "money":
        return format_money(value, currency)
    raise ValueError(f"unknown KPI kind {kind!r}")
