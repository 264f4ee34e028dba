"""Settings pages: campaign thresholds, API keys, members and roles, reports, CSV imports.

Every member may read them; only writers (owners, managers) change anything. The access rule
is `SettingsPageMixin`: a POST from a reader is a 403, and so is any request to a page that is
nothing but a form (a confirmation, a role change); the templates hide the forms from readers.
Rows are read through `tenant_queryset`, so another tenant's id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import (
    DeleteView,
    DetailView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
)
from rest_framework.permissions import SAFE_METHODS

from calls.models import CallImport, Campaign
from calls.services import call_import_start
from kpis.models import ReportSubscription

from .forms import (
    ApiKeyCreateForm,
    CallImportForm,
    CampaignThresholdsForm,
    MemberAddForm,
    MembershipRemoveForm,
    MembershipRoleForm,
    ReportSubscriptionForm,
    may_manage_role,
    subscription_filters_from_query,
)
from .models import ApiKey, Membership, Role
from .pages import TenantPageMixin
from .selectors import tenant_context_for_request
from .services import api_key_create, user_create_with_membership

RECENT_IMPORTS = 20


class SettingsPageMixin(TenantPageMixin):
    """A settings page: readable by every member, changed only by owners and managers."""

    # True for pages that are only a form (confirmations, role changes): readers get a 403.
    writers_only = False

    def dispatch(self, request, *args, **kwargs):
        # The same rule as the API's IsOrganizationMember: reads for members, writes for writers.
        context = tenant_context_for_request(request)
        needs_write = self.writers_only or request.method not in SAFE_METHODS
        if context is not None and needs_write and not context.can_write:
            raise PermissionDenied("Only owners and managers can change settings.")
        return super().dispatch(request, *args, **kwargs)


def _shown_once(response: HttpResponse) -> HttpResponse:
    """A page holding a secret: never cached, so Back or a proxy cannot show it again."""
    add_never_cache_headers(response)
    return response


class SettingsIndexView(SettingsPageMixin, TemplateView):
    template_name = "settings/index.html"


# --- Campaign thresholds -------------------------------------------------------------------


class CampaignListView(SettingsPageMixin, ListView):
    template_name = "settings/campaign_list.html"
    context_object_name = "campaigns"

    def get_queryset(self):
        return self.tenant_queryset(Campaign).order_by("name")


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


# --- API keys ------------------------------------------------------------------------------


class ApiKeyListView(SettingsPageMixin, FormView):
    template_name = "settings/api_key_list.html"
    form_class = ApiKeyCreateForm

    def get_context_data(self, **kwargs):
        kwargs["api_keys"] = (
            self.tenant_queryset(ApiKey).select_related("created_by").order_by("-created_at")
        )
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        api_key, raw_key = api_key_create(
            organization=self.organization,
            name=form.cleaned_data["name"],
            created_by=self.request.user,
        )
        # Rendered, not redirected to: the raw key exists only in this response.
        context = {"api_key": api_key, "raw_key": raw_key}
        return _shown_once(render(self.request, "settings/api_key_created.html", context))


class ApiKeyRevokeView(SettingsPageMixin, DeleteView):
    writers_only = True
    template_name = "settings/api_key_revoke.html"
    context_object_name = "api_key"

    def get_queryset(self):
        return self.tenant_queryset(ApiKey)

    def form_valid(self, form):
        if self.object.is_active:
            self.object.revoke()
        messages.success(self.request, f"Revoked the key {self.object}.")
        return redirect("settings-api-keys")


# --- Members and roles ---------------------------------------------------------------------


class MemberListView(SettingsPageMixin, FormView):
    template_name = "settings/member_list.html"
    form_class = MemberAddForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(organization=self.organization, acting_role=self.tenant.role)
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs["memberships"] = (
            self.tenant_queryset(Membership).select_related("user").order_by("user__email")
        )
        # The roles whose members the acting member may change or remove (links are shown).
        kwargs["manageable_roles"] = {
            role for role in Role.values if may_manage_role(role, self.tenant.role)
        }
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        role = form.cleaned_data["role"]
        user, password = user_create_with_membership(
            email=form.cleaned_data["email"], organization=self.organization, role=role
        )
        if password is None:
            messages.success(self.request, f"Added {user.email} as {Role(role).label}.")
            return redirect("settings-members")
        context = {"member_email": user.email, "role": Role(role).label, "password": password}
        return _shown_once(render(self.request, "settings/member_added.html", context))


class _MembershipPageMixin(SettingsPageMixin):
    writers_only = True
    context_object_name = "membership"

    def get_queryset(self):
        return self.tenant_queryset(Membership).select_related("user")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["acting_role"] = self.tenant.role
        return kwargs


# The last-owner check locks the owners' rows; the write must happen in the same transaction.
@method_decorator(transaction.atomic, name="post")
class MemberRoleView(_MembershipPageMixin, UpdateView):
    template_name = "settings/member_form.html"
    form_class = MembershipRoleForm
    success_url = reverse_lazy("settings-members")

    def form_valid(self, form):
        messages.success(
            self.request, f"{self.object.user.email} is now {Role(self.object.role).label}."
        )
        return super().form_valid(form)


@method_decorator(transaction.atomic, name="post")
class MemberRemoveView(_MembershipPageMixin, DeleteView):
    template_name = "settings/member_remove.html"
    form_class = MembershipRemoveForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["membership"] = self.object
        return kwargs

    def form_valid(self, form):
        removed_self = self.object.user_id == self.request.user.pk
        self.object.delete()
        messages.success(self.request, f"Removed {self.object.user.email}.")
        return redirect("home" if removed_self else "settings-members")


# --- Report subscriptions ------------------------------------------------------------------


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


# --- CSV import ----------------------------------------------------------------------------


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
