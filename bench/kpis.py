"""KPI benchmark: full rollup rebuild, and the KPI selector against the raw calls table.

    .venv/bin/python bench/kpis.py [--calls 1000000] [--seed 1] [--days 90] [--reload]
                                   [--campaigns N] [--publishers N] [--workers 2]
                                   [--rebuild-runs 3] [--runs 50] [--direct-runs 15]
                                   [--keep-indexes] [--load-only]
                                   [--database-url postgres://...]

Loads `--calls` calls for one organization into a scratch PostgreSQL database (created and
migrated here, `ppc_bench_kpis` by default) with a binary psycopg COPY, one local day per
COPY, so memory stays flat at 10M calls. The data has the demo tenant's shape scaled up:
campaigns, their buyers and publishers take their parameters from `demo.generator` (each
publisher sends to 1-2 campaigns, 3 buyers per campaign with business hours, hour-of-day and
weekday curves), one campaign per CALLS_PER_CAMPAIGN calls and one publisher per
CALLS_PER_PUBLISHER calls, skewed publisher volumes, repeat callers. The load drops the
secondary indexes of calls_call and builds them after the COPY (`--keep-indexes`: load
through all of them, with foreign-key checks). The next run with the same calls, seed and
shape reuses the rows (`--reload` loads them again).

After a fresh load it derives the repeat flags once, untimed (the COPY wrote none; ingest
would have). Then it times the full rebuild, `kpis.rollups.rollups_rebuild_full` as
`manage.py rebuild_rollups` runs it (repeat flags re-derived, then every rollup day
recomputed, then the velocity spikes judged), `--rebuild-runs` times on `--workers`
connections (the median is the figure) and once on one, each after a plain VACUUM of the
calls and the rollups (autovacuum's work between two rebuilds in production; this server
may run without it). Then it compacts the rollups and times the KPI selector
for the last 30 local days (by publisher; overview with the previous period, as the API
does) against the same sums computed directly over the calls table. It ends with a summary
to paste into the README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import resource
import statistics
import sys
import time
import zoneinfo
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORG_SLUG = "bench-kpis"
TIMEZONE = "America/New_York"
# Data ends at this local midnight, so that the same seed gives the same rows on any day.
END_DAY = dt.date(2026, 1, 1)
CALLS_PER_CAMPAIGN = 40_000
CALLS_PER_PUBLISHER = 10_000
# Bump when the generated rows change, so that older loads are not reused.
GENERATOR_VERSION = 1
VIEW_DAYS = 30
WARMUP_RUNS = 3
# Publisher volumes: the template's weight times a log-normal factor of this sigma.
PUBLISHER_SKEW = 0.9
CONVERSION_LAG_MEDIAN = 900.0
# Standard normal draws by table look-up: random.gauss is a Python function, slow per call.
NORMAL_QUANTILES = tuple(statistics.NormalDist().inv_cdf((i + 0.5) / 4096) for i in range(4096))

# calls_call columns and their types, for a binary COPY.
CALL_COLUMNS = (
    ("organization_id", "int8"),
    ("external_id", "varchar"),
    ("campaign_id", "int8"),
    ("publisher_id", "int8"),
    ("buyer_id", "int8"),
    ("tracking_number_id", "int8"),
    ("dialed_number", "varchar"),
    ("caller_number", "varchar"),
    ("caller_region", "varchar"),
    ("started_at", "timestamptz"),
    ("duration_seconds", "int4"),
    ("status", "varchar"),
    ("converted", "bool"),
    ("converted_at", "timestamptz"),
    ("revenue", "numeric"),
    ("cost", "numeric"),
    ("source", "varchar"),
    ("tags", "jsonb"),
    ("is_repeat", "bool"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # DEBUG would log every query; the selector timings should not pay for that.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppc_dashboard.settings")
    import django

    django.setup()


# --- the tenant's structure ----------------------------------------------------------------


class _Campaign:
    __slots__ = ("ad_spend_per_call", "bids", "buyer_ids", "id", "pays_per_conversion", "spec")

    def __init__(self, campaign_id: int, spec: Any, buyer_ids: list[int], bids: list[Any]):
        self.id = campaign_id
        self.spec = spec
        self.buyer_ids = tuple(buyer_ids)  # aligned with the template's buyers
        self.bids = tuple(bids)
        self.pays_per_conversion = spec.revenue_per == "conversion"
        self.ad_spend_per_call = spec.ad_spend_per_call


class _Route:
    """A publisher sending to one campaign through its own tracking number."""

    __slots__ = (
        "callers",
        "campaign",
        "campaign_index",
        "dialed_number",
        "talk_mu",
        "tracking_number_id",
    )

    def __init__(self, campaign_index: int, campaign: _Campaign, tn_id: int, number: str):
        self.campaign_index = campaign_index
        self.campaign = campaign
        self.tracking_number_id = tn_id
        self.dialed_number = number
        self.callers: deque[tuple[str, str]] = deque()
        self.talk_mu = 0.0  # log of the median talk time of this publisher on this campaign


@dataclass
class _Publisher:
    id: int
    spec: Any
    weight: float
    routes: list[_Route]
    # Only sends calls in the last `recent_days` local days (a publisher that just started).
    recent_days: int | None


@dataclass
class TenantShape:
    campaigns: list[_Campaign]
    publishers: list[_Publisher]

    @property
    def buyers(self) -> int:
        return sum(len(c.buyer_ids) for c in self.campaigns)

    @property
    def routes(self) -> int:
        return sum(len(p.routes) for p in self.publishers)


def tenant_shape_create(
    organization: Any, *, campaigns: int, publishers: int, rng: random.Random
) -> TenantShape:
    """Campaigns, buyers, publishers and tracking numbers, from the demo specs in turn."""
    from calls.models import Campaign
    from demo.generator import BUYERS, CAMPAIGNS, PUBLISHERS
    from publishers.models import Publisher
    from routing.models import Buyer, TrackingNumber

    campaign_rows = Campaign.objects.bulk_create(
        Campaign(
            organization=organization,
            name=f"{spec.name} {index + 1}",
            vertical=spec.vertical,
            qualifying_seconds=spec.qualifying_seconds,
            payout=spec.payout,
            rpm_floor=spec.rpm_floor,
        )
        for index, spec in ((i, CAMPAIGNS[i % len(CAMPAIGNS)]) for i in range(campaigns))
    )
    shape = TenantShape(campaigns=[], publishers=[])
    for index, campaign in enumerate(campaign_rows):
        spec = CAMPAIGNS[index % len(CAMPAIGNS)]
        buyer_specs = [b for b in BUYERS if b.campaign == spec.key]
        buyers = Buyer.objects.bulk_create(
            Buyer(
                organization=organization,
                name=f"{b.name} {index + 1}",
                phone_number=b.phone_number,
                timezone=b.timezone,
                business_hours=dict(b.business_hours),
            )
            for b in buyer_specs
        )
        shape.campaigns.append(
            _Campaign(campaign.pk, spec, [b.pk for b in buyers], [b.bid for b in buyer_specs])
        )

    publisher_specs = [PUBLISHERS[i % len(PUBLISHERS)] for i in range(publishers)]
    publisher_rows = Publisher.objects.bulk_create(
        Publisher(organization=organization, name=f"{spec.name} {i + 1}", external_id=f"b{i + 1}")
        for i, spec in enumerate(publisher_specs)
    )
    pairs: list[tuple[int, int]] = []
    for i, spec in enumerate(publisher_specs):
        # The first campaign goes round the list, so every campaign has a publisher.
        chosen = [i % campaigns]
        if len(spec.campaigns) > 1 and campaigns > 1:
            chosen.append(rng.choice([c for c in range(campaigns) if c != chosen[0]]))
        pairs += [(i, c) for c in chosen]
    numbers = TrackingNumber.objects.bulk_create(
        TrackingNumber(
            organization=organization,
            number=f"+1888{n:07d}",
            campaign_id=shape.campaigns[c].id,
            publisher_id=publisher_rows[p].pk,
        )
        for n, (p, c) in enumerate(pairs)
    )
    routes: dict[int, list[_Route]] = {}
    for (p, c), number in zip(pairs, numbers, strict=True):
        routes.setdefault(p, []).append(_Route(c, shape.campaigns[c], number.pk, number.number))
    for i, (spec, row) in enumerate(zip(publisher_specs, publisher_rows, strict=True)):
        weight = max(spec.weight, 1) * rng.lognormvariate(0, PUBLISHER_SKEW)
        shape.publishers.append(_Publisher(row.pk, spec, weight, routes[i], spec.recent_days))
    return shape


# --- call generation -----------------------------------------------------------------------


def day_call_counts(rng: random.Random, calls: int, days: Sequence[dt.date]) -> list[int]:
    """Calls per local day: weekday factor x a gentle growth trend x noise, summing to `calls`."""
    from demo.generator import DAY_FACTOR

    weights = []
    for offset, day in enumerate(reversed(days)):
        trend = 0.8 + 0.4 * (1 - offset / len(days))
        weights.append(DAY_FACTOR[day.weekday()] * trend * rng.uniform(0.85, 1.15))
    weights.reverse()
    total = sum(weights)
    exact = [calls * w / total for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: calls - sum(counts)]:
        counts[i] += 1
    return counts


class CallGenerator:
    """COPY rows of calls, one local day at a time, in start-time order.

    The outcomes follow demo.generator: failed and abandoned calls, buyers picked among
    those open at the call's hour (none open: no buyer), buyer miss rates (higher in the
    evening for some), short calls, log-normal talk time, conversions climbing past the
    campaign's converting length, revenue per qualified call or per conversion.
    """

    def __init__(self, rng: random.Random, organization_id: int, shape: TenantShape, end: Any):
        from demo.generator import BUYERS, REPEAT_POOL_SIZE, STATES

        self.rng = rng
        self.organization_id = organization_id
        self.shape = shape
        self.end = end
        self.tz = zoneinfo.ZoneInfo(TIMEZONE)
        self.sequence = 0
        self.buyer_specs = {
            key: [b for b in BUYERS if b.campaign == key]
            for key in {c.spec.key for c in shape.campaigns}
        }
        self.states = (
            [name for name, _, _ in STATES],
            list(_cumulative(weight for _, weight, _ in STATES)),
        )
        for publisher in shape.publishers:
            for route in publisher.routes:
                route.callers = deque(maxlen=REPEAT_POOL_SIZE)
                talk = route.campaign.spec.median_talk_seconds * publisher.spec.talk_factor
                route.talk_mu = math.log(talk)

    def _hour_starts(self, day: dt.date) -> list[dt.datetime]:
        return [
            dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz).astimezone(dt.UTC)
            for hour in range(24)
        ]

    def _open_buyers(self, hour_starts: list[dt.datetime]) -> dict[str, list[Any]]:
        """Per campaign template and local hour: (positions, cum weights, miss rates) or None."""
        from routing.business_hours import is_open

        table: dict[str, list[Any]] = {}
        for key, specs in self.buyer_specs.items():
            hours: list[Any] = []
            for start in hour_starts:
                at = start + dt.timedelta(minutes=30)
                positions, weights, miss_rates = [], [], []
                for position, spec in enumerate(specs):
                    if not is_open(spec.business_hours, spec.timezone, at):
                        continue
                    miss_rate = spec.miss_rate
                    local_hour = at.astimezone(zoneinfo.ZoneInfo(spec.timezone)).hour
                    if spec.evening_miss_rate is not None and local_hour >= 18:
                        miss_rate = spec.evening_miss_rate
                    positions.append(position)
                    weights.append(spec.weight)
                    miss_rates.append(miss_rate)
                hours.append(
                    (positions, list(_cumulative(weights)), miss_rates) if positions else None
                )
            table[key] = hours
        return table

    def day_rows(self, day: dt.date, count: int, spend: list[int]) -> Iterator[tuple[Any, ...]]:
        """The day's calls as CALL_COLUMNS tuples; counts calls per campaign into `spend`."""
        from calls.models import CallSource, CallStatus
        from demo.generator import FAILED_RATE, TALK_SIGMA, WEEKDAY_HOURLY, WEEKEND_HOURLY

        rng = self.rng
        # The hot loop: bound methods, and bisect over cumulative weights instead of choices().
        random_, exp, timedelta = rng.random, math.exp, dt.timedelta
        normal, normal_size = NORMAL_QUANTILES, len(NORMAL_QUANTILES)
        zero, no_tags = Decimal("0.0000"), {}
        answered, missed = CallStatus.ANSWERED.value, CallStatus.MISSED.value
        failed, abandoned = CallStatus.FAILED.value, CallStatus.ABANDONED.value
        no_buyer, source = CallStatus.NO_BUYER.value, CallSource.DEMO.value
        org_id, end, states, states_cum = self.organization_id, self.end, *self.states
        states_total = states_cum[-1]
        lag_mu = math.log(CONVERSION_LAG_MEDIAN)

        days_before_end = (END_DAY - day).days
        active = [
            p
            for p in self.shape.publishers
            if p.recent_days is None or days_before_end <= p.recent_days
        ]
        hour_starts = self._hour_starts(day)
        open_buyers = self._open_buyers(hour_starts)
        curve = WEEKEND_HOURLY if day.weekday() >= 5 else WEEKDAY_HOURLY
        seconds = sorted(
            hour * 3600 + int(random_() * 3600)
            for hour in rng.choices(range(24), cum_weights=list(_cumulative(curve)), k=count)
        )
        senders = rng.choices(
            active, cum_weights=list(_cumulative(p.weight for p in active)), k=count
        )

        for second, publisher in zip(seconds, senders, strict=True):
            self.sequence += 1
            hour = second // 3600
            started = hour_starts[hour] + timedelta(seconds=second % 3600)
            routes = publisher.routes
            route = routes[0] if len(routes) == 1 else routes[int(random_() * len(routes))]
            campaign = route.campaign
            spec = campaign.spec
            pspec = publisher.spec
            spend[route.campaign_index] += 1

            callers = route.callers
            if callers and random_() < pspec.repeat_rate:
                caller, region = callers[int(random_() * len(callers))]
            else:
                caller = f"+1{2002000000 + int(random_() * 7897999999)}"
                region = states[bisect(states_cum, random_() * states_total)]
                callers.append((caller, region))

            buyer_id = None
            revenue = cost = zero
            duration = 0
            converted_at = None
            if random_() < FAILED_RATE:
                status = failed
            elif random_() < pspec.abandon_rate:
                status = abandoned
            elif (buyers := open_buyers[spec.key][hour]) is None:
                status = no_buyer
            else:
                positions, cum_weights, miss_rates = buyers
                pick = bisect(cum_weights, random_() * cum_weights[-1])
                position = positions[pick]
                buyer_id = campaign.buyer_ids[position]
                if random_() < miss_rates[pick]:
                    status = missed
                else:
                    status = answered
                    if random_() < pspec.short_call_rate:
                        duration = 2 + int(random_() * 18)
                    else:
                        talk = round(
                            exp(route.talk_mu + TALK_SIGMA * normal[int(random_() * normal_size)])
                        )
                        duration = max(5, min(3600, talk))
                    threshold = spec.converting_seconds
                    climb = 1.0 / (1.0 + exp(-(duration - threshold) / (threshold * 0.2)))
                    if random_() < pspec.close_rate * climb:
                        lag = duration + exp(lag_mu + 1.2 * normal[int(random_() * normal_size)])
                        converted_at = started + timedelta(seconds=round(lag))
                        if converted_at > end:
                            converted_at = None  # not reported yet
                    qualified = duration >= spec.qualifying_seconds
                    pays = converted_at is not None if campaign.pays_per_conversion else qualified
                    if pays:
                        revenue = campaign.bids[position]
                    if qualified:
                        cost = spec.payout
            yield (
                org_id,
                f"bk-{self.sequence:09d}",
                campaign.id,
                publisher.id,
                buyer_id,
                route.tracking_number_id,
                route.dialed_number,
                caller,
                region,
                started,
                duration,
                status,
                converted_at is not None,
                converted_at,
                revenue,
                cost,
                source,
                no_tags,
                False,
                started,
                started,
            )


