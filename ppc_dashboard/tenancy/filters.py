"""The API's filter backend, with filter choices scoped to the request's tenant.

Kept apart from tenancy.api: DRF reads DEFAULT_FILTER_BACKENDS while importing its viewsets,
which tenancy.api imports.
"""

from __future__ import annotations

from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import NotAuthenticated

from .models import TenantModel
from .selectors import tenant_context_for_request


class TenantFilterBackend(DjangoFilterBackend):
    """django-filter, with the choices of every model filter limited to the tenant's own rows.

    A filter such as `?campaign=<id>` validates the id against its queryset; unscoped, another
    tenant's id would be accepted (200, empty) where a missing one is refused (400), telling
    the caller that the id exists elsewhere.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        context = tenant_context_for_request(request)
        if context is None:
            raise NotAuthenticated()
        for model_filter in filterset.filters.values():
            if isinstance(model_filter, QuerySetRequestMixin) and model_filter.queryset is not None:
                model = model_filter.get_queryset(request).model
                model_filter.queryset = (
                    model.objects.for_organization(context.organization)
                    if issubclass(model, TenantModel)
                    # Rows outside the tenant model (users, organizations) are never choices.
                    else model._default_manager.none()
                )
        return filterset
