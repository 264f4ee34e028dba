"""Page and export filters: the query string every page carries, parsed into a KpiFilter.

`?range=7` (today, yesterday, 7, 30, 90, custom with date_from/date_to), `campaign`,
`publisher`, `buyer`, `vertical`, `region` (the caller's, as calls carry it) and `tag`
(`key:value` of a report tag); days are the tenant's local days. Shared by the pages, the
exports and the report subscriptions, so a shared URL shows the same numbers everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.http import QueryDict

from calls.models import Vertical
from kpis.selectors import (
    KpiFilter,
    KpiQueryError,
    kpi_filter_so_far,
    kpi_view_error,
    report_tag_filter,
    report_tag_keys,
)
from ppc_dashboard.tenancy.models import Organization

RANGE_PRESETS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "7": "Last 7 days",
    "30": "Last 30 days",
    "90": "Last 90 days",
    "custom": "Custom",
}
DEFAULT_RANGE = "30"
MAX_DAYS = 731


@dataclass(frozen=True)
class PageFilters:
    kpi_filter: KpiFilter
    range: str
    errors: dict[str, str]

    def query_string(self) -> str:
        """The filters as a query string (for links, exports and subscriptions)."""
        query = QueryDict(mutable=True)
        query["range"] = self.range
        if self.range == "custom":
            query["date_from"] = self.kpi_filter.date_from.isoformat()
            query["date_to"] = self.kpi_filter.date_to.isoformat()
        for name, value in (
            ("campaign", self.kpi_filter.campaign_id),
            ("publisher", self.kpi_filter.publisher_id),
            ("buyer", self.kpi_filter.buyer_id),
            ("vertical", self.kpi_filter.vertical),
        ):
            if value:
                query[name] = str(value)
        if self.kpi_filter.region is not None:
            query["region"] = self.kpi_filter.region
        if self.kpi_filter.tag is not None:
            query["tag"] = ":".join(self.kpi_filter.tag)
        return query.urlencode()

    @property
    def tag_text(self) -> str:
        return ":".join(self.kpi_filter.tag) if self.kpi_filter.tag else ""


def _positive_int(raw: str | None, name: str, errors: dict[str, str]) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or int(raw) == 0 or int(raw) >= 2**63:
        errors[name] = f"'{raw}' is not an id."
        return None
    return int(raw)


def _date(raw: str | None, name: str, errors: dict[str, str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"'{raw}' is not a date (YYYY-MM-DD)."
        return None


def page_filters_from_query(query: QueryDict, organization: Organization) -> PageFilters:
    """Parse; a bad value is reported in `errors` and falls back to its default."""
    errors: dict[str, str] = {}
    today = organization.local_today()
    range_name = query.get("range") or DEFAULT_RANGE
    if range_name not in RANGE_PRESETS:
        errors["range"] = f"'{range_name}' is not a date range."
        range_name = DEFAULT_RANGE
    if range_name == "today":
        date_from = date_to = today
    elif range_name == "yesterday":
        date_from = date_to = today - dt.timedelta(days=1)
    elif range_name == "custom":
        date_to = _date(query.get("date_to"), "date_to", errors) or today
        date_from = _date(query.get("date_from"), "date_from", errors) or (
            date_to - dt.timedelta(days=int(DEFAULT_RANGE) - 1)
        )
        if date_from > date_to:
            errors["date_from"] = "The first day is after the last day."
            date_from = date_to
        if (date_to - date_from).days >= MAX_DAYS:
            errors["date_from"] = f"At most {MAX_DAYS} days."
            date_from = date_to - dt.timedelta(days=MAX_DAYS - 1)
    else:
        date_to = today
        date_from = today - dt.timedelta(days=int(range_name) - 1)
    vertical = query.get("vertical") or None
    if vertical and vertical not in Vertical.values:
        errors["vertical"] = f"'{vertical}' is not a vertical."
        vertical = None
    region = query.get("region", "").strip() or None
    if region is not None and (len(region) > 64 or "\x00" in region):
        errors["region"] = "A region has at most 64 characters, and no null characters."
        region = None
    tag = None
    if (tag_text := query.get("tag", "").strip()) and "\x00" in tag_text:
        errors["tag"] = "Null characters are not allowed."
    elif tag_text:
        try:
            tag = report_tag_filter(tag_text, report_tag_keys(organization))
        except KpiQueryError as exc:
            errors["tag"] = str(exc)
    kpi_filter = KpiFilter(
        date_from=date_from,
        date_to=date_to,
        campaign_id=_positive_int(query.get("campaign"), "campaign", errors),
        publisher_id=_positive_int(query.get("publisher"), "publisher", errors),
        buyer_id=_positive_int(query.get("buyer"), "buyer", errors),
        vertical=vertical,
        region=region,
        tag=tag,
    )
    # Region and tag rollups carry no buyer, and are apart from each other: a combination
    # they cannot answer keeps the buyer (or the region) and names the filter dropped.
    if kpi_filter.tag is not None and kpi_view_error(kpi_filter):
        errors["tag"] = str(kpi_view_error(kpi_filter))
        kpi_filter = replace(kpi_filter, tag=None)
    if kpi_filter.region is not None and kpi_view_error(kpi_filter):
        errors["region"] = str(kpi_view_error(kpi_filter))
        kpi_filter = replace(kpi_filter, region=None)
    return PageFilters(
        kpi_filter=kpi_filter_so_far(kpi_filter, organization),
        range=range_name,
        errors=errors,
    )
