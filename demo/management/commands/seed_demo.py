"""`manage.py seed_demo`: a demo tenant with realistic calls, and the login to look at it.

The data itself comes from `demo.generator` (pure); this command creates the objects, writes
the calls in bulk inside one transaction, and prints the login, password and API key.
"""

from __future__ import annotations

import random
import time
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from alerts.followups import followups_scan
from alerts.models import AlertRule, FollowUpRule
from alerts.rules import MISSED_CALL_RATE
from alerts.services import alert_rules_default_create, alerts_evaluate_history
from calls.models import AdSpend, Call, CallSource, Campaign
from demo.generator import (
    BUYERS,
    CAMPAIGNS,
    EVENING_LEAK_CAMPAIGN,
    FOLLOWUP_FALLBACK_HOURS,
    FOLLOWUP_MISSED_DELAY_MINUTES,
    FOLLOWUP_NOT_CONVERTED_CAMPAIGNS,
    FOLLOWUP_NOT_CONVERTED_MINUTES,
    PUBLISHERS,
    DemoIds,
    demo_ad_spend_generate,
    demo_calls_generate,
    demo_tracking_numbers,
)
from kpis.rollups import rollups_rebuild_full
from ppc_dashboard.tenancy.models import ApiKey, Membership, Organization, Role, TenantModel
from ppc_dashboard.tenancy.services import (
    api_key_create,
    organization_create,
    user_create_with_membership,
)
from publishers.models import Publisher
from routing.models import Buyer, TrackingNumber

DEMO_ORGANIZATION_NAME = "Demo Media"
DEMO_TIMEZONE = "America/New_York"
DEMO_CURRENCY = "USD"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_API_KEY_NAME = "Demo key"
LOGIN_URL = "http://127.0.0.1:8000/"
BATCH_SIZE = 2000
# The demo's alert history: rules judged as beat would have over this many past hours.
ALERT_HISTORY_HOURS = 24
# The leaking campaign sends 5-12 calls an evening hour: its missed-call rule judges 5 calls,
# and asks for a rate that 1 or 2 missed calls of a quiet daytime hour do not reach.
EVENING_LEAK_THRESHOLDS = {"min_calls": 5, "rate_pct": 25}
# Members and API keys survive a re-seed; every other tenant-owned row is demo data.
KEPT_MODELS = (Membership, ApiKey)


