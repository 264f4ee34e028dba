"""Pages benchmark: server time of the overview, campaign, publisher, geography and tag pages
over 1M calls.

    .venv/bin/python bench/pages.py [--calls 1000000] [--seed 1] [--days 90] [--reload]
                                    [--rebuild] [--campaigns N] [--publishers N] [--runs 30]
                                    [--profile N] [--database-url postgres://...]

Loads `--calls` calls with the loader of bench/kpis.py (same generator, same shape, same
reuse of an identical earlier load) into a scratch PostgreSQL database of its own (created
and migrated here, `ppc_bench_pages` by default, so it never races the KPI benchmark's).
After a fresh load (or `--rebuild`, or when `migrate` applied something) it builds what the
write paths would have: repeat flags, then rollups; then VACUUM ANALYZE.

Then a member of the bench organization logs in (Django's test Client, `force_login`) and
the overview (`/`), the page of the campaign with the most calls (`/campaigns/<id>/`),
that of the publisher with the most calls (`/publishers/<id>/`), the geography page
(`/geography/`, callers by state) and the tag page (`/tags/?key=source`, calls by the values
of a report tag) are requested for the last 30 local days of the data, `--runs` times each
after warm-up. The loader writes no tags: the first run here gives every call a `source`
tag (one of BENCH_TAG_VALUES, by its id) and makes `source` a report tag, then rebuilds.
A request goes through the whole server side: middleware (session, user, tenant), the
selectors and decisions, the Plotly figures and the template; only the socket is missing.
The settings are production's (DEBUG off), with the static files' URLs from the plain
storage (the manifest one needs a collectstatic, and the URL of plotly.js is not what is
measured). Every response must be a 200 showing the KPI tiles (the calls tile equal to
the selector's) and each Plotly figure of the page, or the timings mean nothing.

It prints p50/p95 per page, the queries per page, and a summary to paste into the README.
`--profile N` also runs each page N more times under cProfile and prints where the time went.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, whose kpis.py would shadow the app

from bench import kpis as kpis_bench  # noqa: E402  (needs ROOT on the path)

PAGE_TARGET_MS = 150
BENCH_TAG_KEY = "source"
BENCH_TAG_VALUES = ("google", "bing", "facebook", "tv", "radio", "direct", "email", "affiliate")
BENCH_USER_EMAIL = "bench-pages@example.com"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def migrate() -> bool:
    """Migrate the bench database; True when there was something to apply."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    call_command("migrate", verbosity=0)
    if pending:
        print(f"migrate: applied {len(pending)} migrations")
    return bool(pending)


def rollups_build(organization: Any) -> None:
    """Repeat flags, then rollups, then fresh statistics: the state the write paths keep."""
    from django.db import connection

    from calls.repeat_calls import repeat_flags_rederive
    from kpis.rollups import rollups_rebuild_full

    began = time.perf_counter()
    changed = repeat_flags_rederive(organization.pk)  # the COPY wrote none
    flags = time.perf_counter() - began
    rollups_rebuild_full(organization)
    rollups = time.perf_counter() - began - flags
    with connection.cursor() as cursor:
        for model in kpis_bench.rollup_models().values():
            cursor.execute(f"VACUUM FULL {model._meta.db_table}")
        cursor.execute("VACUUM ANALYZE")
    print(
        f"rebuild: repeat flags {flags:.1f} s ({len(changed):,} changed), full rebuild "
        f"{rollups:.1f} s, VACUUM {time.perf_counter() - began - flags - rollups:.1f} s"
    )


def report_tag_prepare(organization: Any) -> bool:
    """Tag every call with a `source` and make it a report tag, once per load; True when it
    did (the rollups must then be rebuilt)."""
    from django.db import connection, transaction

    from kpis.models import ReportTag

    if ReportTag.objects.for_organization(organization).filter(key=BENCH_TAG_KEY).exists():
        return False
    began = time.perf_counter()
    values = ", ".join(f"'{value}'" for value in BENCH_TAG_VALUES)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE calls_call SET tags = jsonb_build_object(%s, "
            f"(ARRAY[{values}])[1 + id %% {len(BENCH_TAG_VALUES)}]) WHERE organization_id = %s",
            [BENCH_TAG_KEY, organization.pk],
        )
        ReportTag.objects.create(organization=organization, key=BENCH_TAG_KEY)
    print(f"tags: every call tagged {BENCH_TAG_KEY}=... in {time.perf_counter() - began:.1f} s")
    return True