def _cumulative(weights: Any) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- loading -------------------------------------------------------------------------------


def load_signature(calls: int, seed: int, days: int, campaigns: int, publishers: int) -> str:
    return (
        f"Bench KPIs: {calls} calls, seed {seed}, {days} days, {campaigns} campaigns, "
        f"{publishers} publishers, generator {GENERATOR_VERSION}"
    )


def organization_prepare(signature: str, calls: int, reload: bool) -> tuple[Any, bool]:
    """The bench organization, and whether it already holds exactly these calls.

    Otherwise its previous data is deleted (and committed) and it is marked as loading.
    """
    from django.db import transaction

    from calls.models import Call
    from demo.management.commands.seed_demo import _demo_data_delete
    from ppc_dashboard.tenancy.models import Organization
    from ppc_dashboard.tenancy.services import organization_create

    organization = Organization.objects.filter(slug=ORG_SLUG).first()
    if organization is None:
        organization = organization_create(
            slug=ORG_SLUG, name="Bench KPIs: loading", timezone=TIMEZONE
        )
        return organization, False
    if (
        not reload
        and organization.name == signature
        and Call.objects.for_organization(organization).count() == calls
    ):
        return organization, True
    began = time.perf_counter()
    with transaction.atomic():
        # The bench calls are demo-sourced, so seed_demo's guarded wipe applies.
        _demo_data_delete(organization)
        organization.name = "Bench KPIs: loading"
        organization.timezone = TIMEZONE
        organization.save(update_fields=["name", "timezone"])
    print(f"deleted the previous bench data in {time.perf_counter() - began:.1f} s")
    return organization, False


