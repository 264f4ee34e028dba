"""`manage.py rebuild_rollups [--org SLUG] [--since DATE]`: recompute rollups from the calls."""

import datetime as dt
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from calls.models import Call
from kpis.rollups import local_day_bounds, rollups_rebuild_full
from ppc_dashboard.tenancy.models import Organization


class Command(BaseCommand):
    help = "Recompute repeat-caller flags and every rollup of one or all organizations."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organization slug (default: all)")
        parser.add_argument(
            "--since",
            type=dt.date.fromisoformat,
            help="First local day to rebuild, YYYY-MM-DD (default: all history)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.ROLLUP_REBUILD_WORKERS,
            help="Database connections used at once (PostgreSQL; default %(default)s)",
        )

    def handle(self, *args, org=None, since=None, workers=1, **options):
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organization with slug '{org}'.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        began = time.monotonic()
        total = 0
        for organization in organizations:
            calls = Call.objects.for_organization(organization)
            if since:
                calls = calls.filter(
                    started_at__gte=local_day_bounds(since, organization.tzinfo)[0]
                )
            with tqdm(
                total=calls.count(), desc=organization.slug, unit="call", unit_scale=True
            ) as bar:
                total += rollups_rebuild_full(
                    organization, since, workers=workers, progress=bar.update
                )
        elapsed = time.monotonic() - began
        rate = total / elapsed if elapsed else 0
        self.stdout.write(
            f"Rebuilt rollups of {total:,} calls in {elapsed:.1f} s ({rate:,.0f} calls/s)."
        )
