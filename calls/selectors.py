"""Reads of the calls app that pages share."""

from __future__ import annotations

from dataclasses import dataclass

from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer

from .models import Campaign


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
