"""/alerts/: the tenant's open alerts and their history, and the acknowledge button."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from ppc_dashboard.tenancy.pages import TenantPageMixin

from .models import ACKNOWLEDGER_ROLES, AlertIncident
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
