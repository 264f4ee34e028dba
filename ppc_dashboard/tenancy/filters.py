"""The API's filter backend, with filter choices scoped to the request's tenant.

Kept apart from tenancy.api: DRF reads DEFAULT_FILTER_BACKENDS while importing its viewsets,
which tenancy.api imports.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters.filters import BooleanFilter, NumberFilter, QuerySetRequestMixin
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

    def filter_queryset(self, request, queryset, view):
        # Without a query string no filter applies (no filterset of ours filters by default),
        # and a detail request filters too (DRF's get_object): building the filterset and its
        # form for nothing was a fifth of a small request's CPU.
        if not request.query_params:
            return queryset
        return super().filter_queryset(request, queryset, view)

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


class TrueFalseField(forms.Field):
    """true or false; any other value is an error (Django's NullBooleanField reads it as "no
    filter", which would answer with every row)."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise DjangoValidationError("Enter true or false.", code="invalid") from None


class TrueFalseFilter(BooleanFilter):
    field_class = TrueFalseField


def _is_integer_filter(model_filter, model) -> bool:
    try:
        field = model._meta.get_field(model_filter.field_name.removesuffix("_id"))
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey)


def _refuse_loose_values(filterset) -> None:
    """Every filter as strict as the schema: a boolean is true or false (django-filter's widget
    reads anything else as "no filter") and a whole-number field takes no fraction (its
    DecimalField would round `0.5` into the lookup). Invalid values then fail the filter form,
    a 400 naming the parameter."""
    model = filterset.queryset.model
    for model_filter in filterset.filters.values():
        if isinstance(model_filter, BooleanFilter):
            model_filter.field_class = TrueFalseField
            # The REST BooleanFilter's widget reads anything but true/false as "no value".
            model_filter.extra.pop("widget", None)
        elif isinstance(model_filter, NumberFilter) and _is_integer_filter(model_filter, model):
            model_filter.field_class = forms.IntegerField
