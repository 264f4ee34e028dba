"""Idempotent recompute of a tenant's rollups from the raw calls.

Writers call `rollups_mark_dirty(organization_id, days)` in the transaction that changes
calls; `rollups_refresh(organization_id)` recomputes exactly the dirty days (delete + insert of
their rollup rows, set-based SQL) and clears the marks it handled. Running it twice or
concurrently gives the same rows; a refresh killed halfway rolls back and leaves its marks, so
the next run repairs it. `rollups_rebuild` recomputes everything (or everything since a day).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction

from calls.models import CallStatus
from ppc_dashboard.tenancy.models import Organization

from .metrics import DURATION_BUCKET_EDGES, SHORT_CALL_SECONDS
from .models import CallRollupDaily, CallRollupHourly, DirtyDay, DurationBucketDaily

DEFAULT_QUALIFYING_SECONDS = 90
REFRESH_DEBOUNCE_SECONDS = 1


def local_day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a local day starts and the next one starts (DST-aware)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end.astimezone(dt.UTC)


def local_days_of(instants: Iterable[dt.datetime], tz: zoneinfo.ZoneInfo) -> set[dt.date]:
    return {instant.astimezone(tz).date() for instant in instants}


# --- marking -------------------------------------------------------------------------------


def rollups_mark_dirty(organization_id: int, days: Iterable[dt.date]) -> None:
    """Mark local days for recompute (in the caller's transaction) and schedule a refresh."""
    days = sorted(set(days))
    if not days:
        return
    table = DirtyDay._meta.db_table
    rows = ", ".join(["(%s, %s, 1, CURRENT_TIMESTAMP)"] * len(days))
    params: list[object] = []
    for day in days:
        params += [organization_id, day]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, day, version, marked_at) VALUES {rows} "
            f"ON CONFLICT (organization_id, day) DO UPDATE "
            f"SET version = {table}.version + 1, marked_at = CURRENT_TIMESTAMP",
            params,
        )
    transaction.on_commit(lambda: rollups_schedule_refresh(organization_id))


def rollups_mark_calls_changed(organization: Organization, instants: Iterable[dt.datetime]) -> None:
    """Mark the local days of these call start times (old and new) dirty."""
    rollups_mark_dirty(organization.pk, local_days_of(instants, organization.tzinfo))


def rollups_mark_campaign_history(campaign) -> None:
    """Mark every day with calls of the campaign dirty (found in the rollups, not the calls)."""
    days = (
        CallRollupDaily.objects.for_organization(campaign.organization_id)
        .filter(campaign_id=campaign.pk)
        .values_list("day", flat=True)
        .distinct()
    )
    rollups_mark_dirty(campaign.organization_id, list(days))


def _debounce_key(organization_id: int) -> str:
    return f"rollups-refresh-scheduled:{organization_id}"


def rollups_schedule_refresh(organization_id: int) -> None:
    """Enqueue one refresh per tenant per debounce window, however many writes come in."""
    from .tasks import rollups_refresh_task

    if cache.add(_debounce_key(organization_id), 1, timeout=REFRESH_DEBOUNCE_SECONDS * 5):
        rollups_refresh_task.apply_async((organization_id,), countdown=REFRESH_DEBOUNCE_SECONDS)


def rollups_refresh_started(organization_id: int) -> None:
    # Writes from now on schedule a new refresh; this one may or may not see them.
    cache.delete(_debounce_key(organization_id))


# --- recompute -----------------------------------------------------------------------------


def _local_expressions(tz_param: str) -> tuple[str, str]:
    """SQL for the local date and hour of c.started_at in the tenant's zone."""
    if connection.vendor == "postgresql":
        return (
            f"(c.started_at AT TIME ZONE {tz_param})::date",
            f"EXTRACT(HOUR FROM c.started_at AT TIME ZONE {tz_param})::int",
        )
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


def _counts_sql() -> str:
    answered = f"c.status = '{CallStatus.ANSWERED}'"
    return ", ".join(
        [
            "COUNT(*)",
            f"SUM(CASE WHEN {answered} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN c.status = '{CallStatus.MISSED}' THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN c.status = '{CallStatus.NO_BUYER}' THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN c.status = '{CallStatus.ABANDONED}' THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN c.status = '{CallStatus.FAILED}' THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {answered} AND c.duration_seconds >= "
            f"COALESCE(cp.qualifying_seconds, {DEFAULT_QUALIFYING_SECONDS}) THEN 1 ELSE 0 END)",
            "SUM(CASE WHEN c.converted THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {answered} THEN c.duration_seconds ELSE 0 END)",
            "SUM(c.revenue)",
            "SUM(c.cost)",
            "SUM(CASE WHEN c.is_repeat THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {answered} AND c.duration_seconds < {SHORT_CALL_SECONDS} "
            "THEN 1 ELSE 0 END)",
        ]
    )


