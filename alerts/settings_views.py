"""Settings pages of alerts.

Outbound webhooks: the endpoints (create, edit, rotate the secret, send a test event, delete)
and the delivery log (with redeliver); the writes are alerts.outbound's, as the API's.
Alert rules (/settings/alerts/): the tenant's default rule of each kind and the campaign
overrides.
Follow-up rules (/settings/follow-ups/): each campaign's rule, or none.

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views import View
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    ListView,
    TemplateView,
    UpdateView,
)

from calls.models import Campaign
from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantDeleteMixin, TenantFormMixin

from . import rules
from .forms import AlertRuleForm, DeliveryFilterForm, FollowUpRuleForm, WebhookEndpointForm
from .models import AlertRule, FollowUpRule, WebhookDelivery, WebhookEndpoint
from .outbound import (
    RedeliveryRefused,
    webhook_delivery_redeliver,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_send_test,
)
from .selectors import webhook_deliveries_recent
from .services import alert_rule_delete


def _secret_page(request, endpoint: WebhookEndpoint, *, rotated: bool):
    # Rendered, not redirected to: the secret is in this response only, and never cached.
    response = render(
        request, "settings/webhook_secret.html", {"endpoint": endpoint, "rotated": rotated}
    )
    add_never_cache_headers(response)
    return response


class WebhookListView(SettingsPageMixin, ListView):
    template_name = "settings/webhook_list.html"
    context_object_name = "endpoints"

    def get_queryset(self):
        return self.tenant_queryset(WebhookEndpoint).order_by("name")


class WebhookCreateView(TenantFormMixin, CreateView):
    writers_only = True
    model = WebhookEndpoint
    form_class = WebhookEndpointForm
    template_name = "settings/webhook_setup.html"

    def form_valid(self, form):
        endpoint = form.save()
        return _secret_page(self.request, endpoint, rotated=False)


class WebhookUpdateView(TenantFormMixin, UpdateView):
    model = WebhookEndpoint
    form_class = WebhookEndpointForm
    template_name = "settings/webhook_setup.html"
    context_object_name = "endpoint"
    success_url_name = "settings-webhooks"
    saved_message = "Saved the webhook endpoint {object}."

    def get_context_data(self, **kwargs):
        kwargs["deliveries"] = webhook_deliveries_recent(
            self.organization, endpoint_id=self.object.pk
        )[:10]
        return super().get_context_data(**kwargs)


class WebhookDeleteView(TenantDeleteMixin, DeleteView):
    model = WebhookEndpoint
    success_url_name = "settings-webhooks"


class WebhookRotateView(SettingsPageMixin, DetailView):
    """A confirmation (GET), then the new secret, shown once (POST)."""

    writers_only = True
    template_name = "settings/webhook_rotate.html"
    context_object_name = "endpoint"

    def get_queryset(self):
        return self.tenant_queryset(WebhookEndpoint)

    def post(self, request, pk: int):
        endpoint = self.get_object()
        webhook_endpoint_secret_rotate(endpoint=endpoint)
        return _secret_page(request, endpoint, rotated=True)


class WebhookTestView(SettingsPageMixin, View):
    writers_only = True
    http_method_names = ["post"]

    def post(self, request, pk: int):
        endpoint = get_object_or_404(self.tenant_queryset(WebhookEndpoint), pk=pk)
        delivery = webhook_endpoint_send_test(endpoint=endpoint)
        messages.success(request, f"Sent a test event to {endpoint}; its outcome is below.")
        return redirect("settings-webhook-delivery", pk=delivery.pk)


class WebhookDeliveryListView(SettingsPageMixin, ListView):
    template_name = "settings/webhook_delivery_list.html"
    context_object_name = "deliveries"

    def get_queryset(self):
        self.filter_form = DeliveryFilterForm(self.request.GET or None)
        status = self.filter_form.cleaned_data["status"] if self.filter_form.is_valid() else ""
        return webhook_deliveries_recent(self.organization, status=status)

    def get_context_data(self, **kwargs):
        kwargs["filter_form"] = self.filter_form
        return super().get_context_data(**kwargs)


class WebhookDeliveryDetailView(SettingsPageMixin, DetailView):
    template_name = "settings/webhook_delivery.html"
    context_object_name = "delivery"

    def get_queryset(self):
        return self.tenant_queryset(WebhookDelivery).select_related("event", "endpoint")

    def get_context_data(self, **kwargs):
        kwargs["payload_json"] = json.dumps(self.object.event.payload, indent=2, sort_keys=True)
        return super().get_context_data(**kwargs)


class WebhookRedeliverView(SettingsPageMixin, View):
    writers_only = True
    http_method_names = ["post"]

    def post(self, request, pk: int):
        delivery = get_object_or_404(self.tenant_queryset(WebhookDelivery), pk=pk)
        try:
            webhook_delivery_redeliver(delivery=delivery)
        except RedeliveryRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Redelivering delivery {delivery.pk}.")
        return redirect("settings-webhook-delivery", pk=delivery.pk)


# --- Alert rules ----------------------------------------------------------------------------------


class AlertRulesView(SettingsPageMixin, TemplateView):
    template_name = "settings/alert_rules.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        all_rules = list(
            self.tenant_queryset(AlertRule).select_related("campaign").order_by("kind", "id")
        )
        defaults = {rule.kind: rule for rule in all_rules if rule.campaign_id is None}
        kwargs["kinds"] = [
            {
                "kind": kind,
                "label": label,
                "rule": defaults.get(kind),
                "thresholds": rules.values_display(
                    rules.thresholds_in_force(
                        kind, defaults[kind].thresholds if kind in defaults else None
                    )
                ),
                "campaign_override": kind not in rules.TENANT_ONLY_KINDS,
            }
            for kind, label in rules.KIND_LABELS.items()
        ]
        kwargs["overrides"] = [
            {"rule": rule, "thresholds": rules.values_display(rule.thresholds)}
            for rule in all_rules
            if rule.campaign_id is not None
        ]
        kwargs["campaigns"] = self.tenant_queryset(Campaign).order_by("name")
        return super().get_context_data(**kwargs)


class AlertRuleFormMixin(SettingsPageMixin):
    model = AlertRule
    form_class = AlertRuleForm
    template_name = "settings/alert_rule_form.html"

    def kind(self) -> str:
        raise NotImplementedError

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        kwargs["kind"] = self.kind()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs["kind_label"] = rules.KIND_LABELS[self.kind()]
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        rule = form.save()
        messages.success(self.request, f"Saved the rule {rule}.")
        return redirect("settings-alerts")


class AlertRuleCreateView(AlertRuleFormMixin, UpdateView):
    """A new rule of `?kind=`, for `?campaign=` when given (an override)."""

    def kind(self) -> str:
        kind = self.request.GET.get("kind", "")
        if kind not in rules.KIND_LABELS:
            raise Http404("No such alert kind.")
        return kind

    def get_object(self, queryset=None):
        return None

    def get_initial(self) -> dict[str, Any]:
        campaign = self.request.GET.get("campaign", "")
        if campaign.isdigit():
            found = self.tenant_queryset(Campaign).filter(pk=campaign).first()
            if found is not None:
                return {"campaign": found}
        return {}


class AlertRuleEditView(AlertRuleFormMixin, UpdateView):
    def get_object(self, queryset=None):
        if not hasattr(self, "_rule"):
            self._rule = get_object_or_404(self.tenant_queryset(AlertRule), pk=self.kwargs["pk"])
        return self._rule

    def kind(self) -> str:
        return self.get_object().kind


class AlertRuleDeleteView(SettingsPageMixin, DeleteView):
    writers_only = True
    template_name = "settings/confirm_delete.html"

    def get_queryset(self):
        return self.tenant_queryset(AlertRule)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("kind", "alert rule")
        kwargs.setdefault("cancel_url", "/settings/alerts/")
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        alert_rule_delete(self.object)
        messages.success(
            self.request, f"Deleted the rule {self.object}; its open alerts are resolved."
        )
        return redirect("settings-alerts")


# --- Follow-up rules ------------------------------------------------------------------------------


class FollowUpRulesView(SettingsPageMixin, TemplateView):
    """Every campaign, with its follow-up rule or none."""

    template_name = "settings/followup_rules.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        by_campaign = {
            rule.campaign_id: rule
            for rule in self.tenant_queryset(FollowUpRule).select_related("campaign")
        }
        kwargs["rows"] = [
            {"campaign": campaign, "rule": by_campaign.get(campaign.pk)}
            for campaign in self.tenant_queryset(Campaign).order_by("name")
        ]
        return super().get_context_data(**kwargs)


class FollowUpRuleCreateView(TenantFormMixin, CreateView):
    """A new rule, for `?campaign=` when given (the list's "Set up" link)."""

    writers_only = True
    model = FollowUpRule
    form_class = FollowUpRuleForm
    template_name = "settings/followup_rule_form.html"
    success_url_name = "settings-followups"
    saved_message = "Saved the rule: {object}."

    def get_initial(self) -> dict[str, Any]:
        campaign = self.request.GET.get("campaign", "")
        if campaign.isdigit():
            found = self.tenant_queryset(Campaign).filter(pk=campaign).first()
            if found is not None:
                return {"campaign": found}
        return {}


class FollowUpRuleEditView(TenantFormMixin, UpdateView):
    model = FollowUpRule
    form_class = FollowUpRuleForm
    template_name = "settings/followup_rule_form.html"
    context_object_name = "rule"
    success_url_name = "settings-followups"
    saved_message = "Saved the rule: {object}."

    def get_queryset(self):
        return super().get_queryset().select_related("campaign")


class FollowUpRuleDeleteView(TenantDeleteMixin, DeleteView):
    """Deleting a rule stops new follow-ups for its campaign; those made stay on the page."""

    model = FollowUpRule
    success_url_name = "settings-followups"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs["kind"] = "follow-up rule"
        return super().get_context_data(**kwargs)
