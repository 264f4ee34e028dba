"""Velocity spikes (KPIS.md), judged when hourly rollups change and read by the verdicts.

A spike hour of a publisher depends on its calls in that hour and in the same hour of the
7 days before. So whenever the hourly rollups of some days are recomputed, the spikes of
those days and of the 7 after them are judged again (`spikes_rejudge`, in the recompute's
transaction) from the hourly rollups, in SQL, by the rule of kpis.verdicts.is_velocity_spike.
Only spike hours are stored: the verdicts read a handful of rows instead of every
publisher's hours of the month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection

from ppc_dashboard.tenancy.models import Organization

from .models import CallRollupHourly, VelocitySpike
from .sql import recompute_execute
from .verdicts import SPIKE_HISTORY_DAYS, SPIKE_MIN_CALLS, SPIKE_MULTIPLIER, Spike


def days_judged_after(days: list[dt.date]) -> list[dt.date]:
    """The days whose spikes a change to `days` can change: each, and the week after it."""
    judged = {day + dt.timedelta(days=n) for day in days for n in range(SPIKE_HISTORY_DAYS + 1)}
    return sorted(judged)


def spikes_rejudge(
    organization: Organization,
    *,
    days: list[dt.date] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    publishers: tuple[int, int] = (0, 1),
) -> None:
    """Judge again the spikes of `days`, or of the days in [since, until] (open ends: all).

    `publishers=(k, n)` judges the k-th of n disjoint sets of publishers (PostgreSQL), so
    that n connections can share the work. Reads the hourly rollups as they are in the
    caller's transaction; run it after they are.
    """
    params: dict[str, object] = {"org": organization.pk}
    if days is not None:
        if not days:
            return
        params.update({f"d{i}": day for i, day in enumerate(days)})
        first, last = min(days), max(days)
    else:
        first, last = since, until
    params["judge_from"], params["judge_to"] = first, last

    def judged(column: str) -> str:
        if days is not None:
            return f"{column} IN ({', '.join(f'%(d{i})s' for i in range(len(days)))})"
        bounds = ["1 = 1"]
        if first is not None:
            bounds.append(f"{column} >= %(judge_from)s")
        if last is not None:
            bounds.append(f"{column} <= %(judge_to)s")
        return " AND ".join(bounds)

    history = "organization_id = %(org)s AND publisher_id IS NOT NULL"
    shard, shards = publishers
    of_shard = ""
    if shards > 1:
        of_shard = f" AND MOD(publisher_id, {int(shards)}) = {int(shard)}"
        history += of_shard
    if first is not None:
        params["history_from"] = first - dt.timedelta(days=SPIKE_HISTORY_DAYS)
        history += " AND day >= %(history_from)s"
    if last is not None:
        history += " AND day <= %(judge_to)s"
    hourly = CallRollupHourly._meta.db_table
    spikes = VelocitySpike._meta.db_table
    # Per publisher and hour: its calls to each campaign (scope: the campaign's id; an
    # hourly row is one campaign's hour), and to all of them (scope 0, stored as campaign
    # NULL).
    # Only the series (publisher, scope, hour of day) with an hour of enough calls can
    # hold a spike: the window runs over those (a third of the series, half of the rows).
    # One read of the hourly rows feeds both scopes (in a full rebuild the table also holds
    # the rows the chunks just deleted, and every shard reads them).
    hours = (
        f"WITH base AS MATERIALIZED (SELECT publisher_id, campaign_id, day, hour, calls "
        f"FROM {hourly} WHERE {history}), "
        f"hours AS MATERIALIZED (SELECT publisher_id, campaign_id AS scope, day, hour, "
        f"calls FROM base WHERE campaign_id IS NOT NULL "
        f"UNION ALL SELECT publisher_id, 0, day, hour, CAST(SUM(calls) AS INTEGER) "
        f"FROM base GROUP BY publisher_id, day, hour), "
        f"series AS (SELECT * FROM hours WHERE (publisher_id, scope, hour) IN "
        f"(SELECT publisher_id, scope, hour FROM hours WHERE calls >= {SPIKE_MIN_CALLS}))"
    )
    if connection.vendor == "postgresql":
        week_before = (
            f"ORDER BY day RANGE BETWEEN INTERVAL '{SPIKE_HISTORY_DAYS} days' PRECEDING "
            "AND INTERVAL '1 day' PRECEDING"
        )
    else:  # SQLite: dates are ISO text; a range frame needs numbers
        week_before = (
            f"ORDER BY julianday(day) RANGE BETWEEN {SPIKE_HISTORY_DAYS} PRECEDING AND 1 PRECEDING"
        )
    statements = [
        f"DELETE FROM {spikes} WHERE organization_id = %(org)s AND {judged('day')}{of_shard}",
        f"INSERT INTO {spikes} (organization_id, day, hour, campaign_id, publisher_id, calls, "
        f"trailing_calls) {hours} SELECT %(org)s, day, hour, NULLIF(scope, 0), publisher_id, "
        f"calls, trailing_calls FROM (SELECT publisher_id, scope, day, hour, calls, "
        f"COALESCE(SUM(calls) OVER (PARTITION BY publisher_id, scope, hour {week_before}), 0) "
        f"AS trailing_calls FROM series) w WHERE calls >= {SPIKE_MIN_CALLS} AND {judged('day')} "
        # calls > multiplier x trailing mean, in integers: calls x 7 > multiplier x total.
        f"AND calls * {SPIKE_HISTORY_DAYS} > {SPIKE_MULTIPLIER} * trailing_calls",
    ]
    recompute_execute(organization, statements, params)


def spikes_by_campaign_and_publisher(
    organization: Organization, date_from: dt.date, date_to: dt.date
) -> dict[tuple[int, int], list[Spike]]:
    """Spike hours per (campaign, publisher) in the local days [date_from, date_to], in hour
    order: each publisher's calls to each campaign, judged on their own."""
    rows = VelocitySpike.objects.for_organization(organization).filter(
        day__gte=date_from, day__lte=date_to, campaign_id__isnull=False
    )
    found: dict[tuple[int, int], list[Spike]] = defaultdict(list)
    for campaign_id, publisher_id, spike in _spikes_of(rows, "campaign_id", "publisher_id"):
        found[campaign_id, publisher_id].append(spike)
    return dict(found)


def _spikes_of(rows, *key_fields: str):
    """(key..., Spike) of each VelocitySpike row, in hour order."""
    ordered = rows.order_by("day", "hour").values_list(
        *key_fields, "day", "hour", "calls", "trailing_calls"
    )
    for *key, day, hour, calls, trailing in ordered:
        yield (
            *key,
            Spike(
                hour=dt.datetime.combine(day, dt.time(hour)),
                calls=calls,
                trailing_mean=trailing / SPIKE_HISTORY_DAYS,
            ),
        )


def spikes_by_publisher(
    organization: Organization, date_from: dt.date, date_to: dt.date, campaign_id: int | None
) -> dict[int, list[Spike]]:
    """Spike hours per publisher in the local days [date_from, date_to], in hour order: of
    its calls to one campaign, or (campaign_id None) to all of them."""
    rows = VelocitySpike.objects.for_organization(organization).filter(
        day__gte=date_from, day__lte=date_to
    )
    if campaign_id is None:
        rows = rows.filter(campaign_id__isnull=True)
    else:
        rows = rows.filter(campaign_id=campaign_id)
    found: dict[int, list[Spike]] = defaultdict(list)
    for publisher_id, spike in _spikes_of(rows, "publisher_id"):
        found[publisher_id].append(spike)
    return dict(found)
