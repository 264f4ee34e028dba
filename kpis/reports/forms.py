"""The weekly report subscription form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from calls.models import Campaign
from kpis.pages.page_filters import page_filters_from_query
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer

# The weekly report always covers the last full week, so only these filters are kept.
SUBSCRIPTION_FILTER_KEYS = ("campaign", "publisher", "buyer", "vertical")
_FILTER_MODELS = {"campaign": Campaign, "publisher": Publisher, "buyer": Buyer}


def subscription_filters_from_query(query: QueryDict) -> str:
    """The report filters of a page's query string, as stored in ReportSubscription.filters."""
    kept = QueryDict(mutable=True)
    for key in SUBSCRIPTION_FILTER_KEYS:
        value = query.get(key, "").strip()
        if value:
            kept[key] = value
    return kept.urlencode()


class ReportSubscriptionForm(forms.Form):
    filters = forms.CharField(
        max_length=500,
        required=False,
        label="Filters",
        help_text=(
            "Optional: a page's filters, e.g. campaign=3&vertical=legal. The report always "
            "covers the last full week, so date filters are dropped."
        ),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_filters(self) -> str:
        query = QueryDict(self.cleaned_data["filters"].strip().lstrip("?"))
        filters = subscription_filters_from_query(query)
        parsed = page_filters_from_query(QueryDict(filters), self.organization)
        problems = list(parsed.errors.values())
        for key, model in _FILTER_MODELS.items():
            pk = getattr(parsed.kpi_filter, f"{key}_id")
            if pk and not model.objects.for_organization(self.organization).filter(pk=pk).exists():
                problems.append(f"There is no {key} with id {pk}.")
        if problems:
            raise ValidationError(problems)
        return filters
