"""Tile values short enough to fit: format_kpi_compact, with hand-written numbers."""

from decimal import Decimal

import pytest

from kpis.formatting import format_kpi, format_kpi_compact


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (Decimal("524279.12"), "money", "$524.3K"),  # the tile the issue saw cut
        (Decimal("9999.99"), "money", "$9,999.99"),  # under 10,000: in full, cents and all
        (Decimal("10000"), "money", "$10.0K"),
        (Decimal("-12549.50"), "money", "-$12.5K"),  # a loss keeps its sign in front
        (Decimal("12550"), "money", "$12.6K"),  # half up, as money is rounded everywhere
        (Decimal("999960"), "money", "$1.0M"),  # not "$1,000.0K"
        (Decimal("1234567.89"), "money", "$1.2M"),
        (Decimal("2500000000"), "money", "$2.5B"),
        (Decimal("7300000000000"), "money", "$7,300.0B"),  # the largest unit grows
        (99_999, "count", "99,999"),
        (100_000, "count", "100.0K"),
        (1_049_999, "count", "1.0M"),
        (12.5, "percent", "12.5%"),  # rates, seconds: as format_kpi writes them
        (1_000_000, "seconds", "1,000,000 s"),
        (None, "money", "-"),
    ],
)
def test_compact_tile_values(value, kind, shown):
    assert format_kpi_compact(value, kind, "USD") == shown


def test_compact_money_in_a_currency_without_a_symbol_names_it_after():
    assert format_kpi_compact(Decimal("48000"), "money", "CAD") == "48.0K CAD"
    assert format_kpi_compact(Decimal("480"), "money", "CAD") == format_kpi(480, "money", "CAD")
