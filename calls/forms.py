"""Forms of the calls app's settings pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from ppc_dashboard.tenancy.forms import TenantModelChoiceField, TenantModelForm
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher

from .ad_spend import AdSpendEntry
from .importers import PRESETS
from .models import AdSpend, CallSource, Campaign
from .services import campaign_save


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


# --- Setup screens -------------------------------------------------------------------------


class CampaignForm(TenantModelForm):
    """A campaign's setup: the same fields and rules as `POST /api/v1/campaigns/`.

    The verdict thresholds are the KPI engine's page (kpis.pages); this form leaves them be.
    Saving goes through `campaign_save`, so a changed qualifying threshold or duplicate window
    re-derives history as the API's update does.
    """

    unique_in_tenant = ("name",)

    class Meta:
        model = Campaign
        fields = [
            "name",
            "vertical",
            "qualifying_seconds",
            "payout",
            "rpm_floor",
            "duplicate_window_days",
            "status",
        ]
        labels = {
            "qualifying_seconds": "Qualifying seconds",
            "payout": "Payout per qualified call",
            "rpm_floor": "RPM floor",
            "duplicate_window_days": "Duplicate window (days)",
        }
        help_texts = {
            "qualifying_seconds": "An answered call at least this long is qualified.",
            "duplicate_window_days": "A call from the same caller within this many days is a "
            "repeat call.",
            "rpm_floor": "Optional. Revenue per minute under which the campaign is a cut "
            "candidate.",
        }

    def save(self, commit: bool = True) -> Campaign:
        return campaign_save(super().save(commit=False))


# --- Ad spend ------------------------------------------------------------------------------

AD_SPEND_GRID_DAYS = 7


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week: the grid shows whole weeks."""
    return day - dt.timedelta(days=day.weekday())


class AdSpendPickForm(forms.Form):
    """Which grid to show: a campaign, a publisher or none (campaign-wide spend), a week."""

    campaign = TenantModelChoiceField(queryset=Campaign.objects.none())
    publisher = TenantModelChoiceField(
        queryset=Publisher.objects.none(),
        required=False,
        empty_label="No publisher (campaign-wide)",
        help_text="Optional.",
    )
    start = forms.DateField(
        label="Week of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Any day of the week to show.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        for name, model in (("campaign", Campaign), ("publisher", Publisher)):
            field = self.fields[name]
            field.queryset = model.objects.for_organization(organization).order_by("name")  # type: ignore[attr-defined]

    def clean_start(self) -> dt.date:
        return week_start(self.cleaned_data["start"] or self.organization.local_today())


class AdSpendGridForm(AdSpendPickForm):
    """A week of one campaign's (and publisher's) ad spend, a field per day. A blank day has
    no ad spend (its row, if any, is removed); amounts follow the model's rules, as the API's
    do (0 or more, at most 14 digits with 4 decimals)."""

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, organization=organization, **kwargs)
        for name in ("campaign", "publisher", "start"):
            self.fields[name].widget = forms.HiddenInput()
        start = self._start_from_data()
        self.days = [start + dt.timedelta(days=n) for n in range(AD_SPEND_GRID_DAYS)]
        amount = AdSpend._meta.get_field("amount")
        for day in self.days:
            # The model field's rules (and so the API's): 0 or more, 14 digits, 4 decimals.
            self.fields[self.day_field_name(day)] = amount.formfield(
                required=False,
                validators=amount.validators,
                label=f"Ad spend on {day:%A %Y-%m-%d}",
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            )

    def _start_from_data(self) -> dt.date:
        raw = self.data.get(self.add_prefix("start")) if self.is_bound else None
        raw = raw or self.initial.get("start")
        try:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        except ValueError:
            day = self.organization.local_today()
        return week_start(day)

    @staticmethod
    def day_field_name(day: dt.date) -> str:
        return f"amount_{day.isoformat()}"

    def day_fields(self) -> list[tuple[dt.date, forms.BoundField]]:
        return [(day, self[self.day_field_name(day)]) for day in self.days]

    def clean_start(self) -> dt.date:
        start = super().clean_start()
        if start != self.days[0]:
            raise ValidationError("The week changed while you edited: open it again.")
        return start

    def entries(self) -> list[AdSpendEntry]:
        return [
            AdSpendEntry(
                campaign=self.cleaned_data["campaign"],
                publisher=self.cleaned_data["publisher"],
                day=day,
                amount=self.cleaned_data[self.day_field_name(day)],
            )
            for day in self.days
        ]


class AdSpendUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns day (YYYY-MM-DD), campaign, publisher (blank for campaign-wide) "
        "and amount, with a header row.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.API_MAX_BODY_BYTES
        if upload.size > limit:
            raise ValidationError(f"The file is over {limit // (1024 * 1024)} MB: split it.")
        return upload
