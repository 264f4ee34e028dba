"""What the region and report-tag rollups add to a recompute, against the same recompute
without them, in the same run.

    .venv/bin/python bench/rollup_grains.py [--database-url postgres://...] [--days 15]
                                            [--runs 3]

Reads the tenant bench/pages.py loaded (`ppc_bench_pages` by default; run that first: its
calls carry a `source` report tag). Times `--runs` recomputes of the last `--days` local
days in three forms, interleaved so that a change in the machine's load hits all alike:
- baseline: the statements before the region grain (its grouping set and insert removed
  from the SQL; the scan still reads `caller_region`) and without report tags;
- + region: today's statements, without report tags;
- + region + 1 tag: today's statements with the tenant's report tag.
Each recompute runs in a transaction that is rolled back, so the rollups stay as they were.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import kpis as kpis_bench  # noqa: E402

HOUR = "date_trunc('hour', c.local_at)"
REGION_SET = ", (c.local_at::date, c.campaign_id, c.publisher_id, c.caller_region))"


def without_region(statements: list[str]) -> list[str]:
    """The recompute's statements as they were before the region grain."""
    out = []
    for sql in statements:
        if "kpis_callrollupdailyregion" in sql and sql.startswith("DELETE"):
            continue  # both region tables
        if REGION_SET in sql:
            sql = sql.replace(REGION_SET, ")")
            # Two grouping sets: GROUPING(hour) alone tells them apart (3 daily, 1 hourly).
            sql = sql.replace(f"GROUPING({HOUR}, c.caller_region)", f"(GROUPING({HOUR}) * 2 + 1)")
            sql = sql.replace("c.caller_region AS region", "NULL AS region")
            for name in ("region_rows", "region_campaign_rows"):
                start = sql.index(f"{name} AS (")
                depth, end = 0, start + len(f"{name} AS ")
                for index in range(end, len(sql)):
                    depth += {"(": 1, ")": -1}.get(sql[index], 0)
                    if depth == 0:
                        end = index + 1
                        break
                sql = sql[:start] + sql[end + 2 :]  # and the ", " after it
        out.append(sql)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_PAGES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_pages"
        ),
    )
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kpis_bench.django_setup(args.database_url)
    from django.db import connection, transaction

    from kpis import rollups
    from kpis.models import CallRollupDailyCampaign, ReportTag
    from ppc_dashboard.tenancy.models import Organization

    tagged = ReportTag.objects.values_list("organization_id", flat=True).first()
    if tagged is None:
        raise SystemExit("no tenant with a report tag: run bench/pages.py first")
    organization = Organization.objects.get(pk=tagged)
    last = CallRollupDailyCampaign.objects.for_organization(organization).latest("day").day
    since = last - dt.timedelta(days=args.days - 1)
    calls = sum(
        CallRollupDailyCampaign.objects.for_organization(organization)
        .filter(day__gte=since)
        .values_list("calls", flat=True)
    )
    real_execute = rollups.recompute_execute

    def run(form: str) -> float:
        def execute(org, statements, params):
            statements = list(statements)
            if form == "baseline":
                statements = without_region(statements)
            return real_execute(org, statements, params)

        rollups.recompute_execute = execute
        keys = list(ReportTag.objects.for_organization(organization))
        try:
            with transaction.atomic():
                if form != "+ region + 1 tag":
                    ReportTag.objects.for_organization(organization).delete()
                began = time.perf_counter()
                rollups._recompute(organization, days=None, since=since, until=last)
                elapsed = time.perf_counter() - began
                transaction.set_rollback(True)
        finally:
            rollups.recompute_execute = real_execute
        assert len(keys) == ReportTag.objects.for_organization(organization).count()
        return elapsed

    forms = ("baseline", "+ region", "+ region + 1 tag")
    times: dict[str, list[float]] = {form: [] for form in forms}
    run("baseline")  # warm the cache
    for _ in range(args.runs):
        for form in forms:
            times[form].append(run(form))
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    base = statistics.median(times["baseline"])
    print(
        f"Rollup grains (bench/rollup_grains.py): recompute of {args.days} local days "
        f"({since} .. {last}, {calls:,} calls), {args.runs} runs each, interleaved; {server}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    for form in forms:
        median = statistics.median(times[form])
        print(
            f"{form:<18} median {median:6.2f} s ({calls / median:,.0f} calls/s), "
            f"{median / base:.2f}x the baseline; runs " + ", ".join(f"{t:.2f}" for t in times[form])
        )


if __name__ == "__main__":
    main()
