"""Settings pages of the reports: the weekly report subscription.

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views import View
from django.views.generic import (
    FormView,
)

from kpis.models import ReportSubscription
from ppc_dashboard.tenancy.pages import SettingsPageMixin

from .forms import ReportSubscriptionForm, subscription_filters_from_query


class ReportSubscriptionView(SettingsPageMixin, FormView):
    """The current member's weekly report subscription; writers also see every subscriber.

    Opened with a page's filters in the query string (`?campaign=3`), the form starts with them.
    """

    template_name = "settings/reports.html"
    form_class = ReportSubscriptionForm

    def get_initial(self):
        return {"filters": subscription_filters_from_query(self.request.GET)}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def get_context_data(self, **kwargs):
        subscriptions = (
            self.tenant_queryset(ReportSubscription).select_related("user").order_by("user__email")
        )
        kwargs["subscription"] = subscriptions.filter(user=self.request.user).first()
        kwargs["subscribers"] = subscriptions if self.tenant.can_write else None
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        ReportSubscription.objects.update_or_create(
            organization=self.organization,
            user=self.request.user,
            defaults={"filters": form.cleaned_data["filters"]},
        )
        messages.success(
            self.request,
            f"You will get the weekly report every Monday at 08:00 ({self.organization.timezone}).",
        )
        return redirect("settings-reports")


class ReportUnsubscribeView(SettingsPageMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        self.tenant_queryset(ReportSubscription).filter(user=request.user).delete()
        messages.success(request, "You will no longer get the weekly report.")
        return redirect("settings-reports")
