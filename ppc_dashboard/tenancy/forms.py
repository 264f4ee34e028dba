"""Forms of the settings pages: they validate; the write is a ModelForm's `save()` or the
service the view calls with the cleaned data.

Role rules live here, next to the forms that apply them: only an owner grants, changes or
removes the owner role (`may_manage_role`), and an organization always keeps at least one owner.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict

from calls.importers import PRESETS
from calls.models import CallSource, Campaign
from calls.services import campaign_settings_changed
from kpis.pages.page_filters import page_filters_from_query
from kpis.verdicts import VerdictThresholds
from publishers.models import Publisher
from routing.models import Buyer

from .models import Membership, Organization, Role

# --- Campaign thresholds -------------------------------------------------------------------

THRESHOLD_LABELS = {
    "strong_conversion_pct": "Strong conversion: above (%)",
    "weak_conversion_pct": "Weak conversion: below (%)",
    "weak_ci_upper_pct": "Weak only if the 95% interval stays below (%)",
    "min_calls": "Calls needed before judging",
    "missed_leak_pct": "Missed-call leak: above (%)",
    "repeat_rate_pct": "Repeat rate to watch: above (%)",
    "short_call_rate_pct": "Short-call rate to watch: above (%)",
    "insurance_benchmark_seconds": "Insurance duration benchmark (s)",
    "legal_benchmark_seconds": "Legal duration benchmark (s)",
    "home_services_benchmark_seconds": "Home services duration benchmark (s)",
    "other_benchmark_seconds": "Other verticals duration benchmark (s)",
}
THRESHOLD_NAMES = [item.name for item in dataclasses.fields(VerdictThresholds)]


def _threshold_field(item: dataclasses.Field, inherited: Any) -> forms.Field:
    label = THRESHOLD_LABELS.get(item.name, item.name.replace("_", " ").capitalize())
    help_text = f"Blank uses the organization's value ({inherited:g})."
    attrs = {"placeholder": f"{inherited:g}"}
    if isinstance(item.default, int):
        lowest = 1 if item.name == "min_calls" else 0
        return forms.IntegerField(
            label=label,
            required=False,
            min_value=lowest,
            help_text=help_text,
            widget=forms.NumberInput(attrs=attrs),
        )
    return forms.FloatField(
        label=label,
        required=False,
        min_value=0,
        max_value=100,
        help_text=help_text,
        widget=forms.NumberInput(attrs={**attrs, "step": "any"}),
    )


class CampaignThresholdsForm(forms.ModelForm):
    """A campaign's qualifying threshold, RPM floor, duplicate window and verdict overrides.

    Each VerdictThresholds field is one optional number: blank inherits the tenant's value.
    Saving re-computes history when the qualifying seconds or the duplicate window change.
    """

    class Meta:
        model = Campaign
        fields = ["qualifying_seconds", "rpm_floor", "duplicate_window_days"]
        labels = {
            "qualifying_seconds": "Qualifying seconds",
            "rpm_floor": "RPM floor",
            "duplicate_window_days": "Duplicate window (days)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaign: Campaign = self.instance
        self._saved = (campaign.qualifying_seconds, campaign.duplicate_window_days)
        self.tenant_overrides = campaign.organization.verdict_thresholds or {}
        inherited = VerdictThresholds.from_overrides(self.tenant_overrides, None)
        overrides = campaign.verdict_thresholds or {}
        for item in dataclasses.fields(VerdictThresholds):
            self.fields[item.name] = _threshold_field(item, getattr(inherited, item.name))
            self.initial.setdefault(item.name, overrides.get(item.name))

    def threshold_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in THRESHOLD_NAMES]

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        overrides = {
            name: cleaned[name] for name in THRESHOLD_NAMES if cleaned.get(name) is not None
        }
        try:
            VerdictThresholds.from_overrides(self.tenant_overrides, overrides)
        except ValueError as exc:
            # The message starts with the offending key (kpis.verdicts): show it on that field.
            message = str(exc)
            field = next((name for name in THRESHOLD_NAMES if message.startswith(name)), None)
            self.add_error(field, message)
        self.overrides = overrides
        return cleaned

    def save(self, commit: bool = True) -> Campaign:
        campaign = super().save(commit=False)
        campaign.verdict_thresholds = self.overrides
        campaign.save()
        qualifying, duplicate_window = self._saved
        qualifying_changed = campaign.qualifying_seconds != qualifying
        duplicate_window_changed = campaign.duplicate_window_days != duplicate_window
        if qualifying_changed or duplicate_window_changed:
            campaign_settings_changed(
                campaign,
                qualifying_changed=qualifying_changed,
                duplicate_window_changed=duplicate_window_changed,
            )
        return campaign


# --- API keys ------------------------------------------------------------------------------


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the key, e.g. “Ringba webhook” or “nightly import”."
    )


# --- Members and roles ---------------------------------------------------------------------


def may_manage_role(role: str, acting_role: str) -> bool:
    """Whether a member of `acting_role` may grant this role, or change or remove a member
    holding it: only an owner grants, changes or removes the owner role."""
    return role != Role.OWNER or acting_role == Role.OWNER


def roles_grantable_by(acting_role: str) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if may_manage_role(value, acting_role)]


def _refuse_owner_change(role: str, acting_role: str) -> None:
    if not may_manage_role(role, acting_role):
        raise ValidationError("Only an owner can change or remove an owner.")


def _refuse_losing_last_owner(membership: Membership, role: str) -> None:
    """An organization keeps at least one owner (`role` is the membership's saved role).

    The owners' rows are locked, so two owners demoting each other at once cannot both pass;
    the views run this check and the write in one transaction.
    """
    if role != Role.OWNER:
        return
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [membership.pk]:
        raise ValidationError(
            "This is the organization's last owner: make another member an owner first."
        )


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args: Any, organization: Organization, acting_role: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["role"].choices = roles_grantable_by(acting_role)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        already = Membership.objects.for_organization(self.organization).filter(
            user__email__iexact=email
        )
        if already.exists():
            raise ValidationError("This person is already a member: change their role instead.")
        return email


class MembershipRoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def __init__(self, *args: Any, acting_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting_role = acting_role
        self.saved_role = self.instance.role
        self.fields["role"].choices = roles_grantable_by(acting_role)

    @property
    def locked(self) -> bool:
        """Whether the acting member may not touch this membership at all."""
        return not may_manage_role(self.saved_role, self.acting_role)

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        _refuse_owner_change(self.saved_role, self.acting_role)
        if role != Role.OWNER:
            _refuse_losing_last_owner(self.instance, self.saved_role)
        return role


class MembershipRemoveForm(forms.Form):
    """Confirms the removal of a member; refuses owners (for non-owners) and the last owner."""

    def __init__(self, *args: Any, membership: Membership, acting_role: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.acting_role = acting_role

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _refuse_owner_change(self.membership.role, self.acting_role)
        _refuse_losing_last_owner(self.membership, self.membership.role)
        return cleaned


# --- Report subscriptions ------------------------------------------------------------------

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


# --- CSV import ----------------------------------------------------------------------------


def import_format_choices() -> list[tuple[str, str]]:
    return [(name, CallSource(PRESETS[name].source).label) for name in sorted(PRESETS)]


class CallImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
    format = forms.ChoiceField(choices=import_format_choices, initial="native")
    create_missing = forms.BooleanField(
        required=False,
        label="Create missing campaigns, publishers and buyers",
        help_text="Otherwise a row naming an unknown one is reported as an error.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Page uploads share the request body limit of the pages; the API takes larger files.
        limit = settings.API_MAX_BODY_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is over {limit // (1024 * 1024)} MB: upload it through the API."
            )
        return upload
