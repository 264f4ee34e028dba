"""`{% kpi value "money" %}`: the one way pages print a KPI value.

Kinds: `count` (1,234), `percent` (3.1%), `interval` (a 95% CI pair: 1.7-5.3%), `seconds`
(whole seconds, truncated like the verdict reasons, so "143 s" on a tile and in a reason
agree), `money` (2 decimals, half up, in the tenant's currency), `points` (a difference
of two rates: 4.2 pts). None is "-" (KPIS.md: an empty denominator is shown as "-").

A tag rather than a filter: money needs the tenant's currency, which a filter cannot read
from the context, and templates should never have to pass it. `{% kpi_cell value "money" %}`
is the same value as a cell of a sortable table.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils import formats
from django.utils.html import format_html

register = template.Library()

NULL = "-"
# Prefix symbols for the common currencies; any other code is written after the amount.
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_money(value: Decimal | float | int, currency: str) -> str:
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
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


@register.simple_tag(takes_context=True)
def kpi(context, value: Any, kind: str) -> str:
    organization = context.get("current_organization")
    return format_kpi(value, kind, organization.currency if organization else "")


@register.simple_tag(takes_context=True)
def kpi_cell(context, value: Any, kind: str, muted: bool = False) -> str:
    """A number cell of a sortable KPI table: the value as `kpi` prints it, and in
    `data-sort` the raw number (an interval sorts by its low end; "-" sorts as empty)."""
    sort_value = value[0] if kind == "interval" and value else value
    return format_html(
        '<td class="{}" data-sort="{}">{}</td>',
        "num muted" if muted else "num",
        "" if sort_value is None else formats.localize(sort_value, use_l10n=False),
        kpi(context, value, kind),
    )
