"""What-if benchmark: a 90-day replay of 1M calls through an edited routing plan.

    .venv/bin/python bench/whatif.py [--calls 1000000] [--seed 1] [--days 90] [--reload]
                                     [--campaigns 1] [--publishers N] [--runs 5]
                                     [--database-url postgres://...]

Loads `--calls` calls with the loader of bench/kpis.py (same generator, reused when an
identical load is there) into a scratch database of its own (`ppc_bench_whatif`), all in
one campaign by default (`--campaigns 1`), so the replay covers every call; builds the
rollups after a fresh load. Then it times, `--runs` times after a warm-up:
- the what-if (kpis.whatif.campaign_what_if): the campaign's current plan (written here the
  first time: the buyers its calls went to, in one tier) and the plan with a backup buyer
  added (open 17:00-23:00 every day, created here), each replayed over the last `--days`
  days of data with routing.rules.route_decide;
- the direct aggregate: the same arrivals (calls per local day, hour and caller region of
  the campaign over the range) summed by PostgreSQL straight from the calls table, the
  least a replay that read the calls would cost before deciding anything.
It prints both medians, the decisions made and the replay's numbers, and a line for README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import warnings
import zoneinfo
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import kpis as kpis_bench  # noqa: E402  (needs ROOT on the path)
from bench import pages as pages_bench  # noqa: E402

BACKUP_NAME = "Bench evening backup"
EVENINGS = {day: [["17:00", "23:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

DIRECT_SQL = """
SELECT (c.started_at AT TIME ZONE %(tz)s)::date AS day,
       extract(hour FROM c.started_at AT TIME ZONE %(tz)s)::int AS hour,
       c.caller_region, count(*), count(*) FILTER (WHERE c.status = 'answered')
FROM calls_call c
WHERE c.organization_id = %(org)s AND c.campaign_id = %(campaign)s
  AND c.started_at >= %(start)s AND c.started_at < %(end)s
GROUP BY 1, 2, 3
"""


def median_seconds(run, runs: int) -> tuple[float, Any]:
    result = run()  # warm-up
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kpis_bench.load_arguments_add(parser)
    parser.set_defaults(campaigns=1)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_WHATIF_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ppc_bench_whatif"
        ),
    )
    args = parser.parse_args()
    campaigns, publishers = kpis_bench.load_shape(parser, args)

    warnings.filterwarnings("ignore", message="No directory at")
    kpis_bench.ensure_database(args.database_url)
    kpis_bench.django_setup(args.database_url)
    from django.db import connection
    from django.db.models import Count

    from calls.models import Call, Campaign
    from kpis.selectors import KpiFilter
    from kpis.whatif import TargetAdd, WhatIfEdits, campaign_what_if
    from routing.models import Buyer
    from routing.services import PlanTargetInput, routing_plan_save

    migrated = pages_bench.migrate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    print(f"{server}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    organization, loaded = kpis_bench.calls_prepare(args, campaigns, publishers)
    if loaded or migrated:
        pages_bench.rollups_build(organization)

    date_to = kpis_bench.END_DAY - dt.timedelta(days=1)
    date_from = date_to - dt.timedelta(days=args.days - 1)
    kpi_filter = KpiFilter(date_from=date_from, date_to=date_to)
    campaign = (
        Campaign.objects.for_organization(organization)
        .filter(calls__started_at__date__gte=date_from)
        .annotate(n=Count("calls"))
        .order_by("-n")
        .first()
    )
    calls = Call.objects.for_organization(organization).filter(campaign=campaign).count()
    backup, _ = Buyer.objects.get_or_create(
        organization=organization,
        name=BACKUP_NAME,
        defaults={"phone_number": "+12125550199", "business_hours": EVENINGS},
    )
    if not campaign.routing_plans.exists():
        # The current plan: the buyers the loaded calls went to, in one tier.
        buyer_ids = (
            Call.objects.for_organization(organization)
            .filter(campaign=campaign, buyer__isnull=False)
            .values_list("buyer_id", flat=True)
            .distinct()
        )
        routing_plan_save(
            organization=organization,
            campaign=campaign,
            targets=[PlanTargetInput(buyer_id=b) for b in sorted(buyer_ids)],
            note="bench/whatif.py",
        )
    edits = WhatIfEdits(add=(TargetAdd(backup.id, tier=2),))

    def what_if():
        return campaign_what_if(organization, campaign, kpi_filter, edits)

    zone = organization.timezone
    start = dt.datetime.combine(date_from, dt.time(), zoneinfo.ZoneInfo(zone))
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), zoneinfo.ZoneInfo(zone))

    def direct():
        with connection.cursor() as cursor:
            cursor.execute(
                DIRECT_SQL,
                {
                    "tz": zone,
                    "org": organization.pk,
                    "campaign": campaign.pk,
                    "start": start,
                    "end": end,
                },
            )
            return cursor.fetchall()

    replay_s, result = median_seconds(what_if, args.runs)
    direct_s, rows = median_seconds(direct, args.runs)
    print(
        f"campaign {campaign.name}: {calls:,} calls, {result.observed_calls:,} in "
        f"{date_from}..{date_to}; {len(result.before_plan.targets)} targets before, "
        f"{len(result.after_plan.targets)} after"
    )
    print(
        f"replay: {result.before.decisions:,} decisions a plan; missed-call rate "
        f"{result.before.missed_rate:.2f}% -> {result.after.missed_rate:.2f}% "
        f"(recorded {result.observed_missed_rate:.2f}%), {result.recovered_calls:,.0f} calls "
        f"and {result.recovered_revenue} recovered"
    )
    print(f"direct aggregate of the same arrivals: {len(rows):,} (day, hour, region) rows")
    print(
        f"\nREADME: what-if over {args.days} days of {result.observed_calls:,} calls "
        f"(bench/whatif.py, {args.runs} runs): replay of both plans {replay_s * 1000:,.0f} ms "
        f"median; the direct aggregate of its arrivals from the calls table "
        f"{direct_s * 1000:,.0f} ms; load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
