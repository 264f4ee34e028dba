"""Pages of alerts: /alerts/ (the open alerts, their history and the acknowledge button) and
/follow-ups/ (the follow-ups, with buttons to mark them worked)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import ListView, TemplateView, View

from calls.selectors import filter_choices
from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantPageMixin

from . import followup_rules
from .filters import FollowUpFilter
from .followups import FollowUpTransitionError, followup_transition
from .forms import FollowUpUpdateForm
from .models import ACKNOWLEDGER_ROLES, AlertIncident, FollowUp, FollowUpReason, FollowUpStatus
from .selectors import incidents_for_page
from .services import alert_incident_acknowledge

HISTORY_LIMIT = 200


class AlertListView(TenantPageMixin, TemplateView):
    template_name = "alerts/alert_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        incidents = incidents_for_page(self.organization)
        kwargs["open_incidents"] = list(incidents.filter(resolved_at__isnull=True))
        kwargs["history"] = list(incidents.filter(resolved_at__isnull=False)[:HISTORY_LIMIT])
        kwargs["history_limit"] = HISTORY_LIMIT
        kwargs["can_acknowledge"] = self.tenant.role in ACKNOWLEDGER_ROLES
        return super().get_context_data(**kwargs)


class AlertAcknowledgeView(TenantPageMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk: int):
        if self.tenant.role not in ACKNOWLEDGER_ROLES:
            raise PermissionDenied("Only owners, managers and analysts can acknowledge alerts.")
        incident = get_object_or_404(self.tenant_queryset(AlertIncident), pk=pk)
        alert_incident_acknowledge(incident, user=request.user)
        messages.success(request, f"Acknowledged: {incident.summary}")
        return redirect("alerts")


# The page's buttons: URL action -> status.
ACTIONS = {
    "contacted": followup_rules.CONTACTED,
    "recovered": followup_rules.RECOVERED,
    "lost": followup_rules.LOST,
}


class FollowUpListView(TenantPageMixin, ListView):
    """Callers to call back, soonest due first, with the API's filters and a button per step."""

    template_name = "alerts/followup_list.html"
    paginate_by = 50
    context_object_name = "followups"

    def get_queryset(self):
        self.filterset = FollowUpFilter(
            self.request.GET,
            queryset=self.tenant_queryset(FollowUp).select_related(
                "campaign", "publisher", "buyer", "call"
            ),
            request=self.request,
        )
        if not self.filterset.is_valid():
            return FollowUp.objects.none()  # never the whole list for a filter it cannot read
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=self.filterset,
            campaigns=filter_choices(self.organization).campaigns,
            statuses=FollowUpStatus.choices,
            reasons=FollowUpReason.choices,
            selected_statuses=self.request.GET.getlist("status"),
            query=query.urlencode(),
        )
        return context


class FollowUpUpdateView(SettingsPageMixin, View):
    """A button of the list: mark one follow-up contacted, recovered or lost (writers only)."""

    writers_only = True

    def post(self, request, pk: int, action: str):
        followup = get_object_or_404(self.tenant_queryset(FollowUp), pk=pk)
        form = FollowUpUpdateForm(request.POST)
        if action not in ACTIONS or not form.is_valid():
            messages.error(request, "Enter a revenue of 0 or more.")
        else:
            status = ACTIONS[action]
            revenue = form.cleaned_data["revenue"]
            try:
                followup_transition(
                    followup=followup,
                    status=status,
                    actor=request.user.email or request.user.username,
                    revenue=revenue if status == followup_rules.RECOVERED else None,
                    note=form.cleaned_data["note"],
                )
            except FollowUpTransitionError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, f"Marked {followup.caller_number or 'the caller'} {status}."
                )
        # Back to the list as it was filtered (a query string on our own path only).
        query = request.POST.get("query", "")
        return redirect(reverse("followup-list") + (f"?{query}" if query else ""))
