"""Settings pages of outbound webhooks: the endpoints (create, edit, rotate the secret, send a
test event, delete) and the delivery log (with redeliver).

Readable by every member, changed by writers only (`SettingsPageMixin`); the writes are
alerts.outbound's, as the API's.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantDeleteMixin, TenantFormMixin

from .forms import DeliveryFilterForm, WebhookEndpointForm
from .models import WebhookDelivery, WebhookEndpoint
from .outbound import (
    RedeliveryRefused,
    webhook_delivery_redeliver,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_send_test,
)
from .selectors import webhook_deliveries_recent


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
