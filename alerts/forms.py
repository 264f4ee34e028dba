"""Forms of the webhook settings pages (the model's validators, the URL's target and the event
types, are the API's too) and of the follow-up buttons."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from ppc_dashboard.tenancy.forms import TenantModelForm

from .models import SUBSCRIBABLE_EVENT_TYPES, DeliveryStatus, WebhookEndpoint


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


class FollowUpUpdateForm(forms.Form):
    """A follow-up page button: the revenue (for "recovered") and a note."""

    revenue = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=14, decimal_places=4
    )
    note = forms.CharField(required=False, max_length=2000)
