"""The API's filter backend, with filter choices scoped to the request's tenant.

Kept apart from tenancy.api: DRF reads DEFAULT_FILTER_BACKENDS while importing its viewsets,
which tenancy.api imports.
"""

from __future__ import annotations

import re

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django_filters.filters import BooleanFilter, NumberFilter, QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import NotAuthenticated, ValidationError

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
        _refuse_loose_values(filterset)
        return filterset


_WHOLE_NUMBER = re.compile(r"^-?\d+$")


def _is_integer_filter(model_filter, model) -> bool:
    try:
        field = model._meta.get_field(model_filter.field_name.removesuffix("_id"))
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey)


def _refuse_loose_values(filterset) -> None:
    """A 400 for what the schema refuses but django-filter lets through: a boolean that is not
    true/false (its widget reads it as "no filter") and a fraction for a whole-number field
    (its DecimalField rounds it into the lookup)."""
    errors: dict[str, list[str]] = {}
    model = filterset.queryset.model
    for name, model_filter in filterset.filters.items():
        value = filterset.data.get(name)
        if value in (None, ""):
            continue
        if isinstance(model_filter, BooleanFilter) and value not in ("true", "false"):
            errors[name] = ["Must be true or false."]
        elif (
            isinstance(model_filter, NumberFilter)
            and _is_integer_filter(model_filter, model)
            and not _WHOLE_NUMBER.match(value)
        ):
            errors[name] = ["A whole number is required."]
    if errors:
        raise ValidationError(errors)