def calls_load(
    organization: Any,
    *,
    calls: int,
    days: int,
    seed: int,
    campaigns: int,
    publishers: int,
    keep_indexes: bool,
) -> tuple[float, str]:
    """Create the shape, COPY the calls day by day, add ad spend; returns rows/s and how.

    Runs in the caller's transaction. Unless `keep_indexes`, and only when the calls table
    holds no other tenant's rows, the secondary indexes of calls_call are dropped for the
    COPY and built again afterwards, and (as a superuser) the foreign-key triggers are off:
    the ids come from the rows created just before. A killed load rolls all of it back.
    """
    from django.db import connection

    from calls.models import AdSpend, Call

    rng = random.Random(seed)
    shape_rng, days_rng, calls_rng, spend_rng = (random.Random(rng.getrandbits(64)) for _ in "abcd")
    shape = tenant_shape_create(
        organization, campaigns=campaigns, publishers=publishers, rng=shape_rng
    )
    print(
        f"shape: {len(shape.campaigns)} campaigns, {shape.buyers} buyers, "
        f"{len(shape.publishers)} publishers, {shape.routes} publisher x campaign routes"
    )
    local_days = [END_DAY - dt.timedelta(days=days - i) for i in range(days)]
    counts = day_call_counts(days_rng, calls, local_days)
    end = dt.datetime.combine(END_DAY, dt.time.min, tzinfo=zoneinfo.ZoneInfo(TIMEZONE))
    generator = CallGenerator(calls_rng, organization.pk, shape, end.astimezone(dt.UTC))
    table = Call._meta.db_table
    copy_sql = (
        f"COPY {table} ({', '.join(name for name, _ in CALL_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    )
    ad_spend: list[AdSpend] = []

    began = time.perf_counter()
    cpu_began = time.process_time()
    with connection.cursor() as cursor:
        # With foreign-key checks on, check each day's COPY at its end, not all at the commit.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        fast = not keep_indexes and not Call.objects.exclude(organization=organization).exists()
        indexes = _secondary_indexes(cursor, table) if fast else []
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        fk_checks = not (fast and cursor.fetchone()[0])
        if not fk_checks:
            cursor.execute("SET LOCAL session_replication_role = replica")
    mode = (
        f"{len(indexes)} secondary indexes built after the COPY" if indexes else "all indexes"
    ) + f", foreign-key checks {'on' if fk_checks else 'off'}"
    print(f"loading with {mode}")

    raw = connection.connection  # Django's psycopg connection, inside its transaction
    loaded, next_report = 0, calls // 10
    with raw.cursor() as cursor:
        cursor.adapters.register_dumper(dict, _TagsDumper)
        for day, count in zip(local_days, counts, strict=True):
            spend = [0] * len(shape.campaigns)
            with cursor.copy(copy_sql) as copy:
                copy.set_types([kind for _, kind in CALL_COLUMNS])
                for row in generator.day_rows(day, count, spend):
                    copy.write_row(row)
            loaded += count
            for campaign, volume in zip(shape.campaigns, spend, strict=True):
                if volume:
                    noise = Decimal(str(round(spend_rng.uniform(0.85, 1.15), 3)))
                    amount = campaign.ad_spend_per_call * volume * noise
                    ad_spend.append(
                        AdSpend(
                            organization=organization,
                            campaign_id=campaign.id,
                            day=day,
                            amount=amount.quantize(Decimal("0.01")),
                        )
                    )
            if loaded >= next_report and loaded < calls:
                elapsed = time.perf_counter() - began
                print(
                    f"  {loaded:>11,} rows  {loaded / elapsed:>9,.0f} rows/s  "
                    f"max rss {_max_rss_mb():,.0f} MB",
                    flush=True,
                )
                next_report += calls // 10
    copied = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
    elapsed = time.perf_counter() - began
    AdSpend.objects.bulk_create(ad_spend, batch_size=5000)
    rate = calls / elapsed if elapsed else 0.0
    print(
        f"load: {calls:,} calls in {elapsed:.1f} s = {rate:,.0f} rows/s "
        f"(COPY {copied:.1f} s, of which this process generating and sending {cpu:.1f} s; "
        f"indexes built again {elapsed - copied:.1f} s; max rss {_max_rss_mb():,.0f} MB)"
    )
    return rate, mode


class _TagsDumper(Dumper):
    """Binary jsonb for `tags`: every bench call has none, so skip json.dumps per row."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + (json.dumps(obj).encode() if obj else b"{}")


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """Name and definition of the table's indexes that back no constraint."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
        "ORDER BY i.relname",
        [table],
    )
    return list(cursor.fetchall())


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- timing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    p50: float  # ms
    p95: float  # ms

    def __str__(self) -> str:
        return f"p50 {self.p50:7.2f} ms  p95 {self.p95:7.2f} ms"


