"""Settings pages of the tenant itself: the index of every settings page, API keys, members
and roles, invitations. The other settings pages live with the app that owns what they change.

Every member may read them; only writers (owners, managers) change anything. The access rule
is `SettingsPageMixin` (tenancy.pages): a POST from a reader is a 403, and so is any request
to a page that is nothing but a form (a confirmation, a role change); the templates hide the
forms from readers. Rows are read through `tenant_queryset`, so another tenant's id is a 404.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.generic import (
    DeleteView,
    FormView,
    TemplateView,
    UpdateView,
    View,
)

from .forms import (
    ApiKeyCreateForm,
    InvitationCreateForm,
    MembershipRemoveForm,
    MembershipRoleForm,
    TwilioAuthTokenForm,
    may_manage_role,
)
from .models import ApiKey, Membership, Role
from .pages import SettingsPageMixin
from .selectors import invitations_pending
from .services import (
    api_key_create,
    invitation_create,
    invitation_revoke,
    organization_twilio_auth_token_set,
)

logger = logging.getLogger(__name__)


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


# --- Twilio --------------------------------------------------------------------------------


class TwilioSettingsView(SettingsPageMixin, FormView):
    """The URLs to give the tenant's Twilio numbers, and the auth token their requests are
    verified with: set or replaced here (never shown again, only its last 4 characters), or
    removed (a button named "remove")."""

    template_name = "settings/twilio.html"
    form_class = TwilioAuthTokenForm

    def get_context_data(self, **kwargs):
        token = self.organization.webhook_token
        hooks = {
            "status": reverse("twilio-status-callback", args=[token]),
            "voice": reverse("twilio-voice", args=[token]),
        }
        absolute = self.request.build_absolute_uri
        kwargs["twilio_urls"] = {key: absolute(path) for key, path in hooks.items()}
        kwargs["auth_token_ending"] = self.organization.twilio_auth_token[-4:]
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        if "remove" in request.POST:
            organization_twilio_auth_token_set(organization=self.organization, auth_token="")
            messages.success(request, "Removed the auth token: Twilio's requests are refused now.")
            return redirect("settings-twilio")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        organization_twilio_auth_token_set(
            organization=self.organization, auth_token=form.cleaned_data["auth_token"]
        )
        messages.success(self.request, "Saved the auth token: Twilio's signed requests are taken.")
        return redirect("settings-twilio")


# --- Members and roles ---------------------------------------------------------------------


class MemberListView(SettingsPageMixin, FormView):
    """Members and their roles, pending invitations, and the form that invites someone."""

    template_name = "settings/member_list.html"
    form_class = InvitationCreateForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(organization=self.organization, acting_role=self.tenant.role)
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs["memberships"] = (
            self.tenant_queryset(Membership).select_related("user").order_by("user__email")
        )
        kwargs["invitations"] = invitations_pending(self.organization)
        kwargs["invitation_days"] = settings.INVITATION_MAX_AGE.days
        # The roles whose members (and invitations) the acting member may change or remove.
        kwargs["manageable_roles"] = {
            role for role in Role.values if may_manage_role(role, self.tenant.role)
        }
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        try:
            invitation = invitation_create(
                organization=self.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=self.request.user,
                site_url=self.request.build_absolute_uri("/"),
            )
        except (smtplib.SMTPException, OSError) as exc:
            # The mail server refused or could not be reached: invitation_create wrote
            # nothing, and the page says so instead of failing with a 500.
            logger.warning("invitation mail not sent: %s", exc)
            form.add_error(
                None,
                "The invitation email could not be sent (the mail server did not take it), "
                "so no invitation was made. Try again in a moment.",
            )
            response = self.form_invalid(form)
            response.status_code = 503
            return response
        # Says the same whether or not the address has an account, so the page tells nobody.
        messages.success(
            self.request,
            f"Invitation sent to {invitation.email} as {Role(invitation.role).label}.",
        )
        return redirect("settings-members")


class InvitationRevokeView(SettingsPageMixin, View):
    writers_only = True
    http_method_names = ["post"]

    def post(self, request, pk: int):
        invitation = get_object_or_404(invitations_pending(self.organization), pk=pk)
        if not may_manage_role(invitation.role, self.tenant.role):
            raise PermissionDenied("Only an owner can revoke the invitation of an owner.")
        invitation_revoke(invitation)
        messages.success(request, f"Revoked the invitation of {invitation.email}.")
        return redirect("settings-members")


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
