"""Idempotent recompute of a tenant's rollups from the raw calls.

Writers call `rollups_mark_dirty(organization_id, days)` in the transaction that changes
calls; `rollups_refresh(organization_id)` recomputes exactly the dirty days (delete + insert of
their rollup rows, set-based SQL) and clears the marks it handled. Running it twice or
concurrently gives the same rows; a refresh killed halfway rolls back and leaves its marks, so
the next run repairs it. `rollups_rebuild` recomputes everything (or everything since a day).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import Max, Min, Q, Sum
from django.utils import timezone

from calls.models import Call, CallStatus
from ppc_dashboard.celery import task_enqueue
from ppc_dashboard.db import db_datetime
from ppc_dashboard.tenancy.models import Organization

from .metrics import DURATION_BUCKET_EDGES, SHORT_CALL_SECONDS
from .models import (
    CallRollupDaily,
    CallRollupDailyCampaign,
    CallRollupDailyCampaignPublisher,
    CallRollupDailyRegion,
    CallRollupDailyRegionCampaign,
    CallRollupDailyTag,
    CallRollupHourly,
    CallRollupHourlyCampaign,
    DirtyDay,
    DurationBucketDaily,
    ReportTag,
)
from .spikes import days_judged_after, spikes_rejudge
from .sql import recompute_execute
from .verdicts import SPIKE_HISTORY_DAYS

DEFAULT_QUALIFYING_SECONDS = 90
REFRESH_DEBOUNCE_SECONDS = 1
# The refresh task's name: rollups enqueue it by name (kpis.tasks imports this module).
ROLLUPS_REFRESH_TASK = "kpis.tasks.rollups_refresh_task"
T = TypeVar("T")
logger = logging.getLogger(__name__)


def local_day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a local day starts and the next one starts (DST-aware)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end.astimezone(dt.UTC)


def local_days_of(instants: Iterable[dt.datetime], tz: zoneinfo.ZoneInfo) -> set[dt.date]:
    return {instant.astimezone(tz).date() for instant in instants}


# --- marking -------------------------------------------------------------------------------


def rollups_mark_dirty(
    organization_id: int, days: Iterable[dt.date], *, schedule: bool = True
) -> None:
    """Mark local days for recompute (in the caller's transaction) and schedule a refresh."""
    days = sorted(set(days))
    if not days:
        return
    table = DirtyDay._meta.db_table
    rows = ", ".join(["(%s, %s, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"] * len(days))
    params: list[object] = []
    for day in days:
        params += [organization_id, day]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, day, version, marked_at, pending_since) "
            f"VALUES {rows} ON CONFLICT (organization_id, day) DO UPDATE "
            # A mark on a pending day keeps its pending_since: the older write is still out.
            f"SET version = {table}.version + 1, marked_at = CURRENT_TIMESTAMP",
            params,
        )
    if schedule:
        transaction.on_commit(lambda: rollups_schedule_refresh(organization_id))


def rollups_mark_calls_changed(
    organization: Organization, instants: Iterable[dt.datetime], *, schedule: bool = True
) -> None:
    """Mark the local days of these call start times (old and new) dirty; without `schedule`
    the writer asks for the refresh itself when it is done (an import, once at its end)."""
    rollups_mark_dirty(
        organization.pk, local_days_of(instants, organization.tzinfo), schedule=schedule
    )


def rollups_mark_campaign_history(campaign) -> None:
    """Mark every day with calls of the campaign dirty (found in the rollups, not the calls)."""
    days = (
        CallRollupDailyCampaign.objects.for_organization(campaign.organization_id)
        .filter(campaign_id=campaign.pk)
        .values_list("day", flat=True)
        .distinct()
    )
    rollups_mark_dirty(campaign.organization_id, list(days))


def _debounce_key(organization_id: int) -> str:
    return f"rollups-refresh-scheduled:{organization_id}"


