"""Settings pages of the tenant itself: the index of every settings page, API keys, members
and roles. The other settings pages live with the app that owns what they change.

Every member may read them; only writers (owners, managers) change anything. The access rule
is `SettingsPageMixin` (tenancy.pages): a POST from a reader is a 403, and so is any request
to a page that is nothing but a form (a confirmation, a role change); the templates hide the
forms from readers. Rows are read through `tenant_queryset`, so another tenant's id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.generic import (
    DeleteView,
    FormView,
    TemplateView,
    UpdateView,
)

from .forms import (
    ApiKeyCreateForm,
    MemberAddForm,
    MembershipRemoveForm,
    MembershipRoleForm,
    may_manage_role,
)
from .models import ApiKey, Membership, Role
from .pages import SettingsPageMixin
from .services import api_key_create, user_create_with_membership


def _shown_once(response: HttpResponse) -> HttpResponse:
    """A page holding a secret: never cached, so Back or a proxy cannot show it again."""
    add_never_cache_headers(response)
    return response


class SettingsIndexView(SettingsPageMixin, TemplateView):
    template_name = "settings/index.html"


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
