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
from django.db.models import Count, Min
from django.utils import timezone

from calls.models import AdSpend, Call, Campaign
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer

from .metrics import MISSED_STATUSES, BaseCounts, Kpis, kpis_from_counts
from .models import (
    COUNT_FIELDS,
    CallRollupDaily,
    CallRollupDailyCampaign,
    CallRollupDailyCampaignPublisher,
    CallRollupDailyRegion,
    CallRollupDailyRegionCampaign,
    CallRollupDailyTag,
    CallRollupHourly,
    CallRollupHourlyCampaign,
    DirtyDay,
    ReportTag,
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
    REGION = "region"  # the caller's state or region (caller_region)
    TAG = "tag"  # the values of one report tag key (kpis_report's `tag_key`)


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
    GroupBy.REGION,
    GroupBy.TAG,
)
# Groupings whose rows ad spend can never belong to: it names no buyer, hour, region or tag.
_AD_SPEND_NEVER_IN_ROWS = (GroupBy.BUYER, GroupBy.HOUR_OF_WEEK, GroupBy.REGION, GroupBy.TAG)


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
    # The caller's region as calls carry it (caller_region), e.g. "IL".
    region: str | None = None
    # One report tag: (key, value as text), read from the tag rollup.
    tag: tuple[str, str] | None = None
    # KPIS.md "Periods": a range that ends today is partial. date_to then counts only its
    # local hours before this one (1-24); None: date_to is a whole day.
    until_hour: int | None = None

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise KpiQueryError("date_to is before date_from")
        if self.until_hour is not None and not 1 <= self.until_hour <= 24:
            raise KpiQueryError("until_hour must be from 1 to 24")

    @property
    def is_partial(self) -> bool:
        return self.until_hour is not None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def local_days(self) -> list[dt.date]:
        """Every local day of the filter, in order."""
        return [self.date_from + dt.timedelta(days=n) for n in range(self.days)]

    def previous_period(self) -> KpiFilter:
        """The same number of days immediately before, cut at the same local hour."""
        return replace(
            self,
            date_from=self.date_from - dt.timedelta(days=self.days),
            date_to=self.date_from - dt.timedelta(days=1),
        )


def kpi_filter_so_far(
    kpi_filter: KpiFilter, organization: Organization, now: dt.datetime | None = None
) -> KpiFilter:
    """The filter as KPIS.md reads it: a range that ends today is partial, cut at the end of
    the current local hour (rollups are hourly), and previous_period() keeps that cut. The
    current hour is in: a call posted a second ago counts, against the same whole hour of
    the period before."""
    local_now = (now or timezone.now()).astimezone(organization.tzinfo)
    if kpi_filter.date_to != local_now.date():
        return replace(kpi_filter, until_hour=None)
    return replace(kpi_filter, until_hour=local_now.hour + 1)


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
    # The local hour date_to was cut at (filters.until_hour when the rollups could cut it:
    # hourly rollups carry no buyer, so a buyer view counts date_to whole); None: whole days.
    cut_at_hour: int | None = None


MONEY_PLACES = Decimal("0.0001")


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value.quantize(MONEY_PLACES)  # PostgreSQL: exact already; 4 places as stored
    # SQLite sums money as floats; rounding to the stored 4 places gives back exact Decimals.
    return Decimal(str(value or 0)).quantize(MONEY_PLACES)


_NUMBERS = ("calls", "answered", "qualified", "conversions", "talk_seconds")
_QUALITY = ("repeat_calls", "short_calls")
_FOLLOWUPS = ("followups", "recovered", "recovered_revenue")
# The missed statuses are rollup columns of the same names.
_pick_sums = itemgetter(
    *(COUNT_FIELDS.index(name) for name in (*_NUMBERS, "revenue", "cost", *_QUALITY, *_FOLLOWUPS)),
    *(COUNT_FIELDS.index(status) for status in MISSED_STATUSES),
)


def _counts_from_sums(sums: Sequence[Any]) -> BaseCounts:
    """BaseCounts from SUMs of the rollup COUNT_FIELDS, in that order (hot: a row per group)."""
    (
        calls,
        answered,
        qualified,
        conversions,
        talk,
        revenue,
        cost,
        repeats,
        short,
        followups,
        recovered,
        recovered_revenue,
        *missed,
    ) = _pick_sums(sums)
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
        followups=int(followups or 0),
        recovered=int(recovered or 0),
        recovered_revenue=_money(recovered_revenue),
        missed_by_status={
            status: int(count or 0) for status, count in zip(MISSED_STATUSES, missed, strict=True)
        },
    )