def rollups_schedule_refresh(organization_id: int) -> None:
    """Enqueue one refresh per tenant per debounce window, however many writes come in.

    With the cache (Redis) down the refresh is enqueued without the debounce, and with the
    broker down too it is left to beat's every-minute safety net: the marks are in the
    database either way.
    """
    try:
        first = cache.add(_debounce_key(organization_id), 1, timeout=REFRESH_DEBOUNCE_SECONDS * 5)
    except Exception:
        logger.warning("refresh debounce unavailable (cache down) for %s", organization_id)
        first = True
    if first:
        task_enqueue(ROLLUPS_REFRESH_TASK, organization_id, countdown=REFRESH_DEBOUNCE_SECONDS)


def rollups_refresh_started(organization_id: int) -> None:
    # Writes from now on schedule a new refresh; this one may or may not see them.
    try:
        cache.delete(_debounce_key(organization_id))
    except Exception:
        logger.warning("refresh debounce unavailable (cache down) for %s", organization_id)


# --- recompute -----------------------------------------------------------------------------


def _local_expressions(tz_param: str) -> tuple[str, str]:
    """SQL for the local date and hour of c.started_at in the tenant's zone."""
    if connection.vendor == "postgresql":
        # The session's TimeZone is the tenant's (see recompute_session): a plain cast is
        # about twice as fast as AT TIME ZONE with a zone name, which parses it on every row.
        return ("c.started_at::date", "EXTRACT(HOUR FROM c.started_at)::int")
    # SQLite: functions registered in kpis.apps (Python's zoneinfo does the conversion).
    return (
        f"ppc_local_date(c.started_at, {tz_param})",
        f"ppc_local_hour(c.started_at, {tz_param})",
    )


def _bucket_case() -> str:
    parts = " ".join(
        f"WHEN c.duration_seconds < {edge} THEN {index - 1}"
        for index, edge in enumerate(DURATION_BUCKET_EDGES)
        if index > 0
    )
    return f"CASE {parts} ELSE {len(DURATION_BUCKET_EDGES) - 1} END"


def _count_sums() -> list[str]:
    """The sums of COUNT_COLUMNS over calls `c` (joined to their campaign `cp`), in order.

    Counts are COUNT(*) FILTER: a call the filter leaves out skips the aggregate's step
    (each of the recompute's grouping sets takes one per call), about 3% of a recompute's CPU
    against SUM(CASE ... THEN 1 ELSE 0 END). Groups are never empty, so 0 stays 0.
    """
    answered = f"c.status = '{CallStatus.ANSWERED}'"
    sums = [
        "COUNT(*)",
        f"COUNT(*) FILTER (WHERE {answered})",
        f"COUNT(*) FILTER (WHERE c.status = '{CallStatus.MISSED}')",
        f"COUNT(*) FILTER (WHERE c.status = '{CallStatus.NO_BUYER}')",
        f"COUNT(*) FILTER (WHERE c.status = '{CallStatus.ABANDONED}')",
        f"COUNT(*) FILTER (WHERE c.status = '{CallStatus.FAILED}')",
        f"COUNT(*) FILTER (WHERE {answered} AND c.duration_seconds >= "
        f"COALESCE(cp.qualifying_seconds, {DEFAULT_QUALIFYING_SECONDS}))",
        "COUNT(*) FILTER (WHERE c.converted)",
        f"SUM(CASE WHEN {answered} THEN c.duration_seconds ELSE 0 END)",
        f"SUM({MONEY_EXPRESSIONS['revenue']})",
        f"SUM({MONEY_EXPRESSIONS['cost']})",
        "COUNT(*) FILTER (WHERE c.is_repeat)",
        f"COUNT(*) FILTER (WHERE {answered} AND c.duration_seconds < {SHORT_CALL_SECONDS})",
        "COUNT(*) FILTER (WHERE c.followup_at IS NOT NULL)",
        "COUNT(*) FILTER (WHERE c.recovered_at IS NOT NULL)",
        f"SUM({MONEY_EXPRESSIONS['recovered_revenue']})",
    ]
    return sums


