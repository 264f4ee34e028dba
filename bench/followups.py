"""Follow-ups benchmark: beat's every-minute scan over a busy tenant's last hours of calls.

    .venv/bin/python bench/followups.py [--calls 20000] [--database-url postgres://...]

In a scratch PostgreSQL database of its own (`ppc_bench_followups` by default, migrated, the
bench tenant's rows emptied first), with tasks run in place (no REDIS_URL):
- `--calls` calls of one campaign with a follow-up rule (missed, and not converted within
  60 minutes), spread over the 4 hours before now: a fifth missed, the rest answered, a
  tenth of those converted;
- first scan: every call is new to it (written since the watermark): it creates the
  follow-ups of the missed calls and of the answered ones past their deadline, marks their
  calls and publishes one `followup.created` event each (no endpoint subscribed, so no post);
- second scan at once: nothing new; the cost beat pays every minute for such a tenant;
- baseline, in the same run: the same follow-up rows inserted in one statement and their
  calls marked in another (rolled back): the database work no scan can avoid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, whose kpis.py would shadow the app

from bench import kpis as kpis_bench  # noqa: E402  (needs ROOT on the path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_FOLLOWUPS_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/ppc_bench_followups",
        ),
    )
    args = parser.parse_args()
    os.environ.pop("REDIS_URL", None)
    kpis_bench.ensure_database(args.database_url)
    kpis_bench.django_setup(args.database_url)
    from django.core.management import call_command
    from django.utils import timezone

    from alerts.followups import followups_scan
    from alerts.models import FollowUp, FollowUpRule, FollowUpScan, OutboundEvent
    from calls.models import Call, Campaign
    from kpis.models import DirtyDay
    from ppc_dashboard.tenancy.models import Organization
    from routing.models import Buyer

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-followups", defaults={"name": "Bench", "timezone": "America/New_York"}
    )
    for model in (FollowUp, FollowUpScan, OutboundEvent, Call, DirtyDay, FollowUpRule):
        model.objects.filter(organization=org).delete()
    campaign, _ = Campaign.objects.get_or_create(organization=org, name="Auto")
    buyer, _ = Buyer.objects.get_or_create(
        organization=org, name="Desk", defaults={"business_hours": {}}
    )
    FollowUpRule.objects.create(
        organization=org, campaign=campaign, on_not_converted=True, not_converted_minutes=60
    )
    now = timezone.now()
    calls = []
    for n in range(args.calls):
        missed = n % 5 == 0
        calls.append(
            Call(
                organization=org,
                external_id=f"bench-{n}",
                campaign=campaign,
                buyer=buyer,
                caller_number=f"+1312555{n % 10000:04d}",
                started_at=now - dt.timedelta(seconds=(n * 4 * 3600) // args.calls + 1),
                status="missed" if missed else "answered",
                duration_seconds=0 if missed else 120,
                converted=not missed and n % 10 == 1,
                revenue=Decimal("0"),
            )
        )
    Call.objects.bulk_create(calls, batch_size=2000)
    FollowUpScan.objects.create(organization=org, scanned_until=now - dt.timedelta(hours=5))

    began = time.perf_counter()
    created = followups_scan(organization=org, now=now)
    first_ms = (time.perf_counter() - began) * 1000
    print(
        f"first scan: {args.calls} calls written since the watermark, {len(created)} "
        f"follow-ups created, marked and published in {first_ms:.0f} ms "
        f"({first_ms / max(len(created), 1):.2f} ms per follow-up)"
    )
    began = time.perf_counter()
    again = followups_scan(organization=org, now=now + dt.timedelta(minutes=1))
    print(
        f"next scan a minute later: {len(again)} new, {(time.perf_counter() - began) * 1000:.0f} ms"
    )
    baseline_ms = direct_write_ms(org, created)
    print(
        f"baseline, same run: the same {len(created)} follow-up rows written directly "
        f"(one bulk INSERT, one UPDATE of their calls, rolled back) in {baseline_ms:.0f} ms; "
        f"the scan took {first_ms / max(baseline_ms, 0.001):.1f}x that"
    )


class _RolledBack(Exception):
    pass


def direct_write_ms(org, created) -> float:
    """The database work a scan cannot avoid: its follow-up rows inserted in one statement and
    their calls marked in another, timed inside a transaction that is then rolled back."""
    from django.db import transaction
    from django.utils import timezone

    from alerts.models import FollowUp
    from calls.models import Call

    fields = ("organization_id", "call_id", "campaign_id", "publisher_id", "buyer_id")
    copies = [
        FollowUp(
            **{name: getattr(followup, name) for name in fields},
            caller_number=followup.caller_number,
            reason=followup.reason,
            due_at=followup.due_at,
        )
        for followup in created
    ]
    took = 0.0
    try:
        with transaction.atomic():
            FollowUp.objects.filter(organization=org).delete()
            began = time.perf_counter()
            FollowUp.objects.bulk_create(copies)
            Call.objects.filter(pk__in=[f.call_id for f in copies]).update(
                followup_at=timezone.now()
            )
            took = (time.perf_counter() - began) * 1000
            raise _RolledBack
    except _RolledBack:
        pass
    return took


if __name__ == "__main__":
    main()