def timed(run: Callable[[], Any], *, runs: int, warmup: int) -> Timing:
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    # Nearest rank: with 50 runs p95 is the 48th fastest.
    return Timing(p50=samples[math.ceil(0.5 * runs) - 1], p95=samples[math.ceil(0.95 * runs) - 1])


@dataclass(frozen=True)
class RebuildTimes:
    parallel: list[float]  # s, rollups_rebuild_full on `workers` connections, per run
    workers: int
    serial: float  # s, the same on one connection
    flags: float  # s, of `serial`: the repeat-flag re-derivation alone

    @property
    def parallel_median(self) -> float:
        return statistics.median(self.parallel)


def _vacuum_before_rebuild() -> None:
    """VACUUM the calls and the rollups, as autovacuum would have between two rebuilds.

    Each rebuild leaves the tenant's old rollup rows dead; without a vacuum (and this
    server may run without autovacuum) the next rebuild deletes through them, and a run's
    figure would depend on how many runs came before it.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ["calls_call", *(m._meta.db_table for m in rollup_models().values())]:
            cursor.execute(f"VACUUM {table}")


def rebuild_time(organization: Any, calls: int, workers: int, runs: int) -> RebuildTimes:
    """Time the full rebuild (repeat flags, then every rollup) as `rebuild_rollups` runs it."""
    from calls.repeat_calls import repeat_flags_rederive
    from kpis.rollups import rollups_rebuild_full

    parallel = []
    for _ in range(runs):
        _vacuum_before_rebuild()
        began = time.perf_counter()
        rollups_rebuild_full(organization, workers=workers)
        parallel.append(time.perf_counter() - began)
    _vacuum_before_rebuild()
    began = time.perf_counter()
    rollups_rebuild_full(organization, workers=1)
    serial = time.perf_counter() - began
    began = time.perf_counter()
    repeat_flags_rederive(organization.pk)
    flags = time.perf_counter() - began
    times = RebuildTimes(parallel=parallel, workers=workers, serial=serial, flags=flags)
    median = times.parallel_median
    print(
        f"full rebuild, {workers} connections: median {median:6.2f} s = "
        f"{calls / median:>9,.0f} calls/s  (target >= 300,000; runs "
        + ", ".join(f"{run:.2f}" for run in parallel)
        + f" s)\nfull rebuild, 1 connection:  {serial:6.2f} s = {calls / serial:>9,.0f} "
        f"calls/s (of which repeat flags {flags:.2f} s, rollups {serial - flags:.2f} s)"
    )
    return times


def _direct_sql(grouped: bool) -> str:
    # Written out here rather than built by kpis.rollups: these sums check the rollups'.
    from calls.models import CallStatus
    from kpis.rollups import DEFAULT_QUALIFYING_SECONDS

    answered = f"c.status = '{CallStatus.ANSWERED}'"
    return (
        f"SELECT {'c.publisher_id, ' if grouped else ''}COUNT(*), "
        f"SUM(CASE WHEN {answered} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {answered} AND c.duration_seconds >= "
        f"COALESCE(cp.qualifying_seconds, {DEFAULT_QUALIFYING_SECONDS}) THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN c.converted THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {answered} THEN c.duration_seconds ELSE 0 END), "
        "SUM(c.revenue), SUM(c.cost) "
        "FROM calls_call c LEFT JOIN calls_campaign cp ON cp.id = c.campaign_id "
        "WHERE c.organization_id = %s AND c.started_at >= %s AND c.started_at < %s"
        + (" GROUP BY c.publisher_id" if grouped else "")
    )


def direct_sums(organization: Any, filters: Any, *, grouped: bool) -> dict[Any, tuple]:
    """The selector's sums straight from the calls of the filter's local days (UTC range)."""
    from django.db import connection

    from kpis.rollups import local_day_bounds

    start = local_day_bounds(filters.date_from, organization.tzinfo)[0]
    end = local_day_bounds(filters.date_to, organization.tzinfo)[1]
    with connection.cursor() as cursor:
        cursor.execute(_direct_sql(grouped), [organization.pk, start, end])
        rows = cursor.fetchall()
    if grouped:
        return {row[0]: tuple(row[1:]) for row in rows}
    return {None: tuple(rows[0])}


def _sums_of(counts: Any) -> tuple:
    return (
        counts.calls,
        counts.answered,
        counts.qualified,
        counts.conversions,
        counts.talk_seconds,
        counts.revenue,
        counts.call_cost,
    )


def _same(selector: dict[Any, tuple], direct: dict[Any, tuple]) -> bool:
    def plain(sums: tuple) -> tuple:
        return tuple(Decimal(value or 0) for value in sums)

    return {k: plain(v) for k, v in selector.items()} == {k: plain(v) for k, v in direct.items()}


def kpi_timings(organization: Any, *, runs: int, direct_runs: int) -> dict[str, Timing]:
    from kpis.selectors import GroupBy, KpiFilter, kpis_report

    last_day = END_DAY - dt.timedelta(days=1)
    current = KpiFilter(date_from=last_day - dt.timedelta(days=VIEW_DAYS - 1), date_to=last_day)
    previous = current.previous_period()

    def by_publisher() -> Any:
        return kpis_report(organization, current, GroupBy.PUBLISHER)

    def overview() -> tuple[Any, Any]:
        return kpis_report(organization, current), kpis_report(organization, previous)

    def direct_by_publisher() -> Any:
        return direct_sums(organization, current, grouped=True)

    def direct_overview() -> tuple[Any, Any]:
        return (
            direct_sums(organization, current, grouped=False),
            direct_sums(organization, previous, grouped=False),
        )

    # The selector must answer what the calls say, or its speed means nothing.
    report = by_publisher()
    selector_rows = {row.key: _sums_of(row.counts) for row in report.rows if row.counts.calls}
    overview_now, overview_before = overview()
    direct_now, direct_before = direct_overview()
    if not (
        _same(selector_rows, direct_by_publisher())
        and _same({None: _sums_of(overview_now.totals.counts)}, direct_now)
        and _same({None: _sums_of(overview_before.totals.counts)}, direct_before)
    ):
        raise SystemExit("the selector's sums differ from the calls table's")
    print(
        f"view: local days {current.date_from} .. {current.date_to} "
        f"({overview_now.totals.counts.calls:,} calls, {len(selector_rows)} publishers); "
        f"previous {previous.date_from} .. {previous.date_to} "
        f"({overview_before.totals.counts.calls:,} calls); selector sums = direct sums"
    )

    timings = {
        "selector_publisher": timed(by_publisher, runs=runs, warmup=WARMUP_RUNS),
        "selector_overview": timed(overview, runs=runs, warmup=WARMUP_RUNS),
        "direct_publisher": timed(direct_by_publisher, runs=direct_runs, warmup=1),
        "direct_overview": timed(direct_overview, runs=direct_runs, warmup=1),
    }
    for view in ("publisher", "overview"):
        selector, direct = timings[f"selector_{view}"], timings[f"direct_{view}"]
        label = "by publisher" if view == "publisher" else "overview + previous"
        print(
            f"{label:<20} selector {selector}  ({runs} runs)\n"
            f"{'':<20} direct   {direct}  ({direct_runs} runs)  "
            f"direct/selector p50 {direct.p50 / selector.p50:,.0f}x, "
            f"p95 {direct.p95 / selector.p95:,.0f}x"
        )
    return timings


def rollup_models() -> dict[str, Any]:
    from kpis import models

    return {
        "daily": models.CallRollupDaily,
        "daily campaign x publisher": models.CallRollupDailyCampaignPublisher,
        "daily campaign": models.CallRollupDailyCampaign,
        "hourly": models.CallRollupHourly,
        "hourly campaign": models.CallRollupHourlyCampaign,
        "buckets": models.DurationBucketDaily,
        "daily region": models.CallRollupDailyRegion,
        "daily region x campaign": models.CallRollupDailyRegionCampaign,
        "daily report tag": models.CallRollupDailyTag,
        "spike hours": models.VelocitySpike,
    }


def rollup_sizes(organization: Any) -> dict[str, int]:
    return {
        name: model.objects.for_organization(organization).count()
        for name, model in rollup_models().items()
    }


def calls_prepare(
    args: argparse.Namespace, campaigns: int, publishers: int, *, keep_indexes: bool = False
) -> tuple[Any, str | None]:
    """The bench organization holding the calls: reused when an identical load is there,
    else loaded and analyzed. Returns it and the load's rate (None when reused)."""
    from django.db import connection, transaction

    signature = load_signature(args.calls, args.seed, args.days, campaigns, publishers)
    organization, reused = organization_prepare(signature, args.calls, args.reload)
    if reused:
        print(f"reusing the loaded calls ({signature}); --reload loads them again")
        return organization, None
    with connection.cursor() as cursor:
        # The deleted rows would otherwise slow the COPY (unique checks meet their keys).
        cursor.execute("VACUUM calls_call")
    # One transaction: a load that dies halfway leaves no calls, and the next run loads.
    with transaction.atomic():
        rate, mode = calls_load(
            organization,
            calls=args.calls,
            days=args.days,
            seed=args.seed,
            campaigns=campaigns,
            publishers=publishers,
            keep_indexes=keep_indexes,
        )
        organization.name = signature
        organization.save(update_fields=["name"])
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"ANALYZE: {time.perf_counter() - began:.1f} s")
    return organization, f"{rate:,.0f} rows/s ({mode})"