def _counts_sql() -> str:
    return ", ".join(_count_sums())


# Money in the PostgreSQL recompute: calls_call's numeric(14,4) as whole ten-thousandths.
MONEY_UNITS_PER_UNIT = 10_000
# The money each rollup column sums from a call. Recovered revenue is revenue (README
# "Follow-ups"), and counted apart as well.
MONEY_EXPRESSIONS = {
    "revenue": "c.revenue + c.recovered_revenue",
    "cost": "c.cost",
    "recovered_revenue": "c.recovered_revenue",
}
MONEY_COLUMNS = tuple(MONEY_EXPRESSIONS)
# Sums that stay bigint: a day's talk seconds may pass int4 where its call counts cannot.
WIDE_COUNT_COLUMNS = ("talk_seconds",)


def _group_sums_sql() -> str:
    """_counts_sql's sums typed for the PostgreSQL recompute's in-memory groups (aliased).

    Counts as int4 and money as int8 ten-thousandths, both exact: the coarser grains summed
    from these groups then accumulate plain integers (SUM(int4) keeps a by-value int8)
    instead of numeric states, and so does the scan's money (SUM(int8) over int128). A
    15-day recompute of 196,820 calls: 1.16 s -> 0.97 s of backend CPU. Inserts turn money
    back with _money_sql.
    """
    sums = []
    for sql, name in zip(_count_sums(), COUNT_COLUMNS.split(", "), strict=True):
        if name in MONEY_COLUMNS:
            sql = f"SUM((({MONEY_EXPRESSIONS[name]}) * {MONEY_UNITS_PER_UNIT})::int8)::int8"
        elif name not in WIDE_COUNT_COLUMNS:
            sql = f"({sql})::int"
        sums.append(f"{sql} AS {name}")
    return ", ".join(sums)


def _money_sql() -> str:
    """COUNT_COLUMNS as an insert selects them from groups that hold money in units."""
    return ", ".join(
        f"{name} * {Decimal(1) / MONEY_UNITS_PER_UNIT}" if name in MONEY_COLUMNS else name
        for name in COUNT_COLUMNS.split(", ")
    )


COUNT_COLUMNS = (
    "calls, answered, missed, no_buyer, abandoned, failed, qualified, conversions, "
    "talk_seconds, revenue, cost, repeat_calls, short_calls, followups, recovered, "
    "recovered_revenue"
)
# The columns of calls_call `c` that _counts_sql reads, and the rollup keys.
CALL_COLUMNS_COUNTED = ", ".join(
    f"c.{name}"
    for name in (
        "campaign_id",
        "publisher_id",
        "buyer_id",
        "status",
        "duration_seconds",
        "converted",
        "revenue",
        "cost",
        "is_repeat",
        "caller_region",
        "followup_at",
        "recovered_at",
        "recovered_revenue",
    )
)


# The rollups a recompute deletes and inserts for its days (the spikes are judged apart).
RECOMPUTED_ROLLUPS = (
    CallRollupDaily,
    CallRollupDailyCampaignPublisher,
    CallRollupDailyCampaign,
    CallRollupHourly,
    CallRollupHourlyCampaign,
    DurationBucketDaily,
    CallRollupDailyRegion,
    CallRollupDailyRegionCampaign,
    CallRollupDailyTag,
)


