"""What the page tests share: a week of traffic (the `traffic` fixture in conftest.py) and
ways to read the KPIs a page shows."""

import datetime as dt
import itertools
import re
from decimal import Decimal

from kpis.formatting import format_kpi
from kpis.pages.page_data import OVERVIEW_TILES, TILES
from kpis.selectors import KpiFilter, kpis_as_dict, kpis_report
from tests.factories import CallFactory

DAY = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York, a Monday
WEEK = {"range": "custom", "date_from": "2026-11-01", "date_to": "2026-11-07"}
WEEK_FILTER = KpiFilter(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 7))
PAGES = ["/", "/campaigns/", "/publishers/"]
_callers = itertools.count()


def _calls(organization, campaign, publisher, buyer, *, count, converted, missed, start=DAY):
    """`count` calls 17 minutes apart (no velocity spike), the first `missed` missed, the next
    `converted` converted at 40.00; every call costs 5.00 and comes from a new caller."""
    for n in range(count):
        is_missed = n < missed
        is_converted = not is_missed and n < missed + converted
        CallFactory(
            organization=organization,
            campaign=campaign,
            publisher=publisher,
            buyer=buyer,
            started_at=start + dt.timedelta(minutes=17 * n),
            status="missed" if is_missed else "answered",
            duration_seconds=0 if is_missed else 200,
            converted=is_converted,
            revenue=Decimal("40.00") if is_converted else Decimal("0"),
            cost=Decimal("5.00"),
            caller_number=f"+1312555{next(_callers) % 10000:04d}",
        )


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


TILE = re.compile(
    r'data-kpi="(?P<key>\w+)" data-value="(?P<raw>[^"]*)">\s*'
    r'<div class="tile-label">[^<]*</div>\s*'
    r'<div class="tile-value" title="(?P<full>[^"]*)">(?P<shown>[^<]*)</div>'
)


def tiles(html):
    return {m["key"]: (m["shown"], m["raw"]) for m in TILE.finditer(html)}


def expected_tiles(organization, kpi_filter, keys=OVERVIEW_TILES):
    kpis = kpis_report(organization, kpi_filter).totals.kpis
    api = kpis_as_dict(kpis)
    return {
        # A null KPI's data-value is empty (the template's default_if_none).
        spec.key: (
            format_kpi(getattr(kpis, spec.key), spec.kind, "USD"),
            "" if api[spec.key] is None else str(api[spec.key]),
        )
        for spec in TILES
        if spec.key in keys
    }
