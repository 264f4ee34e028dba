"""`{% kpi value "money" %}`: the one way pages print a KPI value (kinds: kpis.formatting).

A tag rather than a filter: money needs the tenant's currency, which a filter cannot read
from the context, and templates should never have to pass it. `{% kpi_cell value "money" %}`
is the same value as a cell of a sortable table; `{% kpi_tile_value value "money" %}` the value
short enough for a tile ($524.3K), in full in its title.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats
from django.utils.html import format_html

from kpis.formatting import format_kpi, format_kpi_compact

register = template.Library()


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


@register.simple_tag(takes_context=True)
def kpi_tile_value(context, value: Any, kind: str) -> str:
    """A tile's value: compact, with the full value in the title (shown on hover)."""
    organization = context.get("current_organization")
    currency = organization.currency if organization else ""
    return format_html(
        '<div class="tile-value" title="{}">{}</div>',
        format_kpi(value, kind, currency),
        format_kpi_compact(value, kind, currency),
    )