def _recompute(
    organization: Organization,
    days: list[dt.date] | None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> None:
    """Delete and re-insert the rollup rows of `days`, or of the days in [since, until]."""
    tz = organization.tzinfo
    local_date, local_hour = _local_expressions("%(tz)s")
    params: dict[str, object] = {"org": organization.pk, "tz": organization.timezone}
    tag_keys = list(ReportTag.objects.for_organization(organization).values_list("key", flat=True))
    call_filter = "c.organization_id = %(org)s"
    rollup_filter = "organization_id = %(org)s"
    if days is not None:
        # A UTC range narrows the scan to the index; the local date picks the exact days.
        params["lo"] = db_datetime(local_day_bounds(min(days), tz)[0])
        params["hi"] = db_datetime(local_day_bounds(max(days), tz)[1])
        day_list = ", ".join(f"%(d{i})s" for i in range(len(days)))
        params.update({f"d{i}": day for i, day in enumerate(days)})
        call_filter += " AND c.started_at >= %(lo)s AND c.started_at < %(hi)s"
        call_filter += f" AND {local_date} IN ({day_list})"
        rollup_filter += f" AND day IN ({day_list})"
    else:
        if since is not None:
            params["lo"] = db_datetime(local_day_bounds(since, tz)[0])
            params["since"] = since
            # The UTC instant where the local day starts: exact, and no conversion per call.
            call_filter += " AND c.started_at >= %(lo)s"
            rollup_filter += " AND day >= %(since)s"
        if until is not None:
            params["hi"] = db_datetime(local_day_bounds(until, tz)[1])
            params["until"] = until
            call_filter += " AND c.started_at < %(hi)s"
            rollup_filter += " AND day <= %(until)s"
    statements = [
        *(
            f"DELETE FROM {model._meta.db_table} WHERE {rollup_filter}"
            for model in RECOMPUTED_ROLLUPS
        ),
        *_call_rollups_insert_sql(call_filter, rollup_filter, local_date, local_hour),
        f"INSERT INTO {DurationBucketDaily._meta.db_table} (organization_id, day, campaign_id, "
        f"publisher_id, bucket, answered, conversions) SELECT %(org)s, {local_date}, "
        f"c.campaign_id, c.publisher_id, {_bucket_case()}, COUNT(*), "
        "SUM(CASE WHEN c.converted THEN 1 ELSE 0 END) FROM calls_call c "
        f"WHERE {call_filter} AND c.status = '{CallStatus.ANSWERED}' "
        f"GROUP BY {local_date}, c.campaign_id, c.publisher_id, {_bucket_case()}",
    ]
    if tag_keys:
        params.update({f"tk{i}": key for i, key in enumerate(tag_keys)})
        statements.append(_tag_rollup_insert_sql(call_filter, local_date, len(tag_keys)))
    recompute_execute(organization, statements, params)


def _tag_value_sql(tags: str, key: str) -> str:
    """SQL for the text of tag `key` in the JSON object `tags`; NULL when there is none.

    Numbers and booleans read as the text they spell ("5", "true"), as PostgreSQL's `->>`
    writes them, so a tag posted as 5 or "5" is one value, as the call log's filter has it.
    """
    if connection.vendor == "postgresql":
        return f"{tags} ->> {key}"
    path = f"'$.\"' || {key} || '\"'"
    return (
        f"CASE json_type({tags}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({tags}, {path}) AS TEXT) END"
    )


def _tag_rollup_insert_sql(call_filter: str, local_date: str, key_count: int) -> str:
    """Insert the tag rollup rows of the calls that match `call_filter`: each call once under
    each report tag key (params tk0, tk1, ...), NULL as the value of a call without it."""
    keys = " UNION ALL ".join(
        f"SELECT CAST(%(tk{i})s AS TEXT) AS tag_key" for i in range(key_count)
    )
    value = _tag_value_sql("c.tags", "k.tag_key")
    group = f"{local_date}, c.campaign_id, c.publisher_id, k.tag_key, {value}"
    return (
        f"INSERT INTO {CallRollupDailyTag._meta.db_table} (organization_id, day, campaign_id, "
        f"publisher_id, tag_key, tag_value, {COUNT_COLUMNS}) SELECT %(org)s, {group}, "
        f"{_counts_sql()} FROM calls_call c CROSS JOIN ({keys}) k "
        f"LEFT JOIN calls_campaign cp ON cp.id = c.campaign_id WHERE {call_filter} "
        f"GROUP BY {group}"
    )


def _call_rollups_insert_sql(
    call_filter: str, rollup_filter: str, local_date: str, local_hour: str
) -> list[str]:
    """Statements that insert the call rollup rows of every grain but the buckets, from
    the calls that match `call_filter`, into rollups emptied where `rollup_filter` holds.

    Hours are wall-clock hours: the hour a DST change repeats is one row, as in the
    hour-of-week views.
    """
    daily = CallRollupDaily._meta.db_table
    by_campaign_publisher = CallRollupDailyCampaignPublisher._meta.db_table
    by_campaign = CallRollupDailyCampaign._meta.db_table
    hourly = CallRollupHourly._meta.db_table
    hourly_by_campaign = CallRollupHourlyCampaign._meta.db_table
    daily_keys = ["day", "campaign_id", "publisher_id", "buyer_id"]
    hourly_keys = ["day", "hour", "campaign_id", "publisher_id"]
    by_campaign_publisher_keys = ["day", "campaign_id", "publisher_id"]
    by_campaign_keys = ["day", "campaign_id"]
    hourly_by_campaign_keys = ["day", "hour", "campaign_id"]
    by_region = CallRollupDailyRegion._meta.db_table
    region_keys = ["day", "campaign_id", "publisher_id", "region"]
    by_region_campaign = CallRollupDailyRegionCampaign._meta.db_table
    region_campaign_keys = ["day", "campaign_id", "region"]
    if connection.vendor != "postgresql":
        joined = "calls_call c LEFT JOIN calls_campaign cp ON cp.id = c.campaign_id"
        daily_group = f"{local_date}, c.campaign_id, c.publisher_id, c.buyer_id"
        hourly_group = f"{local_date}, {local_hour}, c.campaign_id, c.publisher_id"
        region_group = f"{local_date}, c.campaign_id, c.publisher_id, c.caller_region"
        return [
            f"INSERT INTO {daily} (organization_id, {', '.join(daily_keys)}, {COUNT_COLUMNS}) "
            f"SELECT %(org)s, {daily_group}, {_counts_sql()} FROM {joined} "
            f"WHERE {call_filter} GROUP BY {daily_group}",
            f"INSERT INTO {by_region} (organization_id, {', '.join(region_keys)}, "
            f"{COUNT_COLUMNS}) SELECT %(org)s, {region_group}, {_counts_sql()} FROM {joined} "
            f"WHERE {call_filter} GROUP BY {region_group}",
            f"INSERT INTO {hourly} (organization_id, {', '.join(hourly_keys)}, "
            f"{COUNT_COLUMNS}) SELECT %(org)s, {hourly_group}, {_counts_sql()} FROM {joined} "
            f"WHERE {call_filter} GROUP BY {hourly_group}",
            # The coarser grains are sums of the finer rows, not another scan of the calls.
            *(
                _rollup_insert_sql(
                    target, keys, f"(SELECT * FROM {finer} WHERE {rollup_filter})", summed=True
                )
                for target, keys, finer in (
                    (by_campaign_publisher, by_campaign_publisher_keys, daily),
                    (by_region_campaign, region_campaign_keys, by_region),
                    (by_campaign, by_campaign_keys, by_campaign_publisher),
                    (hourly_by_campaign, hourly_by_campaign_keys, hourly),
                )
            ),
        ]
    # One statement: one pass over the calls feeds the daily and the hourly grain (grouping
    # sets, a hash table each), so the per-call expressions are evaluated once; the coarser
    # grains are summed from those groups in memory. OFFSET 0 computes the local time once
    # per call instead of once per key that uses it.
    # The grain of a group, from GROUPING(hour, region)'s bits (1: that key is not grouped):
    # 3 daily (day x campaign x publisher x buyer), 1 hourly, 2 by caller region.
    hour_start = "date_trunc('hour', c.local_at)"
    groups = (
        f"SELECT GROUPING({hour_start}, c.caller_region) AS grain, "
        f"COALESCE(c.local_at::date, {hour_start}::date) AS day, "
        f"EXTRACT(HOUR FROM {hour_start})::int AS hour, c.campaign_id, c.publisher_id, "
        f"c.buyer_id, c.caller_region AS region, {_group_sums_sql()} FROM "
        f"(SELECT {CALL_COLUMNS_COUNTED}, "
        f"c.started_at::timestamp AS local_at FROM calls_call c WHERE {call_filter} "
        "OFFSET 0) c LEFT JOIN calls_campaign cp ON cp.id = c.campaign_id "
        f"GROUP BY GROUPING SETS ((c.local_at::date, c.campaign_id, c.publisher_id, "
        f"c.buyer_id), ({hour_start}, c.campaign_id, c.publisher_id), "
        "(c.local_at::date, c.campaign_id, c.publisher_id, c.caller_region))"
    )
    daily_groups = "(SELECT * FROM grouped WHERE grain = 3)"
    hourly_groups = "(SELECT * FROM grouped WHERE grain = 1)"
    region_groups = "(SELECT * FROM grouped WHERE grain = 2)"
    insert = partial(_rollup_insert_sql, money_units=True)
    inserts = {
        "daily_rows": insert(daily, daily_keys, daily_groups),
        "region_rows": insert(by_region, region_keys, region_groups),
        "region_campaign_rows": insert(
            by_region_campaign, region_campaign_keys, region_groups, summed=True
        ),
        "by_campaign_publisher_rows": insert(
            by_campaign_publisher, by_campaign_publisher_keys, "by_campaign_publisher"
        ),
        "by_campaign_rows": insert(
            by_campaign, by_campaign_keys, "by_campaign_publisher", summed=True
        ),
        "hourly_by_campaign_rows": insert(
            hourly_by_campaign, hourly_by_campaign_keys, hourly_groups, summed=True
        ),
    }
    return [
        f"WITH grouped AS MATERIALIZED ({groups}), by_campaign_publisher AS "
        f"({_rollup_sums_sql(daily_groups, by_campaign_publisher_keys)}), "
        + ", ".join(f"{name} AS ({sql})" for name, sql in inserts.items())
        + " "
        + insert(hourly, hourly_keys, hourly_groups)
    ]


def _rollup_sums_sql(source: str, keys: list[str]) -> str:
    """The count columns of `source` rows summed by `keys` (a coarser grain)."""
    columns = ", ".join(keys)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in COUNT_COLUMNS.split(", "))
    return f"SELECT {columns}, {sums} FROM {source} s GROUP BY {columns}"


