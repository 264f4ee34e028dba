"""The repeat-caller flag of KPIS.md, kept on each call.

A call is a repeat when its caller number already called the same campaign within the
campaign's duplicate window (default 30 days) before it. The flag is derived when calls are
written (for the callers they touch) and re-derived in full by a rollup rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db import connection

from .models import Call, Campaign

DEFAULT_WINDOW_DAYS = 30


def _days_between_sql(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"
    return f"(julianday({later}) - julianday({earlier}))"


def repeat_flags_rederive(
    organization_id: int,
    *,
    callers: Collection[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dt.datetime]:
    """Recompute `is_repeat` for the tenant's calls (of these callers, in [since, until]).

    Returns the start times of the calls whose flag changed, so their days can be marked dirty.
    """
    if callers is not None and not callers:
        return []
    window = dt.timedelta(days=_max_window_days(organization_id))
    table = Call._meta.db_table
    params: list[object] = [organization_id]
    scope = "x.organization_id = %s AND x.caller_number <> ''"
    if callers is not None:
        scope += f" AND x.caller_number IN ({', '.join(['%s'] * len(callers))})"
        params += list(callers)
    if since is not None:
        # Earlier calls within the window decide whether the first calls in range repeat.
        scope += " AND x.started_at >= %s"
        params.append(_db_datetime(since - window))
    if until is not None:
        # Later calls within the window may stop (or start) being repeats.
        scope += " AND x.started_at <= %s"
        params.append(_db_datetime(until + window))
    previous = (
        "LAG(x.started_at) OVER (PARTITION BY x.campaign_id, x.caller_number "
        "ORDER BY x.started_at, x.id)"
    )
    derived = (
        "SELECT y.id, y.started_at, CASE WHEN y.prev IS NOT NULL AND "
        f"{_days_between_sql('y.started_at', 'y.prev')} <= "
        f"COALESCE(cp.duplicate_window_days, {DEFAULT_WINDOW_DAYS}) THEN TRUE ELSE FALSE END "
        f"AS flag FROM (SELECT x.id, x.started_at, x.campaign_id, {previous} AS prev "
        f"FROM {table} x WHERE {scope}) y LEFT JOIN calls_campaign cp ON cp.id = y.campaign_id"
    )
    update_scope = ""
    if since is not None:
        update_scope = " AND d.started_at >= %s"
        params.append(_db_datetime(since))
    sql = (
        f"UPDATE {table} SET is_repeat = d.flag FROM ({derived}) d "
        f"WHERE {table}.id = d.id AND {table}.is_repeat <> d.flag{update_scope} "
        f"RETURNING {table}.started_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed = [row[0] for row in cursor.fetchall()]
    if changed and isinstance(changed[0], str):  # SQLite returns text
        changed = [dt.datetime.fromisoformat(v).replace(tzinfo=dt.UTC) for v in changed]
    return changed


def _db_datetime(value: dt.datetime) -> object:
    # Raw SQL gets what the ORM would send: on SQLite, naive UTC text that compares as stored.
    return connection.ops.adapt_datetimefield_value(value)


def _max_window_days(organization_id: int) -> int:
    windows = Campaign.objects.for_organization(organization_id).values_list(
        "duplicate_window_days", flat=True
    )
    return max([DEFAULT_WINDOW_DAYS, *windows])