def load_arguments_add(parser: argparse.ArgumentParser) -> None:
    """The options of the data to load, shared by the benchmarks that use this loader."""
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=90, help="days of calls, up to END_DAY")
    parser.add_argument(
        "--campaigns", type=int, help=f"default: one per {CALLS_PER_CAMPAIGN:,} calls, at least 6"
    )
    parser.add_argument(
        "--publishers",
        type=int,
        help=f"default: one per {CALLS_PER_PUBLISHER:,} calls, at least 10",
    )
    parser.add_argument("--reload", action="store_true", help="load the calls even if present")


def load_shape(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[int, int]:
    """Campaigns and publishers of the load: given, or scaled with --calls."""
    if args.days <= 2 * VIEW_DAYS:
        parser.error(f"--days must be over {2 * VIEW_DAYS} (a view and its previous period)")
    campaigns = args.campaigns or max(6, round(args.calls / CALLS_PER_CAMPAIGN))
    publishers = args.publishers or max(10, round(args.calls / CALLS_PER_PUBLISHER))
    return campaigns, publishers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    load_arguments_add(parser)
    parser.add_argument(
        "--workers", type=int, default=2, help="connections of the full rebuild (default 2)"
    )
    parser.add_argument(
        "--rebuild-runs", type=int, default=3, help="timed full rebuilds on --workers"
    )
    parser.add_argument("--runs", type=int, default=50, help="timed selector runs per view")
    parser.add_argument("--direct-runs", type=int, default=15, help="timed direct runs per view")
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load into calls_call with all its indexes and foreign-key checks",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="stop after loading (e.g. to time a big load)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_kpis"
        ),
    )
    args = parser.parse_args()
    campaigns, publishers = load_shape(parser, args)

    ensure_database(args.database_url)
    django_setup(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    print(f"{server}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")

    organization, loaded = calls_prepare(
        args, campaigns, publishers, keep_indexes=args.keep_indexes
    )
    reused = loaded is None
    load = loaded or "(reused; --reload to time it)"
    if args.load_only:
        return

    if not reused:
        from calls.repeat_calls import repeat_flags_rederive

        # The COPY wrote no repeat flags; ingest would have. Derive them once, untimed, so
        # that the timed rebuilds re-derive flags that are right, as in production.
        began = time.perf_counter()
        changed = len(repeat_flags_rederive(organization.pk))
        print(
            f"repeat flags after the load: {changed:,} set in {time.perf_counter() - began:.1f} s"
        )
    rebuild = rebuild_time(organization, args.calls, args.workers, args.rebuild_runs)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        # Each rebuild leaves the tenant's old rollup rows dead; runs of this benchmark on a
        # server without autovacuum (as here) pile them up, and the selector then reads a
        # table many times its size. Time it on compact rollups with fresh statistics.
        for model in rollup_models().values():
            cursor.execute(f"VACUUM FULL {model._meta.db_table}")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    print(
        f"VACUUM FULL of the rollups, VACUUM ANALYZE: {time.perf_counter() - began:.1f} s "
        f"(server autovacuum {autovacuum})"
    )
    sizes = rollup_sizes(organization)
    print("rollup rows: " + ", ".join(f"{name} {rows:,}" for name, rows in sizes.items()))
    timings = kpi_timings(organization, runs=args.runs, direct_runs=args.direct_runs)

    sp, so = timings["selector_publisher"], timings["selector_overview"]
    dp, do = timings["direct_publisher"], timings["direct_overview"]
    rebuild_ok = args.calls / rebuild.parallel_median >= 300_000
    selector_ok = max(sp.p95, so.p95) <= 10 and min(dp.p50 / sp.p50, do.p50 / so.p50) >= 30
    print(
        "\n```\n"
        f"KPI benchmark (bench/kpis.py): {args.calls:,} calls over {args.days} days, "
        f"{campaigns} campaigns, {publishers} publishers; {server}, {os.cpu_count()} cores\n"
        f"load (generate + COPY): {load}\n"
        f"full rebuild, {rebuild.workers} connections: {rebuild.parallel_median:6.2f} s  "
        f"{args.calls / rebuild.parallel_median:>9,.0f} calls/s  (median of "
        f"{len(rebuild.parallel)}; slowest {max(rebuild.parallel):.2f} s = "
        f"{args.calls / max(rebuild.parallel):,.0f} calls/s)\n"
        f"full rebuild, 1 connection:  {rebuild.serial:6.2f} s  "
        f"{args.calls / rebuild.serial:>9,.0f} calls/s  (repeat flags {rebuild.flags:.2f} s, "
        f"rollups {rebuild.serial - rebuild.flags:.2f} s)\n"
        "rollup rows: " + ", ".join(f"{name} {rows:,}" for name, rows in sizes.items()) + "\n"
        f"30 days by publisher:  selector {sp}   direct {dp}   "
        f"direct/selector {dp.p50 / sp.p50:,.0f}x (p95 {dp.p95 / sp.p95:,.0f}x)\n"
        f"30 days overview+prev: selector {so}   direct {do}   "
        f"direct/selector {do.p50 / so.p50:,.0f}x (p95 {do.p95 / so.p95:,.0f}x)\n"
        f"targets: rebuild >= 300,000 calls/s {'met' if rebuild_ok else 'MISSED'}; "
        f"selector p95 <= 10 ms and >= 30x direct {'met' if selector_ok else 'MISSED'}\n"
        "```"
    )


if __name__ == "__main__":
    main()