def _rollup_insert_sql(
    target: str, keys: list[str], source: str, *, summed: bool = False, money_units: bool = False
) -> str:
    """Insert the tenant's rows of `source` (keys and counts; `summed`: by `keys`;
    `money_units`: its money in ten-thousandths, as _group_sums_sql has it)."""
    columns = ", ".join(keys)
    select = (
        _rollup_sums_sql(source, keys)
        if summed
        else f"SELECT {columns}, {COUNT_COLUMNS} FROM {source} s"
    )
    counts = _money_sql() if money_units else COUNT_COLUMNS
    return (
        f"INSERT INTO {target} (organization_id, {columns}, {COUNT_COLUMNS}) "
        f"SELECT %(org)s, {columns}, {counts} FROM ({select}) t"
    )


# Advisory lock namespaces (PostgreSQL), apart from any other advisory lock user. 7301: one
# tenant's rollup rows (recomputes of a full rebuild share it, since their days are
# disjoint; a refresh or single-transaction rebuild takes it alone). 7302: a full rebuild.
RECOMPUTE_LOCK = 7301
FULL_REBUILD_LOCK = 7302


def _lock_organization(organization_id: int, *, shared: bool = False) -> None:
    """Serialize recomputes of one tenant's rollups (PostgreSQL; SQLite locks the file)."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [RECOMPUTE_LOCK, organization_id])


def _full_rebuild_running(organization_id: int) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock_shared(%s, %s)", [FULL_REBUILD_LOCK, organization_id]
        )
        return not cursor.fetchone()[0]


def _clear_marks(
    organization_id: int, marks: list[tuple[dt.date, int]], recompute_started: dt.datetime
) -> None:
    """Delete the dirty marks recomputed; a write that bumped a version keeps its mark, now
    pending only since the recompute started (what was written before is in the rollups)."""
    if marks:
        matching = Q()
        for day, version in marks:
            matching |= Q(day=day, version=version)
        dirty = DirtyDay.objects.for_organization(organization_id)
        dirty.filter(matching).delete()
        dirty.filter(day__in=[day for day, _ in marks]).update(pending_since=recompute_started)


def rollups_refresh(organization_id: int) -> int:
    """Recompute the tenant's dirty days; returns how many days were recomputed."""
    organization = Organization.objects.get(pk=organization_id)
    started = timezone.now()
    with transaction.atomic():
        if _full_rebuild_running(organization_id):
            return 0  # it recomputes every marked day, and schedules a refresh when done
        _lock_organization(organization_id)
        dirty = list(
            DirtyDay.objects.for_organization(organization_id).values_list("day", "version")
        )
        if not dirty:
            return 0
        days = sorted(day for day, _ in dirty)
        _recompute(organization, days)
        spikes_rejudge(organization, days=days_judged_after(days))
        _clear_marks(organization_id, dirty, started)
    return len(dirty)


