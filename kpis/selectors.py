"""The one way KPIs are read: rollups only, never the calls table.

`kpis_report(organization, filters, group_by)` answers "KPIs for this tenant and filter,
grouped by nothing / campaign / publisher / buyer / day / hour of week". Date filters are
local days of the tenant. Spend is per-call cost from the rollups plus ad spend (the
AdSpend table is itself a daily rollup); ad spend has no buyer and no hour, so it lands in
the "none" buyer row when grouping by buyer, and only in the totals for hour-of-week rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet, Sum

from calls.models import AdSpend, Campaign
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer

from .metrics import MISSED_STATUSES, BaseCounts, Kpis, kpis_from_counts
from .models import COUNT_FIELDS, CallRollupDaily, CallRollupHourly


class GroupBy(StrEnum):
    NONE = "none"
    CAMPAIGN = "campaign"
    PUBLISHER = "publisher"
    BUYER = "buyer"
    DAY = "day"
    HOUR_OF_WEEK = "hour_of_week"


class KpiQueryError(ValueError):
    """A filter and grouping the rollups cannot answer (reported as a 400)."""


@dataclass(frozen=True)
class KpiFilter:
    date_from: dt.date
    date_to: dt.date  # inclusive
    campaign_id: int | None = None
    publisher_id: int | None = None
    buyer_id: int | None = None
    vertical: str | None = None

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise KpiQueryError("date_to is before date_from")

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous_period(self) -> KpiFilter:
        """The same number of days immediately before."""
        return replace(
            self,
            date_from=self.date_from - dt.timedelta(days=self.days),
            date_to=self.date_from - dt.timedelta(days=1),
        )


@dataclass(frozen=True)
class KpiRow:
    key: Any  # an id, a date, a (weekday, hour) pair, or None
    label: str
    counts: BaseCounts
    kpis: Kpis


@dataclass
class KpiReport:
    filters: KpiFilter
    group_by: GroupBy
    totals: KpiRow
    rows: list[KpiRow] = field(default_factory=list)


def _money(value: Any) -> Decimal:
    # SQLite sums money as floats; rounding to the stored 4 places gives back exact Decimals.
    return Decimal(str(value or 0)).quantize(Decimal("0.0001"))


def _counts_from_sums(sums: dict[str, Any], ad_spend: Decimal = Decimal("0")) -> BaseCounts:
    def number(name: str) -> int:
        return int(sums.get(name) or 0)

    def money(name: str) -> Decimal:
        return _money(sums.get(name))

    return BaseCounts(
        calls=number("calls"),
        answered=number("answered"),
        qualified=number("qualified"),
        conversions=number("conversions"),
        talk_seconds=number("talk_seconds"),
        revenue=money("revenue"),
        call_cost=money("cost"),
        ad_spend=ad_spend,
        repeat_calls=number("repeat_calls"),
        short_calls=number("short_calls"),
        missed_by_status={status: number(status) for status in MISSED_STATUSES},
    )


def _scoped(queryset: QuerySet, organization: Organization, filters: KpiFilter) -> QuerySet:
    queryset = queryset.filter(
        organization=organization, day__gte=filters.date_from, day__lte=filters.date_to
    )
    if filters.campaign_id is not None:
        queryset = queryset.filter(campaign_id=filters.campaign_id)
    if filters.publisher_id is not None:
        queryset = queryset.filter(publisher_id=filters.publisher_id)
    if filters.vertical:
        campaigns = Campaign.objects.for_organization(organization).filter(
            vertical=filters.vertical
        )
        queryset = queryset.filter(campaign_id__in=campaigns.values("id"))
    return queryset


def _rollup_rows(organization: Organization, filters: KpiFilter, group_by: GroupBy) -> QuerySet:
    if group_by is GroupBy.HOUR_OF_WEEK:
        if filters.buyer_id is not None:
            raise KpiQueryError("hour_of_week cannot be filtered by buyer (hourly rollups)")
        queryset = _scoped(CallRollupHourly.objects.all(), organization, filters)
    else:
        queryset = _scoped(CallRollupDaily.objects.all(), organization, filters)
        if filters.buyer_id is not None:
            queryset = queryset.filter(buyer_id=filters.buyer_id)
    return queryset


_GROUP_FIELDS = {
    GroupBy.CAMPAIGN: ("campaign_id",),
    GroupBy.PUBLISHER: ("publisher_id",),
    GroupBy.BUYER: ("buyer_id",),
    GroupBy.DAY: ("day",),
    GroupBy.HOUR_OF_WEEK: ("day", "hour"),
}
_SUMS = {name: Sum(name) for name in COUNT_FIELDS}


def _ad_spend(organization: Organization, filters: KpiFilter) -> QuerySet:
    queryset = _scoped(AdSpend.objects.all(), organization, filters)
    if filters.buyer_id is not None:
        queryset = queryset.none()  # ad spend is not attributed to buyers
    return queryset


def kpi_counts(organization: Organization, filters: KpiFilter) -> BaseCounts:
    """Base counts over the whole filter (one row of sums)."""
    sums = _rollup_rows(organization, filters, GroupBy.NONE).aggregate(**_SUMS)
    ad_spend = _ad_spend(organization, filters).aggregate(total=Sum("amount"))["total"]
    return _counts_from_sums(sums, _money(ad_spend))


def _grouped_counts(
    organization: Organization, filters: KpiFilter, group_by: GroupBy
) -> dict[Any, BaseCounts]:
    fields = _GROUP_FIELDS[group_by]
    grouped: dict[Any, BaseCounts] = {}
    for sums in _rollup_rows(organization, filters, group_by).values(*fields).annotate(**_SUMS):
        key = _row_key(group_by, sums)
        grouped[key] = grouped.get(key, BaseCounts()) + _counts_from_sums(sums)
    if group_by is not GroupBy.HOUR_OF_WEEK:
        ad_field = {GroupBy.BUYER: None}.get(group_by, fields[0])
        spend_rows = (
            _ad_spend(organization, filters)
            .values(*([ad_field] if ad_field else []))
            .annotate(total=Sum("amount"))
        )
        for spend in spend_rows:
            key = spend.get(ad_field) if ad_field else None
            extra = BaseCounts(ad_spend=_money(spend["total"]))
            grouped[key] = grouped.get(key, BaseCounts()) + extra
    return grouped


def _row_key(group_by: GroupBy, sums: dict[str, Any]) -> Any:
    if group_by is GroupBy.HOUR_OF_WEEK:
        return (sums["day"].weekday(), sums["hour"])
    return sums[_GROUP_FIELDS[group_by][0]]


def _labels(organization: Organization, group_by: GroupBy, keys: list[Any]) -> dict[Any, str]:
    models = {GroupBy.CAMPAIGN: Campaign, GroupBy.PUBLISHER: Publisher, GroupBy.BUYER: Buyer}
    if group_by in models:
        ids = [k for k in keys if k is not None]
        names = dict(
            models[group_by]
            .objects.for_organization(organization)
            .filter(id__in=ids)
            .values_list("id", "name")
        )
        return {k: names.get(k, f"#{k}") if k is not None else f"No {group_by}" for k in keys}
    if group_by is GroupBy.DAY:
        return {k: k.isoformat() for k in keys}
    if group_by is GroupBy.HOUR_OF_WEEK:
        days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return {k: f"{days[k[0]]} {k[1]:02d}:00" for k in keys}
    return {k: "All" for k in keys}


def _row(key: Any, label: str, counts: BaseCounts) -> KpiRow:
    return KpiRow(key=key, label=label, counts=counts, kpis=kpis_from_counts(counts))


def kpis_report(
    organization: Organization, filters: KpiFilter, group_by: GroupBy = GroupBy.NONE
) -> KpiReport:
    totals_counts = kpi_counts(organization, filters)
    report = KpiReport(
        filters=filters, group_by=group_by, totals=_row(None, "Total", totals_counts)
    )
    if group_by is GroupBy.NONE:
        return report
    grouped = _grouped_counts(organization, filters, group_by)
    keys = sorted(grouped, key=lambda k: (k is None, k))
    labels = _labels(organization, group_by, keys)
    report.rows = [_row(key, labels[key], grouped[key]) for key in keys]
    return report
