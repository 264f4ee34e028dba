"""Settings pages of the calls app: campaign and ad spend setup, CSV imports (upload,
progress, row errors).

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
)

from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantDeleteMixin, TenantFormMixin

from .ad_spend import ad_spend_by_day, ad_spend_import_csv, ad_spend_write
from .forms import (
    AD_SPEND_GRID_DAYS,
    AdSpendGridForm,
    AdSpendPickForm,
    AdSpendUploadForm,
    CallImportForm,
    CampaignForm,
    week_start,
)
from .import_errors_csv import import_errors_csv_response
from .models import CallImport, Campaign
from .services import call_import_start

RECENT_IMPORTS = 20


class ImportListView(SettingsPageMixin, FormView):
    template_name = "settings/import_list.html"
    form_class = CallImportForm

    def get_context_data(self, **kwargs):
        kwargs["imports"] = self.tenant_queryset(CallImport).order_by("-created_at", "-id")[
            :RECENT_IMPORTS
        ]
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        call_import = call_import_start(
            organization=self.organization,
            upload=form.cleaned_data["file"],
            import_format=form.cleaned_data["format"],
            create_missing=form.cleaned_data["create_missing"],
            created_by=self.request.user,
        )
        return redirect("settings-import-detail", pk=call_import.pk)


class ImportDetailView(SettingsPageMixin, DetailView):
    """Progress (polled from the import API while it runs) and the per-row error report."""

    template_name = "settings/import_detail.html"
    context_object_name = "call_import"

    def get_queryset(self):
        return self.tenant_queryset(CallImport)

    def get_context_data(self, **kwargs):
        kwargs["progress_url"] = reverse("api:callimport-detail", args=[self.object.pk])
        kwargs["errors_shown"] = self.object.errors[: CallImport.ERROR_REPORT_LIMIT]
        return super().get_context_data(**kwargs)


class ImportErrorsCsvView(SettingsPageMixin, DetailView):
    """Every row error of an import as a CSV download (row, column, message)."""

    def get_queryset(self):
        return self.tenant_queryset(CallImport)

    def render_to_response(self, context, **response_kwargs):
        return import_errors_csv_response(self.object)


# --- Campaigns -----------------------------------------------------------------------------


class CampaignListView(SettingsPageMixin, ListView):
    template_name = "settings/campaign_list.html"
    context_object_name = "campaigns"

    def get_queryset(self):
        return self.tenant_queryset(Campaign).order_by("name")


class CampaignCreateView(TenantFormMixin, CreateView):
    writers_only = True
    model = Campaign
    form_class = CampaignForm
    template_name = "settings/campaign_setup.html"
    success_url_name = "settings-campaigns"
    saved_message = "Created the campaign {object}."


class CampaignUpdateView(TenantFormMixin, UpdateView):
    model = Campaign
    form_class = CampaignForm
    template_name = "settings/campaign_setup.html"
    context_object_name = "campaign"
    success_url_name = "settings-campaigns"
    saved_message = "Saved the campaign {object}."


class CampaignDeleteView(TenantDeleteMixin, DeleteView):
    model = Campaign
    success_url_name = "settings-campaigns"


# --- Ad spend ------------------------------------------------------------------------------


class AdSpendGridView(SettingsPageMixin, TemplateView):
    """A week of one campaign's (and publisher's) ad spend, edited in place.

    GET picks the grid (`?campaign=&publisher=&start=`, by default the first campaign and this
    week in the tenant's zone); POST saves it through `ad_spend_write` and comes back to it.
    """

    template_name = "settings/ad_spend.html"

    def get(self, request, *args, **kwargs):
        pick = AdSpendPickForm(request.GET or None, organization=self.organization)
        if pick.is_bound and not pick.is_valid():
            return self.render_to_response(self.get_context_data(pick=pick, grid=None))
        selection = pick.cleaned_data if pick.is_bound else self._default_selection(pick)
        if selection is None:  # no campaign yet
            return self.render_to_response(self.get_context_data(pick=pick, grid=None))
        if not pick.is_bound:  # the picker shows the grid it defaulted to
            pick = AdSpendPickForm(initial=selection, organization=self.organization)
        amounts = ad_spend_by_day(
            self.organization,
            campaign=selection["campaign"],
            publisher=selection["publisher"],
            days=[selection["start"] + dt.timedelta(days=n) for n in range(AD_SPEND_GRID_DAYS)],
        )
        initial = {**selection}
        initial.update({AdSpendGridForm.day_field_name(d): a for d, a in amounts.items()})
        grid = AdSpendGridForm(initial=initial, organization=self.organization)
        return self.render_to_response(self.get_context_data(pick=pick, grid=grid))

    def post(self, request, *args, **kwargs):
        grid = AdSpendGridForm(request.POST, organization=self.organization)
        if not grid.is_valid():
            pick = AdSpendPickForm(request.POST, organization=self.organization)
            return self.render_to_response(self.get_context_data(pick=pick, grid=grid))
        result = ad_spend_write(organization=self.organization, entries=grid.entries())
        messages.success(
            request,
            f"Saved the ad spend of {grid.cleaned_data['campaign']}: {result.written} days "
            f"with an amount, {result.removed} removed.",
        )
        return redirect(_ad_spend_grid_url(grid.cleaned_data))

    def _default_selection(self, pick: AdSpendPickForm) -> dict | None:
        campaign = pick.fields["campaign"].queryset.first()
        if campaign is None:
            return None
        return {
            "campaign": campaign,
            "publisher": None,
            "start": week_start(self.organization.local_today()),
        }

    def get_context_data(self, **kwargs):
        grid = kwargs.get("grid")
        if grid is not None:
            kwargs["selection"] = grid.cleaned_data if grid.is_bound else grid.initial
        if grid is not None and not grid.is_bound:
            selection = grid.initial
            week = dt.timedelta(days=AD_SPEND_GRID_DAYS)
            kwargs["previous_week_url"] = _ad_spend_grid_url(
                {**selection, "start": selection["start"] - week}
            )
            kwargs["next_week_url"] = _ad_spend_grid_url(
                {**selection, "start": selection["start"] + week}
            )
            kwargs["week_total"] = sum(
                (grid.initial.get(grid.day_field_name(day)) or 0 for day in grid.days), 0
            )
        return super().get_context_data(**kwargs)


def _ad_spend_grid_url(selection: dict) -> str:
    query = {"campaign": selection["campaign"].pk, "start": selection["start"].isoformat()}
    if selection.get("publisher") is not None:
        query["publisher"] = selection["publisher"].pk
    return f"{reverse('settings-ad-spend')}?{urlencode(query)}"


class AdSpendUploadView(SettingsPageMixin, FormView):
    """A CSV of ad spend rows, written all or nothing; the report names each bad row."""

    template_name = "settings/ad_spend_upload.html"
    form_class = AdSpendUploadForm

    def form_valid(self, form):
        report = ad_spend_import_csv(
            organization=self.organization, binary=form.cleaned_data["file"].file
        )
        if report.ok:
            messages.success(
                self.request,
                f"Imported {report.written} rows of ad spend (read as {report.shape}).",
            )
            return redirect("settings-ad-spend-upload")
        return self.render_to_response(self.get_context_data(form=form, report=report))
