"""The report subscription form: a member or an address, daily or weekly, with filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from calls.models import Campaign
from kpis.models import ReportFrequency
from kpis.pages.page_filters import page_filters_from_query
from ppc_dashboard.tenancy.models import Membership, Organization
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
    member = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Member",
        help_text="A member of the organization, or leave empty and give an address below.",
    )
    email = forms.EmailField(
        required=False,
        label="Or any email address",
        help_text="Someone outside the organization: each mail carries a link to unsubscribe.",
    )
    frequency = forms.ChoiceField(
        choices=ReportFrequency.choices,
        initial=ReportFrequency.WEEKLY,
        widget=forms.RadioSelect,
        label="How often",
        help_text="Daily: yesterday's report every day; weekly: last week's on Mondays; "
        "both at 08:00 in the organization's time zone.",
    )
    filters = forms.CharField(
        max_length=500,
        required=False,
        label="Filters",
        help_text=(
            "Optional: a page's filters, e.g. campaign=3&vertical=legal. The report always "
            "covers yesterday or the last full week, so date filters are dropped."
        ),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        members = (
            Membership.objects.for_organization(organization)
            .exclude(user__email="")  # the report goes nowhere without an address
            .select_related("user")
            .order_by("user__email", "user__username")
        )
        self.members = {m.user_id: m.user for m in members}
        self.fields["member"].choices = [("", "-")] + [
            (user.pk, user.email or user.username) for user in self.members.values()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        member, email = cleaned.get("member"), cleaned.get("email")
        if "email" in self.errors or "member" in self.errors:
            return cleaned
        if (member is None) == (not email):
            raise ValidationError("Choose a member or give an email address (one of them).")
        cleaned["user"] = self.members[member] if member is not None else None
        return cleaned

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
