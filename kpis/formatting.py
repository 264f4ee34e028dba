"""How KPI values are written for people: pages, reports, verdict reasons. Pure: no Django.

Kinds: `count` (1,234), `percent` (3.1%), `interval` (a 95% CI pair: 1.7-5.3%), `seconds`
(whole seconds, truncated like the verdict reasons, so "143 s" on a tile and in a reason
agree), `money` (2 decimals, half up, in the tenant's currency), `points` (a difference
of two rates: 4.2 pts). None is "-" (KPIS.md: an empty denominator is shown as "-").
`format_kpi_compact` writes large counts and amounts short for a tile ($524.3K), the full
value going in its title.
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


# From these magnitudes on a tile shows a value short: money loses its cents at ten thousand,
# counts their last digits at a hundred thousand. Below them the full value fits a tile.
COMPACT_FROM = {"money": Decimal(10_000), "count": Decimal(100_000)}
COMPACT_UNITS = ((Decimal(10) ** 3, "K"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 9, "B"))
THOUSAND = Decimal(1000)


def _compact_digits(magnitude: Decimal) -> str:
    """|value| >= 1,000 as "524.3K" / "1.2M": one decimal, half up; a value that rounds up to
    the next unit is written in it (999,960 is "1.0M", not "1,000.0K")."""
    for size, suffix in COMPACT_UNITS:
        shown = (magnitude / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if shown < THOUSAND or suffix == COMPACT_UNITS[-1][1]:
            break
    return f"{shown:,}{suffix}"


def format_kpi_compact(value: Any, kind: str, currency: str = "") -> str:
    """A KPI value short enough for a tile: "$524.3K", "1.2M" calls; other kinds, and values
    under COMPACT_FROM, exactly as format_kpi writes them."""
    if value is None or value == "" or kind not in COMPACT_FROM:
        return format_kpi(value, kind, currency)
    amount = Decimal(str(value))
    if abs(amount) < COMPACT_FROM[kind]:
        return format_kpi(value, kind, currency)
    sign = "-" if amount < 0 else ""
    digits = _compact_digits(abs(amount))
    if kind == "count":
        return f"{sign}{digits}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {currency}".rstrip()
