"""Settings pages of the KPI engine: the tenant's report tags, and each campaign's
qualifying threshold, RPM floor, duplicate window and verdict thresholds. The campaigns
themselves are set up in the calls app's screens (`calls.settings_views`), whose list links
here.

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import FormView, UpdateView

from calls.models import Campaign
from kpis.selectors import recent_tag_keys, report_tag_keys
from kpis.services import report_tags_set
from ppc_dashboard.tenancy.pages import SettingsPageMixin

from .forms import CampaignThresholdsForm, ReportTagsForm


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


class ReportTagsView(SettingsPageMixin, FormView):
    """The tag keys the tenant reports on; saving rebuilds the rollups of the keys added."""

    template_name = "settings/report_tags.html"
    form_class = ReportTagsForm

    def get_initial(self):
        return {"keys": "\n".join(report_tag_keys(self.organization))}

    def get_context_data(self, **kwargs):
        kwargs["report_tags"] = report_tag_keys(self.organization)
        kwargs["recent_keys"] = recent_tag_keys(self.organization)[:20]
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        keys = form.cleaned_data["keys"]
        if report_tags_set(organization=self.organization, keys=keys):
            messages.success(
                self.request,
                "Saved the report tags"
                + (f" ({', '.join(keys)})" if keys else "")
                + ": their numbers are being recomputed.",
            )
        else:
            messages.info(self.request, "The report tags are unchanged.")
        return redirect("settings-report-tags")
