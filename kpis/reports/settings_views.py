"""Settings pages of the reports: who gets the report by email, and how often.

Readable by every member, changed by owners and managers only (`SettingsPageMixin`): they
subscribe any member or any address, daily or weekly, and remove any subscription.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import FormView

from kpis.models import ReportFrequency, ReportSubscription
from ppc_dashboard.tenancy.pages import SettingsPageMixin

from .forms import ReportSubscriptionForm, subscription_filters_from_query
from .subscriptions import report_subscription_save


class ReportSubscriptionView(SettingsPageMixin, FormView):
    """The current member's subscription; writers also see every subscription and add them.

    Opened with a page's filters in the query string (`?campaign=3`), the form starts with them.
    """

    template_name = "settings/reports.html"
    form_class = ReportSubscriptionForm

    def get_initial(self):
        return {
            "filters": subscription_filters_from_query(self.request.GET),
            "member": self.request.user.pk,
            "frequency": ReportFrequency.WEEKLY,
        }

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def get_context_data(self, **kwargs):
        subscriptions = (
            self.tenant_queryset(ReportSubscription)
            .select_related("user")
            .order_by("user__email", "email")
        )
        kwargs["subscription"] = subscriptions.filter(user=self.request.user).first()
        kwargs["subscribers"] = subscriptions if self.tenant.can_write else None
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        subscription = report_subscription_save(
            organization=self.organization,
            user=form.cleaned_data["user"],
            email=form.cleaned_data["email"] if form.cleaned_data["user"] is None else "",
            frequency=form.cleaned_data["frequency"],
            filters=form.cleaned_data["filters"],
            subscribed_by=self.request.user,
        )
        when = "every day" if subscription.frequency == ReportFrequency.DAILY else "every Monday"
        messages.success(
            self.request,
            f"{subscription.recipient} will get the {subscription.frequency} report {when} at "
            f"08:00 ({self.organization.timezone}).",
        )
        return redirect("settings-reports")


class ReportUnsubscribeView(SettingsPageMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        self.tenant_queryset(ReportSubscription).filter(user=request.user).delete()
        messages.success(request, "You will no longer get the report.")
        return redirect("settings-reports")


class ReportSubscriptionRemoveView(SettingsPageMixin, View):
    """Removes one subscription of the tenant (another tenant's is a 404)."""

    writers_only = True
    http_method_names = ["post"]

    def post(self, request, pk: int):
        subscription = get_object_or_404(
            self.tenant_queryset(ReportSubscription).select_related("user"), pk=pk
        )
        subscription.delete()
        messages.success(request, f"{subscription.recipient} will no longer get the report.")
        return redirect("settings-reports")