class Command(BaseCommand):
    help = (
        "Create the demo organization with campaigns, publishers, buyers and calls, replacing "
        "its previous data, and print the login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data.")
        parser.add_argument("--calls", type=int, default=50_000, help="Number of calls.")
        parser.add_argument("--days", type=int, default=90, help="Days of history, up to now.")
        parser.add_argument("--org", default="demo", help="Slug of the demo organization.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but print the login) when the organization already has calls.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        calls, days, slug = options["calls"], options["days"], options["org"]
        if calls < 0:
            raise CommandError("--calls must be 0 or more.")
        if days < 1:
            raise CommandError("--days must be 1 or more.")

        organization = Organization.objects.filter(slug=slug).first()
        if (
            options["if_empty"]
            and organization is not None
            and Call.objects.for_organization(organization).exists()
        ):
            self._print_login(organization, raw_key=None)
            return

        began = time.monotonic()
        with transaction.atomic():
            if organization is None:
                try:
                    organization = organization_create(
                        slug=slug,
                        name=DEMO_ORGANIZATION_NAME,
                        timezone=DEMO_TIMEZONE,
                        currency=DEMO_CURRENCY,
                    )
                except ValidationError as exc:
                    raise CommandError(f"--org {slug!r}: {'; '.join(exc.messages)}") from exc
            else:
                _demo_data_delete(organization)
            raw_key = _demo_login_create(organization)
            call_count = _demo_data_create(
                organization, rng=random.Random(options["seed"]), calls=calls, days=days
            )
            alerts_opened = _demo_alerts_create(organization)
            followups = _demo_followups_create(organization)
        self.stdout.write(
            f"Seeded {organization.name} ({organization.slug}): {call_count:,} calls over "
            f"{days} days, {len(CAMPAIGNS)} campaigns, {len(PUBLISHERS)} publishers, "
            f"{len(BUYERS)} buyers, {alerts_opened} alerts over the last "
            f"{ALERT_HISTORY_HOURS} hours, {followups} follow-ups, "
            f"in {time.monotonic() - began:.1f} s."
        )
        self._print_login(organization, raw_key=raw_key)

    def _print_login(self, organization: Organization, *, raw_key: str | None) -> None:
        key_line = raw_key or (
            "(shown when the demo was seeded; `manage.py seed_demo` makes a new one)"
        )
        self.stdout.write(
            f"Demo organization: {organization.name} ({organization.slug})\n"
            f"Log in at {LOGIN_URL}\n"
            f"  email:    {DEMO_EMAIL}\n"
            f"  password: {DEMO_PASSWORD}\n"
            f"  API key:  {key_line}"
        )


def _demo_data_delete(organization: Organization) -> None:
    """Delete the organization's demo data: every tenant-owned row but members and API keys.

    Every TenantModel table is cleared rather than a fixed list, so tables added later (rollups,
    routing plans) cannot keep numbers of the previous demo data. Refuses when the organization
    holds calls that this command did not make: a mistyped --org must not wipe a real tenant.
    """
    foreign_calls = (
        Call.objects.for_organization(organization).exclude(source=CallSource.DEMO).count()
    )
    if foreign_calls:
        raise CommandError(
            f"Organization '{organization.slug}' has {foreign_calls:,} calls that seed_demo did "
            "not create; refusing to delete them. Pass --org with another slug."
        )
    pending = {
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model not in KEPT_MODELS
    }
    # Referencing tables first (calls before campaigns): deleting a row that is still
    # referenced would make Django load every referencing row to check PROTECT.
    while pending:
        unreferenced = [
            model
            for model in pending
            if not any(
                relation.related_model in pending and relation.related_model is not model
                for relation in model._meta.related_objects
            )
        ]
        for model in sorted(unreferenced or pending, key=lambda model: model._meta.label):
            model._default_manager.filter(organization=organization).delete()
        pending -= set(unreferenced or pending)


def _demo_login_create(organization: Organization) -> str:
    """The demo owner with the fixed password, and a fresh API key; returns the raw key."""
    user, _ = user_create_with_membership(
        email=DEMO_EMAIL, organization=organization, role=Role.OWNER, password=DEMO_PASSWORD
    )
    # One demo key at a time: the raw key of an earlier one cannot be shown again anyway.
    ApiKey.objects.for_organization(organization).filter(name=DEMO_API_KEY_NAME).delete()
    _, raw_key = api_key_create(organization=organization, name=DEMO_API_KEY_NAME, created_by=user)
    return raw_key


def _demo_data_create(
    organization: Organization, *, rng: random.Random, calls: int, days: int
) -> int:
    """Create the demo campaigns, publishers, buyers, numbers, calls and ad spend."""
    # Separate streams, so that e.g. changing the number of calls keeps the tracking numbers.
    numbers_rng, calls_rng, spend_rng = (random.Random(rng.getrandbits(64)) for _ in range(3))
    campaigns = {
        spec.key: Campaign.objects.create(
            organization=organization,
            name=spec.name,
            vertical=spec.vertical,
            qualifying_seconds=spec.qualifying_seconds,
            payout=spec.payout,
            rpm_floor=spec.rpm_floor,
        )
        for spec in CAMPAIGNS
    }
    publishers = {
        spec.key: Publisher.objects.create(
            organization=organization, name=spec.name, external_id=f"demo-{spec.key}"
        )
        for spec in PUBLISHERS
    }
    buyers = {
        spec.name: Buyer.objects.create(
            organization=organization,
            name=spec.name,
            phone_number=spec.phone_number,
            timezone=spec.timezone,
            business_hours=dict(spec.business_hours),
        )
        for spec in BUYERS
    }
    tracking_numbers = {
        (campaign_key, publisher_key): TrackingNumber.objects.create(
            organization=organization,
            number=number,
            campaign=campaigns[campaign_key],
            publisher=publishers[publisher_key],
        )
        for (campaign_key, publisher_key), number in demo_tracking_numbers(numbers_rng).items()
    }
    ids = DemoIds(
        campaigns={key: campaign.pk for key, campaign in campaigns.items()},
        publishers={key: publisher.pk for key, publisher in publishers.items()},
        buyers={name: buyer.pk for name, buyer in buyers.items()},
        tracking_numbers={key: (tn.pk, tn.number) for key, tn in tracking_numbers.items()},
    )
    call_rows = list(
        demo_calls_generate(
            rng=calls_rng,
            end=timezone.now(),
            days=days,
            calls=calls,
            timezone=organization.timezone,
            ids=ids,
        )
    )
    Call.objects.bulk_create(
        (Call(organization=organization, **row) for row in call_rows), batch_size=BATCH_SIZE
    )
    AdSpend.objects.bulk_create(
        AdSpend(organization=organization, **row)
        for row in demo_ad_spend_generate(
            rng=spend_rng,
            calls=call_rows,
            timezone=organization.timezone,
            campaign_ids=ids.campaigns,
        )
    )
    # bulk_create bypasses the ingest path, so derive what it would have derived.
    rollups_rebuild_full(organization)
    return len(call_rows)


def _demo_alerts_create(organization: Organization) -> int:
    """A default rule of every kind, emailing the demo owner, and an override that lets the
    leaking campaign's missed-call rule judge its few evening calls; then the last hours
    judged as beat would have (no messages sent). Returns the alerts opened."""
    owner = Membership.objects.get(organization=organization, user__email=DEMO_EMAIL)
    for rule in alert_rules_default_create(organization):
        rule.email_members.add(owner)
    leak_name = next(spec.name for spec in CAMPAIGNS if spec.key == EVENING_LEAK_CAMPAIGN)
    AlertRule.objects.create(
        organization=organization,
        kind=MISSED_CALL_RATE,
        campaign=Campaign.objects.for_organization(organization).get(name=leak_name),
        thresholds=EVENING_LEAK_THRESHOLDS,
    ).email_members.add(owner)
    return alerts_evaluate_history(organization, hours=ALERT_HISTORY_HOURS)


def _demo_followups_create(organization: Organization) -> int:
    """A follow-up rule on every campaign, then one scan, as beat would run it: the missed
    calls of the last days (the scan's reach, followups.MAX_CALL_AGE) become follow-ups.
    The demo has no webhook endpoint, so their events are recorded and sent nowhere.
    Returns the follow-ups made."""
    names = {spec.name: spec.key for spec in CAMPAIGNS}
    FollowUpRule.objects.bulk_create(
        FollowUpRule(
            organization=organization,
            campaign=campaign,
            on_missed=True,
            missed_delay_minutes=FOLLOWUP_MISSED_DELAY_MINUTES,
            on_not_converted=names.get(campaign.name) in FOLLOWUP_NOT_CONVERTED_CAMPAIGNS,
            not_converted_minutes=FOLLOWUP_NOT_CONVERTED_MINUTES,
            fallback_hours=FOLLOWUP_FALLBACK_HOURS,
        )
        for campaign in Campaign.objects.for_organization(organization)
    )
    return len(followups_scan(organization=organization))