def _hourly_cut_possible(filters: KpiFilter, group_by: GroupBy) -> bool:
    """Whether hourly rollups hold what the view needs (they carry no buyer, region or tag)."""
    return (
        group_by not in (GroupBy.BUYER, GroupBy.REGION, GroupBy.TAG)
        and filters.buyer_id is None
        and filters.region is None
        and filters.tag is None
    )


def kpi_cut_at_hour(filters: KpiFilter, group_by: GroupBy = GroupBy.NONE) -> int | None:
    """The local hour a view of the filter cuts date_to at; None when it counts whole days."""
    return filters.until_hour if _hourly_cut_possible(filters, group_by) else None


def _rollup_model(
    filters: KpiFilter, group_by: GroupBy, *, hourly: bool = False
) -> type[models.Model]:
    """The coarsest rollup that holds every dimension the filter and grouping name (an hourly
    one when hours are cut)."""
    names_publisher = (
        group_by in (GroupBy.PUBLISHER, GroupBy.CAMPAIGN_PUBLISHER) or filters.publisher_id
    )
    names_region = group_by is GroupBy.REGION or filters.region is not None
    names_tag = group_by is GroupBy.TAG or filters.tag is not None
    if names_region or names_tag:
        # Daily rollups of their own, with campaign and publisher but no buyer or hour.
        what = "region" if names_region else "tag"
        if names_region and names_tag:
            raise KpiQueryError("region and tag cannot be combined (separate rollups)")
        if group_by is GroupBy.HOUR_OF_WEEK or hourly:
            raise KpiQueryError(f"{what} cannot be grouped by hour_of_week (daily rollups)")
        if group_by is GroupBy.BUYER or filters.buyer_id is not None:
            raise KpiQueryError(f"{what} cannot be combined with buyer (rollups without buyer)")
        if names_tag:
            return CallRollupDailyTag
        return CallRollupDailyRegion if names_publisher else CallRollupDailyRegionCampaign
    if hourly or group_by is GroupBy.HOUR_OF_WEEK:
        if filters.buyer_id is not None or group_by is GroupBy.BUYER:
            raise KpiQueryError("hour_of_week cannot be filtered by buyer (hourly rollups)")
        return CallRollupHourly if names_publisher else CallRollupHourlyCampaign
    if group_by is GroupBy.BUYER or filters.buyer_id is not None:
        return CallRollupDaily
    if names_publisher:
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
    GroupBy.REGION: ("region",),
    GroupBy.TAG: ("tag_value",),
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


def _dimension_where(
    filters: KpiFilter, group_by: GroupBy, tag_key: str | None
) -> tuple[str, list[Any]]:
    """The region and tag conditions (their rollups only; ad spend has neither)."""
    where, params = "", []
    if filters.region is not None:
        where += " AND region = %s"
        params.append(filters.region)
    if group_by is GroupBy.TAG:
        if filters.tag is not None and filters.tag[0] != tag_key:
            raise KpiQueryError("a tag filter and a tag grouping must name the same key")
        where += " AND tag_key = %s"
        params.append(tag_key)
    if filters.tag is not None:
        where += " AND tag_key = %s AND tag_value = %s"
        params += list(filters.tag)
    return where, params


