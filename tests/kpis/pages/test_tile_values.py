"""A KPI tile shows its value short enough to fit and the full value on hover."""

from decimal import Decimal
from types import SimpleNamespace

from django.template import Context, Template

TILE_VALUE = Template("{% load kpi_format %}{% kpi_tile_value value kind %}")


def tile_value(value, kind, currency="USD") -> str:
    organization = SimpleNamespace(currency=currency)
    return TILE_VALUE.render(
        Context({"value": value, "kind": kind, "current_organization": organization})
    )


def test_a_large_amount_is_compact_with_the_full_amount_in_the_title():
    assert tile_value(Decimal("524279.12"), "money") == (
        '<div class="tile-value" title="$524,279.12">$524.3K</div>'
    )


def test_a_small_value_is_the_same_in_the_tile_and_the_title():
    assert tile_value(Decimal("81.54"), "money") == (
        '<div class="tile-value" title="$81.54">$81.54</div>'
    )
    assert tile_value(None, "percent") == '<div class="tile-value" title="-">-</div>'
