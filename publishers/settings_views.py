"""Settings pages of the publishers app: list, create, edit and delete publishers.

Readable by every member, changed by writers only (`SettingsPageMixin`).
"""

from __future__ import annotations

from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from ppc_dashboard.tenancy.pages import SettingsPageMixin, TenantDeleteMixin, TenantFormMixin

from .forms import PublisherForm
from .models import Publisher


class PublisherListView(SettingsPageMixin, ListView):
    template_name = "settings/publisher_list.html"
    context_object_name = "publishers"

    def get_queryset(self):
        return self.tenant_queryset(Publisher).order_by("name")


class PublisherCreateView(TenantFormMixin, CreateView):
    writers_only = True
    model = Publisher
    form_class = PublisherForm
    template_name = "settings/publisher_setup.html"
    success_url_name = "settings-publishers"
    saved_message = "Created the publisher {object}."


class PublisherUpdateView(TenantFormMixin, UpdateView):
    model = Publisher
    form_class = PublisherForm
    template_name = "settings/publisher_setup.html"
    context_object_name = "publisher"
    success_url_name = "settings-publishers"
    saved_message = "Saved the publisher {object}."


class PublisherDeleteView(TenantDeleteMixin, DeleteView):
    model = Publisher
    success_url_name = "settings-publishers"