def _sums_sql(
    organization: Organization,
    filters: KpiFilter,
    group_by: GroupBy,
    before_hour: int | None = None,
    tag_key: str | None = None,
) -> tuple[str, list[Any]]:
    """One statement: the rollup sums per group, then the ad spend per group.

    Each row is (source, *group keys, *COUNT_FIELDS sums, ad spend). Ad spend has no buyer
    and no hour: grouped by buyer or hour it is its own row (AD_SPEND_NOT_ATTRIBUTED), and
    its days count whole. `before_hour` counts only the local hours before it (hourly
    rollups).
    """
    keys = _GROUP_FIELDS[group_by]
    if group_by is GroupBy.TAG and not tag_key:
        raise KpiQueryError("grouping by tag needs a tag key")
    where, params = _where(organization, filters)
    table = _rollup_model(filters, group_by, hourly=before_hour is not None)._meta.db_table
    dimension_where, dimension_params = _dimension_where(filters, group_by, tag_key)
    where += dimension_where
    params += dimension_params
    if before_hour is not None:
        where += " AND hour < %s"
        params.append(before_hour)
    key_columns = "".join(f"{key}, " for key in keys)
    sums = ", ".join(f"SUM({name})" for name in COUNT_FIELDS)
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    sql = f"SELECT 1, {key_columns}{sums}, NULL FROM {table} WHERE {where}{group}"
    # Ad spend is not attributed to buyers, regions or tags: a filter on one leaves it out.
    if filters.buyer_id is None and filters.region is None and filters.tag is None:
        ad_keys = [key if key in ("campaign_id", "publisher_id", "day") else None for key in keys]
        if group_by is GroupBy.HOUR_OF_WEEK:
            ad_keys = [None, None]
        # (By region or tag, the one key is NULL already: not a campaign, publisher or day.)
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

    def __add__(self, other: KpiGroups) -> KpiGroups:
        """The groups of two disjoint sets of rollup rows (whole days and a cut day)."""
        counts = dict(self.counts)
        for key, more in other.counts.items():
            counts[key] = counts[key] + more if key in counts else more
        return KpiGroups(
            counts=counts, totals=self.totals + other.totals, names=self.names | other.names
        )


def _grouped_counts(
    organization: Organization,
    filters: KpiFilter,
    group_by: GroupBy,
    tag_key: str | None = None,
) -> KpiGroups:
    """The rollup sums of the filter per group; a partial last day from the hourly rollups."""
    whole_days = replace(filters, until_hour=None)
    if not _cuts_hours(filters, group_by):
        return _read_counts(organization, whole_days, group_by, tag_key=tag_key)
    last_day = replace(whole_days, date_from=filters.date_to)
    groups = _read_counts(organization, last_day, group_by, before_hour=filters.until_hour)
    if filters.date_from < filters.date_to:
        before = replace(whole_days, date_to=filters.date_to - dt.timedelta(days=1))
        groups = _read_counts(organization, before, group_by) + groups
    return groups


def _cuts_hours(filters: KpiFilter, group_by: GroupBy) -> bool:
    return (
        filters.until_hour is not None
        and filters.until_hour < 24
        and _hourly_cut_possible(filters, group_by)
    )


def _read_counts(
    organization: Organization,
    filters: KpiFilter,
    group_by: GroupBy,
    before_hour: int | None = None,
    tag_key: str | None = None,
) -> KpiGroups:
    sql, params = _sums_sql(organization, filters, group_by, before_hour, tag_key)
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
            and (group_by in _AD_SPEND_NEVER_IN_ROWS or keys[-1] is None)
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
        elif group_by is GroupBy.REGION:
            key = keys[0] or None  # "": the calls that named no region
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
    group_by: GroupBy,
    keys: list[Any],
    names: dict[tuple[str, int], str],
    tag_key: str | None = None,
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
    if group_by in (GroupBy.REGION, GroupBy.TAG):
        missing = "No region" if group_by is GroupBy.REGION else f"No {tag_key} tag"
        return {
            k: AD_SPEND_NOT_ATTRIBUTED_LABEL
            if k == AD_SPEND_NOT_ATTRIBUTED
            else missing
            if k is None
            else str(k) or "(blank)"
            for k in keys
        }
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
        (2, 0)
        if part == AD_SPEND_NOT_ATTRIBUTED
        else (int(part is None), part if part is not None else 0)
        for part in parts
    )


def kpi_groups(
    organization: Organization,
    filters: KpiFilter,
    group_by: GroupBy,
    tag_key: str | None = None,
) -> KpiGroups:
    return _grouped_counts(organization, filters, group_by, tag_key)


def kpi_row(key: Any, label: str, counts: BaseCounts) -> KpiRow:
    kpis = kpis_from_counts(counts)
    if key == AD_SPEND_NOT_ATTRIBUTED or (
        isinstance(key, tuple) and key[-1] == AD_SPEND_NOT_ATTRIBUTED
    ):
        kpis = replace(kpis, roi=None)  # spend only: no calls, no rates
    return KpiRow(key=key, label=label, counts=counts, kpis=kpis)


