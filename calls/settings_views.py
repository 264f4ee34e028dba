"""Settings pages of the calls app: CSV imports (upload, progress, row errors).

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import (
    DetailView,
    FormView,
)

from ppc_dashboard.tenancy.pages import SettingsPageMixin

from .forms import CallImportForm
from .models import CallImport
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
        return super().get_context_data(**kwargs)
