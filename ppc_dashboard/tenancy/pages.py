"""Tenant scoping for server-rendered pages (the page counterpart of tenancy.api)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, ProtectedError, QuerySet, RestrictedError
from django.shortcuts import redirect
from django.template.response import SimpleTemplateResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework.permissions import SAFE_METHODS

from .models import Organization
from .selectors import TenantContext, tenant_context_for_request
from .validation import protected_delete_message


class TenantPageMixin(LoginRequiredMixin):
    """Logged-in members only; `tenant_queryset(Model)` is the only way pages read rows.

    Pages render in the tenant's time zone: every datetime a template shows is local time, as
    the pages' headers and date filters say.
    """

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)  # the login redirect
        context = tenant_context_for_request(request)
        if context is None:
            raise PermissionDenied("You are not a member of any organization.")
        with timezone.override(context.organization.tzinfo):
            response = super().dispatch(request, *args, **kwargs)
            # A TemplateResponse renders after dispatch returns, out of this zone: render now.
            if isinstance(response, SimpleTemplateResponse):
                response.render()
        return response

    @property
    def tenant(self) -> TenantContext:
        context = tenant_context_for_request(self.request)
        assert context is not None  # dispatch() refused requests without one
        return context

    @property
    def organization(self) -> Organization:
        return self.tenant.organization

    def tenant_queryset(self, model) -> QuerySet:
        return model.objects.for_organization(self.organization)


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


class TenantFormMixin(SettingsPageMixin):
    """A setup screen's create or edit form (a `tenancy.forms.TenantModelForm`): the form gets
    the tenant, the object is one of the tenant's (another tenant's id is a 404), and a save
    says what it did."""

    model: type[Model]
    success_url_name: str = ""
    saved_message = "Saved {object}."

    def get_queryset(self) -> QuerySet:
        return self.tenant_queryset(self.model)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def get_success_url(self) -> str:
        return reverse(self.success_url_name)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, self.saved_message.format(object=self.object))
        return response


class TenantDeleteMixin(SettingsPageMixin):
    """A setup screen's delete confirmation: writers only; a delete that calls (or other rows)
    still reference is refused with the API's message, and nothing is deleted."""

    writers_only = True
    model: type[Model]
    success_url_name: str = ""
    template_name = "settings/confirm_delete.html"

    def get_queryset(self) -> QuerySet:
        return self.tenant_queryset(self.model)

    def get_success_url(self) -> str:
        return reverse(self.success_url_name)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("kind", self.model._meta.verbose_name)
        kwargs.setdefault("cancel_url", self.get_success_url())
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        try:
            self.object.delete()
        except (ProtectedError, RestrictedError) as exc:
            messages.error(self.request, protected_delete_message(exc))
            return redirect(self.request.path)
        messages.success(self.request, f"Deleted {self.object}.")
        return redirect(self.get_success_url())
