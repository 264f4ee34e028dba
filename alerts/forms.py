"""Forms of the alerts settings pages.

Webhooks: the model's validators (the URL's target, the event types) are the API's too.

Alert rules (/settings/alerts/): one field per threshold of the rule's kind. A blank threshold
keeps what is beneath it (the kind's default, or for a campaign override the tenant default
rule's value), so an override names only what it changes.

Follow-up rules (/settings/follow-ups/): the model's fields and validators, as the API's
serializer takes them; the fallback hours are the buyer screen's weekly grid.

Follow-ups: the page's buttons (the revenue of a recovery, a note).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ppc_dashboard.tenancy.forms import TenantModelForm
from ppc_dashboard.tenancy.models import Membership
from routing.forms import WeeklyHoursGridMixin

from . import rules
from .models import (
    MAX_EMAIL_ADDRESSES,
    SUBSCRIBABLE_EVENT_TYPES,
    AlertRule,
    DeliveryStatus,
    FollowUpRule,
    WebhookEndpoint,
)


class WebhookEndpointForm(TenantModelForm):
    unique_in_tenant = ("name",)

    # The model's validator (its target) runs on save; "crm.example.com" alone means https.
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        label="URL",
        help_text="https:// to a public address; we post each event here.",
    )

    event_types = forms.MultipleChoiceField(
        choices=[(name, name) for name in SUBSCRIBABLE_EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(SUBSCRIBABLE_EVENT_TYPES),
        label="Events",
        help_text="The events posted to this endpoint.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "kind", "event_types", "active"]
        labels = {"kind": "Format"}
        help_texts = {"active": "Inactive endpoints receive nothing (but the test event)."}


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *DeliveryStatus.choices], required=False
    )


# --- Alert rules ----------------------------------------------------------------------------------

THRESHOLD_PREFIX = "threshold_"


class AlertRuleForm(TenantModelForm):
    email_addresses_text = forms.CharField(
        label="Other addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One address a line (at most {MAX_EMAIL_ADDRESSES}), besides the members.",
    )

    class Meta:
        model = AlertRule
        fields = ["campaign", "enabled", "cooldown_minutes", "email_members", "webhooks"]
        labels = {
            "campaign": "Campaign",
            "cooldown_minutes": "Cooldown (minutes)",
            "webhooks": "Send to the outbound webhooks (alert.opened, alert.resolved)",
        }
        help_texts = {
            "campaign": "Empty: the default for every campaign without an override.",
            "cooldown_minutes": "An incident resolves only after its condition has been clear "
            "this long, so a flapping condition is one alert.",
        }

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.instance.kind = kind
        # Chosen among the tenant's members (the base form would make it a single choice).
        members = forms.ModelMultipleChoiceField(
            queryset=Membership.objects.for_organization(self.organization)
            .select_related("user")
            .order_by("user__email"),
            widget=forms.CheckboxSelectMultiple,
            required=False,
            label="Email these members",
        )
        members.label_from_instance = lambda m: f"{m.user.email or m.user.username} ({m.role})"
        self.fields["email_members"] = members
        if kind in rules.TENANT_ONLY_KINDS:
            del self.fields["campaign"]
        self.fields["email_addresses_text"].initial = "\n".join(self.instance.email_addresses)
        current = self.instance.thresholds or {}
        for field in rules.THRESHOLD_FIELDS[kind]:
            form_field: forms.Field
            if field.whole:
                form_field = forms.IntegerField(
                    min_value=int(field.low), max_value=int(field.high), required=False
                )
            else:
                form_field = forms.FloatField(
                    min_value=field.low, max_value=field.high, required=False
                )
            form_field.label = field.label
            form_field.help_text = f"Default {field.default}. {field.help}".strip()
            form_field.initial = current.get(field.key)
            self.fields[THRESHOLD_PREFIX + field.key] = form_field
        if kind == rules.PUBLISHER_VERDICT:
            self.fields[THRESHOLD_PREFIX + "verdicts"] = forms.MultipleChoiceField(
                choices=[(label, label) for label in rules.VERDICT_LABELS],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                label="Alert on the verdicts",
                help_text="Default: cut and fix.",
                initial=current.get("verdicts", list(rules.DEFAULT_ALERT_VERDICTS)),
            )

    def clean_email_addresses_text(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["email_addresses_text"].splitlines()]
        addresses = [line for line in lines if line]
        if len(addresses) > MAX_EMAIL_ADDRESSES:
            raise ValidationError(f"At most {MAX_EMAIL_ADDRESSES} addresses.")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError(f"{address[:40]!r} is not an email address.") from exc
        return addresses

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        overrides: dict[str, Any] = {}
        for name, value in cleaned.items():
            if name.startswith(THRESHOLD_PREFIX) and value not in (None, "", []):
                overrides[name.removeprefix(THRESHOLD_PREFIX)] = value
        try:
            self.instance.thresholds = rules.thresholds_checked(self.kind, overrides)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        campaign = cleaned.get("campaign")
        clash = AlertRule.objects.for_organization(self.organization).filter(
            kind=self.kind, campaign=campaign
        )
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            where = f"campaign {campaign}" if campaign else "the organization"
            self.add_error(
                "campaign" if "campaign" in self.fields else None,
                f"There is already a {rules.KIND_LABELS[self.kind]} rule for {where}.",
            )
        self.instance.email_addresses = cleaned.get("email_addresses_text", [])
        return cleaned


# --- Follow-up rules -----------------------------------------------------------------------------


class FollowUpRuleForm(WeeklyHoursGridMixin, TenantModelForm):
    """A campaign's follow-up rule: the bounds are the model's validators (the API's too),
    one rule per campaign is the API's `unique_in_tenant` check and message."""

    unique_in_tenant = ("campaign",)

    class Meta:
        model = FollowUpRule
        fields = [
            "campaign",
            "on_missed",
            "missed_delay_minutes",
            "on_not_converted",
            "not_converted_minutes",
        ]
        labels = {
            "on_missed": "Follow up missed calls",
            "missed_delay_minutes": "Due after (minutes)",
            "on_not_converted": "Follow up answered calls that did not convert",
            "not_converted_minutes": "Not converted after (minutes)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hours_grid_add(
            self.instance.fallback_hours if self.instance.pk else None,
            label="Hours for calls without a buyer",
            always_label="Around the clock: due at once",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.instance.fallback_hours = self.hours_grid_cleaned(cleaned)
        return cleaned


class FollowUpUpdateForm(forms.Form):
    """A follow-up page button: the revenue (for "recovered") and a note."""

    revenue = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=14, decimal_places=4
    )
    note = forms.CharField(required=False, max_length=2000)