def kpis_report(
    organization: Organization,
    filters: KpiFilter,
    group_by: GroupBy = GroupBy.NONE,
    tag_key: str | None = None,
) -> KpiReport:
    """KPIs of the filter, grouped; `tag_key` names the report tag of GroupBy.TAG."""
    groups = _grouped_counts(organization, filters, group_by, tag_key)
    totals = kpi_row(None, "Total", groups.totals)
    report = KpiReport(
        filters=filters,
        group_by=group_by,
        totals=totals,
        cut_at_hour=kpi_cut_at_hour(filters, group_by),
    )
    if group_by is GroupBy.NONE:
        return report
    keys = sorted(groups.counts, key=_sort_key)
    labels = _labels(group_by, keys, groups.names, tag_key)
    report.rows = [kpi_row(key, labels[key], groups.counts[key]) for key in keys]
    return report


def kpi_view_error(
    filters: KpiFilter, group_by: GroupBy = GroupBy.NONE, tag_key: str | None = None
) -> str | None:
    """Why the rollups cannot answer this filter and grouping (a 400), or None."""
    try:
        _rollup_model(filters, group_by)
        _dimension_where(filters, group_by, tag_key)
    except KpiQueryError as exc:
        return str(exc)
    return None


def report_tag_filter(text: str, report_keys: Sequence[str]) -> tuple[str, str]:
    """`key:value` (split at the first colon) as a tag filter of a report tag key.

    Raises KpiQueryError naming what is wrong: no colon, or a key that is not a report tag
    (only report tags are rolled up; the call log filters by any tag).
    """
    key, colon, value = text.partition(":")
    if not colon or not key:
        raise KpiQueryError(f"'{text}' is not a tag filter: write key:value, e.g. source:google.")
    if key not in report_keys:
        named = ", ".join(report_keys) if report_keys else "none yet"
        raise KpiQueryError(
            f"'{key}' is not a report tag (report tags: {named}; Settings -> Report tags)."
        )
    return key, value


def report_tag_keys(organization: Organization) -> list[str]:
    """The tenant's report tag keys (kpis.models.ReportTag), in their order."""
    return list(
        ReportTag.objects.for_organization(organization)
        .order_by("position")
        .values_list("key", flat=True)
    )


def recent_tag_keys(organization: Organization, calls: int = 1000) -> list[str]:
    """Tag keys of the tenant's latest calls, the most used first: hints for the settings."""
    counts: dict[str, int] = {}
    latest = Call.objects.for_organization(organization).order_by("-started_at")[:calls]
    for tags in latest.values_list("tags", flat=True):
        for key in tags or {}:
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda key: (-counts[key], key))


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


# --- Freshness ----------------------------------------------------------------------------

# KPIS.md: numbers more than this behind the writes are shown as stale, with the reason.
STALE_AFTER = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Freshness:
    """How far the rollups are behind the writes (KPIS.md "Periods, comparisons, freshness")."""

    as_of: dt.datetime  # every write before this instant is in the numbers
    pending_days: int  # local days whose rollups wait for a recomputation
    stale: bool  # more than STALE_AFTER behind
    reason: str  # why the numbers are behind ("" when they are not)

    @property
    def pending(self) -> bool:
        return self.pending_days > 0


def _elapsed(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def kpi_freshness(organization: Organization, now: dt.datetime | None = None) -> Freshness:
    """The time up to which writes are reflected, and whether a recomputation is pending.

    Writes mark their local days dirty in their own transaction (kpis.rollups); a refresh
    task recomputes them within seconds. A mark older than STALE_AFTER means no refresh has
    run: the numbers are stale, and the reason says so.
    """
    now = now or timezone.now()
    marks = DirtyDay.objects.for_organization(organization).aggregate(
        oldest=Min("pending_since"), days=Count("id")
    )
    if not marks["days"]:
        return Freshness(as_of=now, pending_days=0, stale=False, reason="")
    oldest: dt.datetime = marks["oldest"]
    behind = max(now - oldest, dt.timedelta(0))
    days = "1 day" if marks["days"] == 1 else f"{marks['days']:,} days"
    if behind > STALE_AFTER:
        reason = (
            f"{days} of calls have waited {_elapsed(behind)} for recomputation: the "
            "background worker that runs it may be down"
        )
        return Freshness(as_of=oldest, pending_days=marks["days"], stale=True, reason=reason)
    reason = f"recomputing {days} of calls written in the last {_elapsed(behind)}"
    return Freshness(as_of=oldest, pending_days=marks["days"], stale=False, reason=reason)
