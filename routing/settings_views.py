"""Settings pages of the routing app: buyers (hours of operation as a weekly grid, routing
settings), tracking numbers (pasted in bulk, edited and deleted one by one) and each
campaign's routing plan (edited as rows, saved as a new version, its history).

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import (
    CreateView,
    DeleteView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
)

from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantDeleteMixin, TenantFormMixin

from .forms import (
    BuyerForm,
    PlanTargetFormSet,
    RoutingPlanForm,
    TrackingNumberForm,
    TrackingNumberPasteForm,
)
from .models import Buyer, RoutingPlan, TrackingNumber
from .selectors import plan_rules_for, routing_plan_rows, routing_plan_versions
from .services import routing_plan_save, routing_plan_warnings, tracking_numbers_paste

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


# --- Routing plans -------------------------------------------------------------------------


class CampaignRoutingMixin(SettingsPageMixin):
    """A page about one campaign's routing plan: the campaign is one of the tenant's (another
    tenant's id is a 404). The campaign model belongs to the calls app above this one: its
    class is taken from the plan's foreign key."""

    @cached_property
    def campaign(self):
        campaign_model = RoutingPlan._meta.get_field("campaign").related_model
        return get_object_or_404(self.tenant_queryset(campaign_model), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs["campaign"] = self.campaign
        return super().get_context_data(**kwargs)


class RoutingPlanEditView(CampaignRoutingMixin, TemplateView):
    """The campaign's current plan as editable rows (writers) or a table (readers), what it
    leaves uncovered, and its version history. Saving writes the next version."""

    template_name = "settings/routing_plan.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        versions = list(routing_plan_versions(self.campaign))
        current = versions[0] if versions else None
        rows = routing_plan_rows(current) if current else []
        if "formset" not in kwargs:
            kwargs["formset"] = self.formset(
                initial=[{"buyer": r.buyer, "tier": r.tier, "weight": r.weight} for r in rows]
            )
            kwargs["plan_form"] = RoutingPlanForm(
                initial={"repeat_to_first_buyer": current.repeat_to_first_buyer}
                if current
                else None
            )
        plan_rules = plan_rules_for(current) if current else None
        kwargs.update(
            versions=versions,
            current=current,
            rows=rows,
            warnings=routing_plan_warnings(
                organization=self.organization, targets=plan_rules.targets
            )
            if plan_rules
            else [],
        )
        return super().get_context_data(**kwargs)

    def formset(self, **kwargs: Any) -> PlanTargetFormSet:
        return PlanTargetFormSet(
            prefix="targets", form_kwargs={"organization": self.organization}, **kwargs
        )

    def post(self, request, *args, **kwargs):
        data = request.POST.copy()
        plan_form = RoutingPlanForm(data=data)
        if "add_row" in data:
            # Without script, "Add a buyer" posts the rows so far and gets one more blank row.
            total = "targets-TOTAL_FORMS"
            count = data.get(total, "")
            data[total] = str(int(count) + 1) if count.isdigit() else count
            context = self.get_context_data(formset=self.formset(data=data), plan_form=plan_form)
            return self.render_to_response(context)
        formset = self.formset(data=data)
        if formset.is_valid() and plan_form.is_valid():
            try:
                result = routing_plan_save(
                    organization=self.organization,
                    campaign=self.campaign,
                    targets=[form.target_input() for form in formset.kept_forms()],
                    repeat_to_first_buyer=plan_form.cleaned_data["repeat_to_first_buyer"],
                    note=plan_form.cleaned_data["note"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                plan_form.add_save_errors(formset, exc.message_dict)
            else:
                messages.success(request, f"Saved version {result.plan.version} of the plan.")
                return redirect(request.path)
        return self.render_to_response(self.get_context_data(formset=formset, plan_form=plan_form))


class RoutingPlanVersionView(CampaignRoutingMixin, TemplateView):
    """One version of the campaign's plan, as it was saved (versions are never edited)."""

    template_name = "settings/routing_plan_version.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        versions = routing_plan_versions(self.campaign)
        plan = get_object_or_404(versions, version=self.kwargs["version"])
        kwargs.update(plan=plan, rows=routing_plan_rows(plan), is_current=plan == versions.first())
        return super().get_context_data(**kwargs)
