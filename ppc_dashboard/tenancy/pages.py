"""Tenant scoping for server-rendered pages (the page counterpart of tenancy.api)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from rest_framework.permissions import SAFE_METHODS

from .models import Organization
from .selectors import TenantContext, tenant_context_for_request


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