COUNT_COLUMNS = (
    "calls, answered, missed, no_buyer, abandoned, failed, qualified, conversions, "
    "talk_seconds, revenue, cost, repeat_calls, short_calls"
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
    call_filter = "c.organization_id = %(org)s"
    rollup_filter = "organization_id = %(org)s"
    if days is not None:
        # A UTC range narrows the scan to the index; the local date picks the exact days.
        params["lo"] = _db_datetime(local_day_bounds(min(days), tz)[0])
        params["hi"] = _db_datetime(local_day_bounds(max(days), tz)[1])
        day_list = ", ".join(f"%(d{i})s" for i in range(len(days)))
        params.update({f"d{i}": day for i, day in enumerate(days)})
        call_filter += " AND c.started_at >= %(lo)s AND c.started_at < %(hi)s"
        call_filter += f" AND {local_date} IN ({day_list})"
        rollup_filter += f" AND day IN ({day_list})"
    else:
        if since is not None:
            params["lo"] = _db_datetime(local_day_bounds(since, tz)[0])
            params["since"] = since
            call_filter += f" AND c.started_at >= %(lo)s AND {local_date} >= %(since)s"
            rollup_filter += " AND day >= %(since)s"
        if until is not None:
            params["hi"] = _db_datetime(local_day_bounds(until, tz)[1])
            params["until"] = until
            call_filter += f" AND c.started_at < %(hi)s AND {local_date} <= %(until)s"
            rollup_filter += " AND day <= %(until)s"
    source = (
        "FROM calls_call c LEFT JOIN calls_campaign cp ON cp.id = c.campaign_id "
        f"WHERE {call_filter}"
    )
    daily = CallRollupDaily._meta.db_table
    hourly = CallRollupHourly._meta.db_table
    buckets = DurationBucketDaily._meta.db_table
    statements = [
        f"DELETE FROM {daily} WHERE {rollup_filter}",
        f"DELETE FROM {hourly} WHERE {rollup_filter}",
        f"DELETE FROM {buckets} WHERE {rollup_filter}",
        f"INSERT INTO {daily} (organization_id, day, campaign_id, publisher_id, buyer_id, "
        f"{COUNT_COLUMNS}) SELECT %(org)s, {local_date}, c.campaign_id, c.publisher_id, "
        f"c.buyer_id, {_counts_sql()} {source} "
        f"GROUP BY {local_date}, c.campaign_id, c.publisher_id, c.buyer_id",
        f"INSERT INTO {hourly} (organization_id, day, hour, campaign_id, publisher_id, "
        f"{COUNT_COLUMNS}) SELECT %(org)s, {local_date}, {local_hour}, c.campaign_id, "
        f"c.publisher_id, {_counts_sql()} {source} "
        f"GROUP BY {local_date}, {local_hour}, c.campaign_id, c.publisher_id",
        f"INSERT INTO {buckets} (organization_id, day, campaign_id, publisher_id, bucket, "
        f"answered, conversions) SELECT %(org)s, {local_date}, c.campaign_id, c.publisher_id, "
        f"{_bucket_case()}, COUNT(*), SUM(CASE WHEN c.converted THEN 1 ELSE 0 END) {source} "
        f"AND c.status = '{CallStatus.ANSWERED}' "
        f"GROUP BY {local_date}, c.campaign_id, c.publisher_id, {_bucket_case()}",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)


def _db_datetime(value: dt.datetime) -> object:
    # Raw SQL gets what the ORM would send: on SQLite, naive UTC text that compares as stored.
    return connection.ops.adapt_datetimefield_value(value)


def _lock_organization(organization_id: int) -> None:
    """Serialize refreshes and rebuilds of one tenant (PostgreSQL; SQLite locks the file)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Namespace 7301 keeps these locks apart from any other advisory lock user.
            cursor.execute("SELECT pg_advisory_xact_lock(7301, %s)", [organization_id])


def rollups_refresh(organization_id: int) -> int:
    """Recompute the tenant's dirty days; returns how many days were recomputed."""
    organization = Organization.objects.get(pk=organization_id)
    with transaction.atomic():
        _lock_organization(organization_id)
        dirty = list(
            DirtyDay.objects.for_organization(organization_id).values_list("day", "version")
        )
        if not dirty:
            return 0
        _recompute(organization, sorted(day for day, _ in dirty))
        for day, version in dirty:
            # A write that bumped the version meanwhile keeps its mark for the next run.
            DirtyDay.objects.for_organization(organization_id).filter(
                day=day, version=version
            ).delete()
    return len(dirty)


def rollups_rebuild(
    organization: Organization, since: dt.date | None = None, until: dt.date | None = None
) -> None:
    """Recompute the tenant's rollups of local days in [since, until] (open ends: all)."""
    with transaction.atomic():
        _lock_organization(organization.pk)
        _recompute(organization, days=None, since=since, until=until)
        dirty = DirtyDay.objects.for_organization(organization)
        if since is not None:
            dirty = dirty.filter(day__gte=since)
        if until is not None:
            dirty = dirty.filter(day__lte=until)
        dirty.delete()