def busiest_row_calls(organization: Any, kpi_filter: Any, group_by: Any, tag_key: Any) -> int:
    """The calls of the busiest region or tag value (a row the page's table must show)."""
    from kpis.selectors import kpis_report

    report = kpis_report(organization, kpi_filter, group_by, tag_key)
    return max(row.counts.calls for row in report.rows)


def member_client(organization: Any) -> Any:
    """A test Client logged in as a viewer of the bench organization (read-only is enough)."""
    from django.test import Client

    from ppc_dashboard.tenancy.models import Role
    from ppc_dashboard.tenancy.services import user_create_with_membership

    user, _ = user_create_with_membership(
        email=BENCH_USER_EMAIL, organization=organization, role=Role.VIEWER, password=None
    )
    client = Client()
    client.force_login(user)
    return client


def busiest_campaign(organization: Any, date_from: dt.date, date_to: dt.date) -> tuple[int, str]:
    from kpis.selectors import GroupBy, KpiFilter, kpis_report

    report = kpis_report(
        organization, KpiFilter(date_from=date_from, date_to=date_to), GroupBy.CAMPAIGN
    )
    busiest = max(report.rows, key=lambda row: row.counts.calls)
    return busiest.key, busiest.label


def busiest_publisher(organization: Any, date_from: dt.date, date_to: dt.date) -> tuple[int, str]:
    from kpis.selectors import GroupBy, KpiFilter, kpis_report

    report = kpis_report(
        organization, KpiFilter(date_from=date_from, date_to=date_to), GroupBy.PUBLISHER
    )
    busiest = max(
        (row for row in report.rows if isinstance(row.key, int)), key=lambda row: row.counts.calls
    )
    return busiest.key, busiest.label


def expected_content(organization: Any, kpi_filter: Any) -> list[str]:
    """What a page for this filter must show: its calls tile with the selector's count."""
    from kpis.selectors import kpis_report

    calls = kpis_report(organization, kpi_filter).totals.counts.calls
    return [f'data-kpi="calls" data-value="{calls}"', "data-plotly-figure="]


