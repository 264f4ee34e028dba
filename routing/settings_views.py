"""Settings pages of the routing app: buyers (hours of operation as a weekly grid) and
tracking numbers (pasted in bulk, edited and deleted one by one).

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.generic import CreateView, DeleteView, FormView, ListView, UpdateView

from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantDeleteMixin, TenantFormMixin

from .forms import BuyerForm, TrackingNumberForm, TrackingNumberPasteForm
from .models import Buyer, TrackingNumber
from .services import tracking_numbers_paste

# --- Buyers --------------------------------------------------------------------------------


class BuyerListView(SettingsPageMixin, ListView):
    template_name = "settings/buyer_list.html"
    context_object_name = "buyers"

    def get_queryset(self):
        return self.tenant_queryset(Buyer).order_by("name")


class BuyerCreateView(TenantFormMixin, CreateView):
    writers_only = True
    model = Buyer
    form_class = BuyerForm
    template_name = "settings/buyer_setup.html"
    success_url_name = "settings-buyers"
    saved_message = "Created the buyer {object}."


class BuyerUpdateView(TenantFormMixin, UpdateView):
    model = Buyer
    form_class = BuyerForm
    template_name = "settings/buyer_setup.html"
    context_object_name = "buyer"
    success_url_name = "settings-buyers"
    saved_message = "Saved the buyer {object}."


class BuyerDeleteView(TenantDeleteMixin, DeleteView):
    model = Buyer
    success_url_name = "settings-buyers"


# --- Tracking numbers ----------------------------------------------------------------------


class TrackingNumberListView(SettingsPageMixin, FormView):
    """The tenant's tracking numbers, and the paste box that adds many at once; a paste
    answers with its report (added, already there, invalid with line and reason)."""

    template_name = "settings/tracking_number_list.html"
    form_class = TrackingNumberPasteForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs["tracking_numbers"] = (
            self.tenant_queryset(TrackingNumber)
            .select_related("campaign", "publisher")
            .order_by("number")
        )
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        report = tracking_numbers_paste(
            organization=self.organization,
            text=form.cleaned_data["numbers"],
            campaign=form.cleaned_data["campaign"],
            publisher=form.cleaned_data["publisher"],
        )
        # Rendered, not redirected: the report is this paste's answer. A fresh form, so the
        # same text is not pasted twice by accident.
        context = self.get_context_data(form=self.get_form_class()(organization=self.organization))
        context["report"] = report
        return render(self.request, self.template_name, context)


class TrackingNumberUpdateView(TenantFormMixin, UpdateView):
    model = TrackingNumber
    form_class = TrackingNumberForm
    template_name = "settings/tracking_number_setup.html"
    context_object_name = "tracking_number"
    success_url_name = "settings-tracking-numbers"
    saved_message = "Saved the tracking number {object}."


class TrackingNumberDeleteView(TenantDeleteMixin, DeleteView):
    model = TrackingNumber
    success_url_name = "settings-tracking-numbers"
