"""Tenant scoping for server-rendered pages (the page counterpart of tenancy.api)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import Organization
from .selectors import TenantContext, tenant_context_for_request


class TenantPageMixin(LoginRequiredMixin):
    """Logged-in members only; `tenant_queryset(Model)` is the only way pages read rows."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and tenant_context_for_request(request) is None:
            raise PermissionDenied("You are not a member of any organization.")
        return super().dispatch(request, *args, **kwargs)

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