def page_check(client: Any, url: str, expected: list[str]) -> int:
    """Request once, check the page shows what it should; returns the response's size."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    html = response.content.decode()
    missing = [text for text in expected if text not in html]
    if missing:
        raise SystemExit(f"{url}: the page lacks {missing}")
    return len(response.content)


def query_count(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def query_times(client: Any, url: str) -> None:
    """The queries of one request, slowest first, with their share of the request."""
    from django.db import connection

    queries: list[tuple[float, str]] = []

    def timed_query(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - began) * 1000, sql))

    began = time.perf_counter()
    with connection.execute_wrapper(timed_query):
        client.get(url)
    total = (time.perf_counter() - began) * 1000
    in_queries = sum(ms for ms, _ in queries)
    print(
        f"--- {url}: {total:.1f} ms, of which {len(queries)} queries {in_queries:.1f} ms; "
        "slowest ---"
    )
    for ms, sql in sorted(queries, reverse=True)[:8]:
        print(f"{ms:7.1f} ms  {' '.join(sql.split())[:150]}")


def profile(client: Any, url: str, runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(45)
    print(f"--- cProfile of {url}, {runs} runs, by cumulative time ---\n{out.getvalue()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kpis_bench.load_arguments_add(parser)
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild repeat flags and rollups even if reused"
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="then N requests per page in cProfile"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_PAGES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_pages"
        ),
    )
    args = parser.parse_args()
    campaigns, publishers = kpis_bench.load_shape(parser, args)

    # Whitenoise warns once that STATIC_ROOT holds no collectstatic output: not needed here.
    warnings.filterwarnings("ignore", message="No directory at")
    # The test Client's host, and no HTTPS redirect: production settings otherwise.
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    kpis_bench.ensure_database(args.database_url)
    kpis_bench.django_setup(args.database_url)
    from django.db import connection
    from django.test.utils import override_settings

    from kpis.selectors import GroupBy, KpiFilter

    migrated = migrate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    print(f"{server}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")

    organization, loaded = kpis_bench.calls_prepare(args, campaigns, publishers)
    tagged = report_tag_prepare(organization)
    if loaded or args.rebuild or migrated or tagged:
        rollups_build(organization)

    date_to = kpis_bench.END_DAY - dt.timedelta(days=1)
    date_from = date_to - dt.timedelta(days=kpis_bench.VIEW_DAYS - 1)
    view = f"range=custom&date_from={date_from}&date_to={date_to}"
    campaign_id, campaign_name = busiest_campaign(organization, date_from, date_to)
    publisher_id, publisher_name = busiest_publisher(organization, date_from, date_to)
    overview_filter = KpiFilter(date_from=date_from, date_to=date_to)
    campaign_filter = KpiFilter(date_from=date_from, date_to=date_to, campaign_id=campaign_id)
    publisher_filter = KpiFilter(date_from=date_from, date_to=date_to, publisher_id=publisher_id)
    pages = {
        "overview": (
            f"/?{view}",
            [
                *expected_content(organization, overview_filter),
                'id="chart-daily-trend"',
                'class="verdict-board"',
            ],
        ),
        "campaign": (
            f"/campaigns/{campaign_id}/?{view}",
            [
                *expected_content(organization, campaign_filter),
                'id="leaderboard"',
                "data-publisher=",
                'id="chart-duration-buckets"',
                'id="chart-missed-heatmap"',
                'id="chart-rpm-trend"',
            ],
        ),
        "publisher": (
            f"/publishers/{publisher_id}/?{view}",
            [
                *expected_content(organization, publisher_filter),
                'id="publisher-campaigns"',
                'id="chart-daily-trend"',
            ],
        ),
        "region": (
            f"/geography/?{view}",
            [
                'id="chart-state-map"',
                'id="state-table"',
                'data-sort="'
                f'{busiest_row_calls(organization, overview_filter, GroupBy.REGION, None)}"',
            ],
        ),
        "tag": (
            f"/tags/?key={BENCH_TAG_KEY}&{view}",
            [
                'id="tag-table"',
                'data-sort="'
                f'{busiest_row_calls(organization, overview_filter, GroupBy.TAG, BENCH_TAG_KEY)}"',
            ],
        ),
    }
    print(
        f"view: local days {date_from} .. {date_to}; campaign page of #{campaign_id} "
        f"{campaign_name!r} and publisher page of #{publisher_id} {publisher_name!r}, the busiest"
    )

    timings: dict[str, kpis_bench.Timing] = {}
    with override_settings(STORAGES=STORAGES):
        client = member_client(organization)
        for name, (url, expected) in pages.items():
            size = page_check(client, url, expected)
            queries = query_count(client, url)

            def run(url: str = url) -> None:
                if client.get(url).status_code != 200:
                    raise SystemExit(f"{url}: not a 200 while timing")

            timings[name] = kpis_bench.timed(run, runs=args.runs, warmup=kpis_bench.WARMUP_RUNS)
            print(f"{name:<9} {timings[name]}  ({args.runs} runs, {queries} queries, {size:,} B)")
        if args.profile:
            for url, _ in pages.values():
                query_times(client, url)
                profile(client, url, args.profile)

    met = all(timing.p95 <= PAGE_TARGET_MS for timing in timings.values())
    print(
        "\n```\n"
        f"Pages benchmark (bench/pages.py): {args.calls:,} calls over {args.days} days, "
        f"{campaigns} campaigns, {publishers} publishers; {server}, {os.cpu_count()} cores\n"
        f"view: last {kpis_bench.VIEW_DAYS} local days ({date_from} .. {date_to}), "
        f"{args.runs} runs per page, load average {os.getloadavg()[0]:.2f} at the end\n"
        + "".join(
            f"{name:<9} {url.split('?')[0]:<16} {timings[name]}\n"
            for name, (url, _) in pages.items()
        )
        + f"target: p95 <= {PAGE_TARGET_MS} ms per page {'met' if met else 'MISSED'}\n"
        "```"
    )


if __name__ == "__main__":
    main()