def _rebuild_range(
    organization: Organization, since: dt.date | None, until: dt.date | None, *, chunk: bool
) -> int:
    """One transaction: recompute the days in [since, until]; returns their calls.

    A `chunk` of a full rebuild leaves the spikes and the dirty marks to the full rebuild,
    which does them once every chunk is in.
    """
    started = timezone.now()
    with transaction.atomic():
        _lock_organization(organization.pk, shared=chunk)
        rows = CallRollupDailyCampaign.objects.for_organization(organization)
        marks = DirtyDay.objects.for_organization(organization)
        if since is not None:
            marks, rows = marks.filter(day__gte=since), rows.filter(day__gte=since)
        if until is not None:
            marks, rows = marks.filter(day__lte=until), rows.filter(day__lte=until)
        marked = [] if chunk else list(marks.values_list("day", "version"))
        _recompute(organization, days=None, since=since, until=until)
        if not chunk:
            after = until + dt.timedelta(days=SPIKE_HISTORY_DAYS) if until else None
            spikes_rejudge(organization, since=since, until=after)
            _clear_marks(organization.pk, marked, started)
        return rows.aggregate(calls=Sum("calls"))["calls"] or 0


def rollups_rebuild(
    organization: Organization, since: dt.date | None = None, until: dt.date | None = None
) -> int:
    """Recompute the tenant's rollups of local days in [since, until] (open ends: all), in
    one transaction; returns the calls of those days. `rollups_rebuild_full` is the fast
    way to rebuild a large tenant."""
    return _rebuild_range(organization, since, until, chunk=False)


