"""The campaign thresholds form (what a campaign's calls are judged by) and the campaign
page's what-if form."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django import forms

from calls.models import Campaign
from calls.services import campaign_save
from kpis.models import REPORT_TAGS_MAX
from kpis.services import report_tag_key_error, report_tags_errors
from kpis.verdicts import VerdictThresholds
from kpis.whatif import TargetAdd, WhatIfEdits

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
        return campaign_save(campaign)


class ReportTagsForm(forms.Form):
    """The tenant's report tags: up to REPORT_TAGS_MAX tag keys, one per line, in order."""

    keys = forms.CharField(
        label="Report tags",
        required=False,
        widget=forms.Textarea(attrs={"rows": REPORT_TAGS_MAX, "cols": 40}),
        help_text=(
            f"Up to {REPORT_TAGS_MAX} tag keys, one per line, spelled as your calls carry "
            "them (e.g. source, keyword, state). Letters, digits, spaces, '_', '-' and '.'."
        ),
    )

    def clean_keys(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["keys"].splitlines()]
        keys = [line for line in lines if line]
        errors = [
            f"Line {number}: {error}"
            for number, line in enumerate(lines, start=1)
            if line and (error := report_tag_key_error(line))
        ]
        if not errors:
            errors = report_tags_errors(keys)
        if errors:
            raise forms.ValidationError(errors)
        return keys


# --- What-if ---------------------------------------------------------------------------------

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WhatIfForm(forms.Form):
    """The campaign page's what-if: one edit of each kind at most, all optional. Read with GET
    (it changes nothing), its fields prefixed `wi_` so they never meet the filter bar's."""

    prefix = "wi"

    add_buyer = forms.TypedChoiceField(
        label="Add a backup buyer", required=False, coerce=int, empty_value=None
    )
    add_tier = forms.IntegerField(label="in tier", required=False, min_value=1, max_value=20)
    hours_buyer = forms.TypedChoiceField(
        label="Change the hours of", required=False, coerce=int, empty_value=None
    )
    hours_open = forms.TimeField(
        label="open every day from", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    hours_close = forms.TimeField(
        label="until", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    cap_buyer = forms.TypedChoiceField(
        label="Change the caps of", required=False, coerce=int, empty_value=None
    )
    concurrency_cap = forms.IntegerField(
        label="concurrency", required=False, min_value=1, max_value=100000
    )
    hourly_cap = forms.IntegerField(label="hourly cap", required=False, min_value=1)
    daily_cap = forms.IntegerField(label="daily cap", required=False, min_value=1)

    def __init__(self, *args, plan_buyers: list[tuple[int, str]], other_buyers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add_buyer"].choices = [("", "-"), *other_buyers]
        for name in ("hours_buyer", "cap_buyer"):
            self.fields[name].choices = [("", "-"), *plan_buyers]

    def clean(self):
        data = super().clean()
        if data.get("hours_buyer") and not (data.get("hours_open") and data.get("hours_close")):
            self.add_error("hours_open", "Give both the opening and the closing time.")
        opens, closes = data.get("hours_open"), data.get("hours_close")
        if opens and closes and closes != dt.time(0, 0) and closes <= opens:
            self.add_error("hours_close", "Closes before it opens (00:00 means midnight).")
        caps = ("concurrency_cap", "hourly_cap", "daily_cap")
        if data.get("cap_buyer") and all(data.get(name) is None for name in caps):
            self.add_error("concurrency_cap", "Give at least one new cap.")
        if not any(data.get(name) for name in ("add_buyer", "hours_buyer", "cap_buyer")):
            raise forms.ValidationError("Choose at least one change to try.")
        return data

    def edits(self, next_tier: int) -> WhatIfEdits:
        data = self.cleaned_data
        add = ()
        if data.get("add_buyer"):
            add = (TargetAdd(data["add_buyer"], tier=data.get("add_tier") or next_tier),)
        changes: dict[int, dict[str, Any]] = {}
        if data.get("hours_buyer"):
            window = [
                data["hours_open"].strftime("%H:%M"),
                "24:00"
                if data["hours_close"] == dt.time(0, 0)
                else data["hours_close"].strftime("%H:%M"),
            ]
            changes.setdefault(data["hours_buyer"], {})["hours"] = {
                day: [window] for day in EVERY_DAY
            }
        if data.get("cap_buyer"):
            for name in ("concurrency_cap", "hourly_cap", "daily_cap"):
                if data.get(name) is not None:
                    changes.setdefault(data["cap_buyer"], {})[name] = data[name]
        return WhatIfEdits(add=add, changes=changes)
