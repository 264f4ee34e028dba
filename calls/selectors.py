"""Reads of the calls app that pages share: filter choices, the export's rows, onboarding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from ppc_dashboard.tenancy.models import ApiKey, Organization
from publishers.models import Publisher
from routing.models import Buyer, TrackingNumber

from .models import Call, CallImport, Campaign


@dataclass(frozen=True)
class FilterChoices:
    """The tenant's campaigns, publishers and buyers as (id, name): every page's filter bar."""

    campaigns: list[tuple[int, str]]
    publishers: list[tuple[int, str]]
    buyers: list[tuple[int, str]]


def filter_choices(organization: Organization) -> FilterChoices:
    def names(model) -> list[tuple[int, str]]:
        return list(
            model.objects.for_organization(organization).order_by("name").values_list("id", "name")
        )

    return FilterChoices(
        campaigns=names(Campaign), publishers=names(Publisher), buyers=names(Buyer)
    )


# The export's columns, read as plain tuples: a model instance per row would cost 5x the CPU.
CALL_LOG_EXPORT_FIELDS = (
    "external_id",
    "started_at",
    "status",
    "duration_seconds",
    "campaign_id",
    "campaign__name",
    "publisher_id",
    "publisher__name",
    "buyer_id",
    "buyer__name",
    "caller_number",
    "caller_region",
    "dialed_number",
    "is_repeat",
    "converted",
    "converted_at",
    "revenue",
    "cost",
    "source",
    "tags_json",
)


def call_log_export_rows(calls: QuerySet[Call], *, chunk_size: int = 2000) -> Iterator[tuple]:
    """The rows of `calls` (already tenant-scoped and filtered) for the CSV export, newest
    first, fetched `chunk_size` at a time (a server-side cursor on PostgreSQL): a million
    calls never sit in memory at once. Lazy: nothing is read before the first row is asked."""
    return (
        calls.order_by("-started_at", "-id")
        # The tags as the database's JSON text: decoding each row's JSON only to encode it
        # again cost a fifth of the export's time.
        .annotate(tags_json=Cast("tags", TextField()))
        .values_list(*CALL_LOG_EXPORT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )


# --- Onboarding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardingStep:
    key: str
    title: str
    done: bool


def onboarding_steps(organization: Organization) -> list[OnboardingStep]:
    """A new tenant's first steps, each done or not: a campaign, a tracking number, a way
    for calls to come in (an API key or a CSV import), and the first call itself."""

    def exists(model) -> bool:
        return model.objects.for_organization(organization).exists()

    return [
        OnboardingStep("campaign", "Create a campaign", exists(Campaign)),
        OnboardingStep("tracking_number", "Add a tracking number", exists(TrackingNumber)),
        OnboardingStep(
            "data_source", "Create an API key or import a CSV", exists(ApiKey) or exists(CallImport)
        ),
        OnboardingStep("first_call", "See the first call arrive", exists(Call)),
    ]
