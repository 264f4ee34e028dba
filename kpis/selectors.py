"""The one way KPIs are read: rollups only, never the calls table.

`kpis_report(organization, filters, group_by)` answers "KPIs for this tenant and filter,
grouped by nothing / campaign / publisher / buyer / day / hour of week". Date filters are
local days of the tenant. Spend is per-call cost from the rollups plus ad spend (the
AdSpend table is itself a daily rollup); ad spend has no buyer and no hour, so it lands in
the "none" buyer row when grouping by buyer, and only in the totals for hour-of-week rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter
from typing import Any

from django.db import connection, models

from calls.models import AdSpend, Campaign
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer

from .metrics import MISSED_STATUSES, BaseCounts, Kpis, kpis_from_counts
from .models import (
    COUNT_FIELDS,
    CallRollupDaily,
    CallRollupDailyCampaign,
    CallRollupDailyCampaignPublisher,
    CallRollupHourly,
    CallRollupHourlyCampaign,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # date.weekday() order


class GroupBy(StrEnum):
    NONE = "none"
    CAMPAIGN = "campaign"
    PUBLISHER = "publisher"
    BUYER = "buyer"
    DAY = "day"
    HOUR_OF_WEEK = "hour_of_week"
    CAMPAIGN_PUBLISHER = "campaign_publisher"  # each publisher within each campaign


# KPIS.md "Ad spend without a publisher": grouped by publisher, buyer or hour, ad spend that
# names no publisher (or, by buyer and hour, any ad spend: it has neither) is one row of its
# own, with spend only. It is never a publisher, buyer or hour: its key is this value.
AD_SPEND_NOT_ATTRIBUTED = "ad_spend"
AD_SPEND_NOT_ATTRIBUTED_LABEL = "Ad spend not attributed"
_AD_SPEND_APART = (
    GroupBy.PUBLISHER,
    GroupBy.BUYER,
    GroupBy.HOUR_OF_WEEK,
    GroupBy.CAMPAIGN_PUBLISHER,
)


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

    def local_days(self) -> list[dt.date]:
        """Every local day of the filter, in order."""
        return [self.date_from + dt.timedelta(days=n) for n in range(self.days)]

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


MONEY_PLACES = Decimal("0.0001")


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value.quantize(MONEY_PLACES)  # PostgreSQL: exact already; 4 places as stored
    # SQLite sums money as floats; rounding to the stored 4 places gives back exact Decimals.
    return Decimal(str(value or 0)).quantize(MONEY_PLACES)


_NUMBERS = ("calls", "answered", "qualified", "conversions", "talk_seconds")
_QUALITY = ("repeat_calls", "short_calls")
# The missed statuses are rollup columns of the same names.
_pick_sums = itemgetter(
    *(COUNT_FIELDS.index(name) for name in (*_NUMBERS, "revenue", "cost", *_QUALITY)),
    *(COUNT_FIELDS.index(status) for status in MISSED_STATUSES),
)


def _counts_from_sums(sums: Sequence[Any]) -> BaseCounts:
    """BaseCounts from SUMs of the rollup COUNT_FIELDS, in that order (hot: a row per group)."""
    calls, answered, qualified, conversions, talk, revenue, cost, repeats, short, *missed = (
        _pick_sums(sums)
    )
    return BaseCounts(
        calls=int(calls or 0),
        answered=int(answered or 0),
        qualified=int(qualified or 0),
        conversions=int(conversions or 0),
        talk_seconds=int(talk or 0),
        revenue=_money(revenue),
        call_cost=_money(cost),
        repeat_calls=int(repeats or 0),
        short_calls=int(short or 0),
        missed_by_status={
            status: int(count or 0) for status, count in zip(MISSED_STATUSES, missed, strict=True)
        },
    )


def _rollup_model(filters: KpiFilter, group_by: GroupBy) -> type[models.Model]:
    """The coarsest rollup that holds every dimension the filter and grouping name."""
    if group_by is GroupBy.HOUR_OF_WEEK:
        if filters.buyer_id is not None:
            raise KpiQueryError("hour_of_week cannot be filtered by buyer (hourly rollups)")
        return CallRollupHourly if filters.publisher_id is not None else CallRollupHourlyCampaign
    if group_by is GroupBy.BUYER or filters.buyer_id is not None:
        return CallRollupDaily
    if group_by in (GroupBy.PUBLISHER, GroupBy.CAMPAIGN_PUBLISHER) or filters.publisher_id:
        return CallRollupDailyCampaignPublisher
    return CallRollupDailyCampaign


# Key columns naming a campaign, publisher or buyer: rows come with their names.
_ENTITY_KEYS: dict[str, type[models.Model]] = {
    "campaign_id": Campaign,
    "publisher_id": Publisher,
    "buyer_id": Buyer,
}
_GROUP_FIELDS = {
    GroupBy.NONE: (),
    GroupBy.CAMPAIGN: ("campaign_id",),
    GroupBy.PUBLISHER: ("publisher_id",),
    GroupBy.BUYER: ("buyer_id",),
    GroupBy.DAY: ("day",),
    GroupBy.HOUR_OF_WEEK: ("day", "hour"),
    GroupBy.CAMPAIGN_PUBLISHER: ("campaign_id", "publisher_id"),
}


def _where(organization: Organization, filters: KpiFilter) -> tuple[str, list[Any]]:
    """The tenant, its local days and the filter, for any table with these key columns."""
    where = "organization_id = %s AND day >= %s AND day <= %s"
    params: list[Any] = [organization.pk, filters.date_from, filters.date_to]
    for column, value in (
        ("campaign_id", filters.campaign_id),
        ("publisher_id", filters.publisher_id),
        ("buyer_id", filters.buyer_id),
    ):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    if filters.vertical:
        where += (
            f" AND campaign_id IN (SELECT id FROM {Campaign._meta.db_table} "
            "WHERE organization_id = %s AND vertical = %s)"
        )
        params += [organization.pk, filters.vertical]
    return where, params


def _sums_sql(
    organization: Organization, filters: KpiFilter, group_by: GroupBy
) -> tuple[str, list[Any]]:
    """One statement: the rollup sums per group, then the ad spend per group.

    Each row is (source, *group keys, *COUNT_FIELDS sums, ad spend). Ad spend has no buyer
    and no hour: grouped by buyer it is the "none" buyer's; by hour of week, the totals' only.
    """
    keys = _GROUP_FIELDS[group_by]
    where, params = _where(organization, filters)
    table = _rollup_model(filters, group_by)._meta.db_table
    key_columns = "".join(f"{key}, " for key in keys)
    sums = ", ".join(f"SUM({name})" for name in COUNT_FIELDS)
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    sql = f"SELECT 1, {key_columns}{sums}, NULL FROM {table} WHERE {where}{group}"
    if filters.buyer_id is None:  # ad spend is not attributed to buyers
        ad_keys = [key if key in ("campaign_id", "publisher_id", "day") else None for key in keys]
        if group_by is GroupBy.HOUR_OF_WEEK:
            ad_keys = [None, None]
        ad_where, ad_params = _where(organization, filters)
        ad_group = [key for key in ad_keys if key]
        ad_key_columns = "".join(f"{key or 'NULL'}, " for key in ad_keys)
        zeros = ", ".join("0" for _ in COUNT_FIELDS)
        sql += (
            f" UNION ALL SELECT 2, {ad_key_columns}{zeros}, "
            f"SUM(amount) FROM {AdSpend._meta.db_table} WHERE {ad_where}"
            + (f" GROUP BY {', '.join(ad_group)}" if ad_group else "")
        )
        params += ad_params
    named = [key for key in keys if key in _ENTITY_KEYS]
    if named:
        # The names come along in the same round trip, one column per named key.
        names = ", ".join(f"e{i}.name" for i in range(len(named)))
        joins = " ".join(
            f"LEFT JOIN {_ENTITY_KEYS[key]._meta.db_table} e{i} "
            f"ON e{i}.id = g.{key} AND e{i}.organization_id = %s"
            for i, key in enumerate(named)
        )
        sql = f"SELECT g.*, {names} FROM ({sql}) g {joins}"
        params += [organization.pk] * len(named)
    return sql, params


def _as_date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text


@dataclass
class KpiGroups:
    """Base counts per row key, without KPIs or labels (for callers that sum them further)."""

    counts: dict[Any, BaseCounts]  # per row key
    totals: BaseCounts  # over all rows, and ad spend that belongs to no row
    names: dict[tuple[str, int], str]  # ("campaign_id", 7) -> "Auto insurance"


def _grouped_counts(organization: Organization, filters: KpiFilter, group_by: GroupBy) -> KpiGroups:
    sql, params = _sums_sql(organization, filters, group_by)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    key_columns = _GROUP_FIELDS[group_by]
    width = len(key_columns)
    sums_end = 1 + width + len(COUNT_FIELDS)
    named = [(i, column) for i, column in enumerate(key_columns) if column in _ENTITY_KEYS]
    grouped: dict[Any, BaseCounts] = {}
    names: dict[tuple[str, int], str] = {}
    rollup_sums: list[Sequence[Any]] = []
    ad_spend = Decimal(0)
    for row in result:
        source, keys = row[0], row[1 : 1 + width]
        if source == 1:
            sums = row[1 + width : sums_end]
            rollup_sums.append(sums)
            counts = _counts_from_sums(sums)
        else:
            if row[sums_end] is None:
                continue  # no ad spend at all: SUM over no rows
            counts = BaseCounts(ad_spend=_money(row[sums_end]))
            ad_spend += counts.ad_spend
        for name_index, (key_index, column) in enumerate(named):
            if keys[key_index] is not None and row[sums_end + 1 + name_index] is not None:
                names[column, keys[key_index]] = row[sums_end + 1 + name_index]
        if (
            source == 2
            and group_by in _AD_SPEND_APART
            and (group_by in (GroupBy.BUYER, GroupBy.HOUR_OF_WEEK) or keys[-1] is None)
        ):
            # Spend that names no publisher (buyer, hour) is a row of its own.
            unattributed = AD_SPEND_NOT_ATTRIBUTED
            key = (
                (keys[0], unattributed) if group_by is GroupBy.CAMPAIGN_PUBLISHER else unattributed
            )
        elif group_by is GroupBy.HOUR_OF_WEEK:
            key = (_as_date(keys[0]).weekday(), keys[1])
        elif group_by is GroupBy.NONE:
            key = None
        elif group_by is GroupBy.CAMPAIGN_PUBLISHER:
            key = (keys[0], keys[1])
        else:
            key = _as_date(keys[0]) if group_by is GroupBy.DAY else keys[0]
        grouped[key] = grouped[key] + counts if key in grouped else counts
    # Totals: the rollup sums column by column (cheaper than adding a BaseCounts per group);
    # money as exact Decimals, as each group has it.
    columns = zip(*rollup_sums, strict=True) if rollup_sums else [()] * len(COUNT_FIELDS)
    column_sums = [
        sum((_money(value) for value in column), Decimal(0))
        if name in ("revenue", "cost")
        else sum(value or 0 for value in column)
        for name, column in zip(COUNT_FIELDS, columns, strict=True)
    ]
    totals = _counts_from_sums(column_sums)
    totals = replace(totals, ad_spend=ad_spend)
    return KpiGroups(counts=grouped, totals=totals, names=names)


def kpi_counts(organization: Organization, filters: KpiFilter) -> BaseCounts:
    """Base counts over the whole filter (one row of sums)."""
    return _grouped_counts(organization, filters, GroupBy.NONE).totals


def _labels(
    group_by: GroupBy, keys: list[Any], names: dict[tuple[str, int], str]
) -> dict[Any, str]:
    def name(column: str, entity_id: int | str | None) -> str:
        if entity_id == AD_SPEND_NOT_ATTRIBUTED:
            return AD_SPEND_NOT_ATTRIBUTED_LABEL
        if entity_id is None:
            return f"No {column.removesuffix('_id')}"
        return names.get((column, entity_id), f"#{entity_id}")

    if group_by is GroupBy.CAMPAIGN_PUBLISHER:
        return {k: f"{name('campaign_id', k[0])} / {name('publisher_id', k[1])}" for k in keys}
    if _GROUP_FIELDS[group_by] and _GROUP_FIELDS[group_by][0] in _ENTITY_KEYS:
        return {k: name(_GROUP_FIELDS[group_by][0], k) for k in keys}
    if group_by is GroupBy.DAY:
        return {k: k.isoformat() for k in keys}
    if group_by is GroupBy.HOUR_OF_WEEK:
        return {
            k: AD_SPEND_NOT_ATTRIBUTED_LABEL
            if k == AD_SPEND_NOT_ATTRIBUTED
            else f"{WEEKDAYS[k[0]]} {k[1]:02d}:00"
            for k in keys
        }
    return {k: "All" for k in keys}


def _sort_key(key: Any) -> tuple:
    """Ids, days and hours ascending; "none" (no publisher, say) after the rest, and ad spend
    not attributed last."""
    parts = key if key != AD_SPEND_NOT_ATTRIBUTED and isinstance(key, tuple) else (key,)
    return tuple(
        (2, 0) if part == AD_SPEND_NOT_ATTRIBUTED else (int(part is None), part or 0)
        for part in parts
    )


def kpi_groups(organization: Organization, filters: KpiFilter, group_by: GroupBy) -> KpiGroups:
    return _grouped_counts(organization, filters, group_by)


def kpi_row(key: Any, label: str, counts: BaseCounts) -> KpiRow:
    kpis = kpis_from_counts(counts)
    if key == AD_SPEND_NOT_ATTRIBUTED or (
        isinstance(key, tuple) and key[-1] == AD_SPEND_NOT_ATTRIBUTED
    ):
        kpis = replace(kpis, roi=None)  # spend only: no calls, no rates
    return KpiRow(key=key, label=label, counts=counts, kpis=kpis)


def kpis_report(
    organization: Organization, filters: KpiFilter, group_by: GroupBy = GroupBy.NONE
) -> KpiReport:
    groups = _grouped_counts(organization, filters, group_by)
    totals = kpi_row(None, "Total", groups.totals)
    report = KpiReport(filters=filters, group_by=group_by, totals=totals)
    if group_by is GroupBy.NONE:
        return report
    keys = sorted(groups.counts, key=_sort_key)
    labels = _labels(group_by, keys, groups.names)
    report.rows = [kpi_row(key, labels[key], groups.counts[key]) for key in keys]
    return report


def kpi_json_value(value: Any) -> Any:
    """A KPI value for JSON: money as a 4-place decimal string, floats to 4 places, pairs as
    lists."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.0001")))
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, tuple):
        return [kpi_json_value(v) for v in value]
    return value


def kpis_as_dict(kpis: Kpis) -> dict[str, Any]:
    """KPIs for JSON: money as 4-place decimal strings, rates as floats, nulls as null."""
    return {f.name: kpi_json_value(getattr(kpis, f.name)) for f in dataclasses.fields(kpis)}
