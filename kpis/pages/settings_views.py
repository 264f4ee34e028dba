"""Settings pages of the KPI engine: each campaign's qualifying threshold, RPM floor,
duplicate window and verdict thresholds. The campaigns themselves are set up in the calls
app's screens (`calls.settings_views`), whose list links here.

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from django.contrib import messages
from django.urls import reverse_lazy
from django.views.generic import UpdateView

from calls.models import Campaign
from ppc_dashboard.tenancy.pages import SettingsPageMixin

from .forms import CampaignThresholdsForm


class CampaignThresholdsView(SettingsPageMixin, UpdateView):
    template_name = "settings/campaign_form.html"
    form_class = CampaignThresholdsForm
    context_object_name = "campaign"
    success_url = reverse_lazy("settings-campaigns")

    def get_queryset(self):
        return self.tenant_queryset(Campaign).select_related("organization")

    def form_valid(self, form):
        messages.success(self.request, f"Saved the thresholds of {self.object.name}.")
        return super().form_valid(form)
