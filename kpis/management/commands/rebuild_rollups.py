"""`manage.py rebuild_rollups [--org SLUG] [--since DATE]`: recompute rollups from the calls."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min, Sum
from tqdm import tqdm

from calls.models import Call
from calls.repeat_calls import repeat_flags_rederive
from kpis.models import CallRollupDaily
from kpis.rollups import local_day_bounds, rollups_rebuild
from ppc_dashboard.tenancy.models import Organization

CHUNK_DAYS = 31  # one set-based recompute per chunk; the progress bar moves per chunk


class Command(BaseCommand):
    help = "Recompute repeat-caller flags and every rollup of one or all organizations."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organization slug (default: all)")
        parser.add_argument(
            "--since",
            type=dt.date.fromisoformat,
            help="First local day to rebuild, YYYY-MM-DD (default: all history)",
        )

    def handle(self, *args, org=None, since=None, **options):
        organizations = Organization.objects.order_by("slug")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organization with slug '{org}'.")
        began = time.monotonic()
        total = 0
        for organization in organizations:
            total += self._rebuild(organization, since)
        elapsed = time.monotonic() - began
        rate = total / elapsed if elapsed else 0
        self.stdout.write(
            f"Rebuilt rollups of {total:,} calls in {elapsed:.1f} s ({rate:,.0f} calls/s)."
        )

    def _rebuild(self, organization: Organization, since: dt.date | None) -> int:
        tz = organization.tzinfo
        since_instant = local_day_bounds(since, tz)[0] if since else None
        calls = Call.objects.for_organization(organization)
        if since_instant:
            calls = calls.filter(started_at__gte=since_instant)
        span = calls.aggregate(first=Min("started_at"), last=Max("started_at"))
        repeat_flags_rederive(organization.pk, since=since_instant)
        if span["first"] is None:
            rollups_rebuild(organization, since=since)
            return 0
        first_day = span["first"].astimezone(tz).date()
        last_day = span["last"].astimezone(tz).date()
        done = 0
        with tqdm(total=calls.count(), desc=organization.slug, unit="call", unit_scale=True) as bar:
            day = since or first_day
            # Days before the first call (from --since) and after the last one are cleared too.
            rollups_rebuild(organization, since=since, until=first_day - dt.timedelta(days=1))
            while day <= last_day:
                until = min(day + dt.timedelta(days=CHUNK_DAYS - 1), last_day)
                rollups_rebuild(organization, since=day, until=until)
                chunk = (
                    CallRollupDaily.objects.for_organization(organization)
                    .filter(day__gte=day, day__lte=until)
                    .aggregate(calls=Sum("calls"))["calls"]
                    or 0
                )
                bar.update(chunk)
                done += chunk
                day = until + dt.timedelta(days=1)
            rollups_rebuild(organization, since=last_day + dt.timedelta(days=1))
        return done