# --- full rebuild --------------------------------------------------------------------------


def _run_in_parallel(tasks: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Run the tasks on up to `workers` threads, each with its own database connection.

    PostgreSQL only, and only outside a transaction (threads could not see its rows):
    otherwise they run one after the other on this connection.
    """
    if workers <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return [task() for task in tasks]

    def run(task: Callable[[], T]) -> T:
        try:
            return task()
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, tasks))


def _day_span(organization: Organization, since: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The first and last local day with calls or rollup rows (from `since`)."""
    calls = Call.objects.for_organization(organization)
    rows = CallRollupDailyCampaign.objects.for_organization(organization)
    if since is not None:
        calls = calls.filter(started_at__gte=local_day_bounds(since, organization.tzinfo)[0])
        rows = rows.filter(day__gte=since)
    instants = calls.aggregate(first=Min("started_at"), last=Max("started_at"))
    days = rows.aggregate(first=Min("day"), last=Max("day"))
    tz = organization.tzinfo
    firsts = [d for d in (days["first"], instants["first"]) if d is not None]
    lasts = [d for d in (days["last"], instants["last"]) if d is not None]
    firsts = [_local_day(d, tz) if isinstance(d, dt.datetime) else d for d in firsts]
    lasts = [_local_day(d, tz) if isinstance(d, dt.datetime) else d for d in lasts]
    if not firsts:
        return None
    # Days outside the span hold neither calls nor rows: nothing to recompute there.
    return min(firsts), max(lasts)


def _days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _local_day(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def _day_chunks(first: dt.date, last: dt.date, workers: int) -> list[tuple[dt.date, dt.date]]:
    # A few chunks per worker keep both busy to the end; a month at most bounds the memory
    # of one recompute's aggregates.
    span = (last - first).days + 1
    size = max(1, min(31, math.ceil(span / (3 * workers))))
    chunks = []
    while first <= last:
        until = min(first + dt.timedelta(days=size - 1), last)
        chunks.append((first, until))
        first = until + dt.timedelta(days=1)
    return chunks


def rollups_rebuild_full(
    organization: Organization,
    since: dt.date | None = None,
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-derive the repeat flags, then recompute every rollup day (from `since`).

    Set-based SQL on `workers` connections at once (PostgreSQL,
    settings.ROLLUP_REBUILD_WORKERS): the repeat flags in shards of callers, the rollups in
    chunks of days, then the velocity spikes in shards of publishers. The days are marked
    dirty first and the marks cleared last: a rebuild killed halfway leaves every day to
    the refresh. Returns the number of calls rebuilt; `progress(calls)` is told after each
    chunk of days.
    """
    from calls.repeat_calls import repeat_flags_rederive

    workers = workers or settings.ROLLUP_REBUILD_WORKERS
    span = _day_span(organization, since)
    if span is None:
        return rollups_rebuild(organization, since=since)
    first, last = span
    parallel = workers > 1 and connection.vendor == "postgresql"
    shards = workers if parallel else 1
    with _full_rebuild_lock(organization.pk):
        rollups_mark_dirty(organization.pk, _days_between(first, last), schedule=False)
        marked = list(
            DirtyDay.objects.for_organization(organization)
            .filter(day__gte=first, day__lte=last)
            .values_list("day", "version")
        )
        started = timezone.now()
        since_instant = local_day_bounds(since, organization.tzinfo)[0] if since else None
        _run_in_parallel(
            [
                partial(
                    repeat_flags_rederive, organization.pk, since=since_instant, shard=(k, shards)
                )
                for k in range(shards)
            ],
            workers,
        )

        def chunk(since: dt.date, until: dt.date) -> int:
            calls = _rebuild_range(organization, since, until, chunk=True)
            if progress is not None:
                progress(calls)
            return calls

        chunks = _day_chunks(first, last, workers)
        total = sum(_run_in_parallel([partial(chunk, a, b) for a, b in chunks], workers))

        def spikes(shard: tuple[int, int]) -> None:
            # Once every chunk is in: a spike's history is the week before it, which may be
            # another chunk's. A publisher's spikes depend on its own hours only.
            with transaction.atomic():
                _lock_organization(organization.pk, shared=True)
                spikes_rejudge(organization, since=first, until=last, publishers=shard)

        # Publishers differ in volume: more shards than connections even out the load.
        spike_shards = 2 * shards if parallel else 1
        _run_in_parallel([partial(spikes, (k, spike_shards)) for k in range(spike_shards)], workers)
        with transaction.atomic():
            _clear_marks(organization.pk, marked, started)  # a write meanwhile keeps its mark
    if DirtyDay.objects.for_organization(organization).exists():
        rollups_schedule_refresh(organization.pk)  # writes that came in meanwhile
    return total


@contextmanager
def _full_rebuild_lock(organization_id: int) -> Iterator[None]:
    """One full rebuild per tenant at a time; refreshes leave their days to it meanwhile."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [FULL_REBUILD_LOCK, organization_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [FULL_REBUILD_LOCK, organization_id]
            )
