"""DRF building blocks that scope every queryset and related field to the request's tenant.

Subclasses say which model they serve (`queryset = Model.objects.all()`) and may narrow it in
`scope_queryset`; they may not override `get_queryset`, so no view can forget the tenant filter.
`tenancy.filters.TenantFilterBackend` (the default filter backend) does the same for the choices
of filters.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping

from django.db import models
from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotAuthenticated

from .models import Organization
from .selectors import TenantContext, tenant_context_for_request
from .validation import NOT_IN_TENANT, unique_in_tenant_errors


def request_tenant(request) -> TenantContext:
    context = tenant_context_for_request(request)
    if context is None:
        raise NotAuthenticated()
    return context


class TenantScopedMixin:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; narrow the tenant's rows in "
                "scope_queryset instead, so the tenant filter cannot be lost."
            )

    @property
    def organization(self) -> Organization:
        return request_tenant(self.request).organization

    def get_queryset(self) -> QuerySet:
        queryset = self.queryset.model.objects.for_organization(self.organization)
        return self.scope_queryset(queryset)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def perform_create(self, serializer) -> None:
        serializer.save(organization=self.organization)


class TenantViewSet(viewsets.ViewSet):
    """For endpoints that read through selectors rather than one model's queryset."""

    @property
    def organization(self) -> Organization:
        return request_tenant(self.request).organization


def crud_docs(
    *, tag: str, one: str, many: str, about: str, rules: str = "", referenced: bool = True
):
    """extend_schema_view for a TenantModelViewSet: each operation's tag, summary and
    description. `about` says what the rows are; `rules` what a write must respect."""
    write = f" {rules}" if rules else ""
    delete = f"Delete a {one}." + (
        " Refused with 409 (nothing deleted) while rows still reference it." if referenced else ""
    )
    return extend_schema_view(
        list=extend_schema(
            tags=[tag],
            summary=f"List {many}",
            description=f"{about} Paginated; filter with the query parameters.",
        ),
        create=extend_schema(
            tags=[tag],
            summary=f"Create a {one}",
            description=f"Create a {one} in the key's organization.{write} "
            "Unknown fields are refused (400).",
        ),
        retrieve=extend_schema(
            tags=[tag], summary=f"Read a {one}", description=f"One {one} by its id. {about}"
        ),
        update=extend_schema(
            tags=[tag],
            summary=f"Replace a {one}",
            description=f"Replace every writable field of a {one}.{write}",
        ),
        partial_update=extend_schema(
            tags=[tag],
            summary=f"Update a {one}",
            description=f"Change the fields sent, keep the others.{write}",
        ),
        destroy=extend_schema(tags=[tag], summary=f"Delete a {one}", description=delete),
    )


class TenantModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    pass


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TenantGenericViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    pass


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key chosen by id among the request tenant's own rows only.

    Another tenant's id is reported exactly like a missing one.
    """

    default_error_messages = {"does_not_exist": NOT_IN_TENANT}

    def get_queryset(self):
        request = self.context.get("request")
        model = self.queryset.model if self.queryset is not None else None
        if request is None or model is None:
            return model.objects.none() if model else None
        return model.objects.for_organization(request_tenant(request).organization)


class StrictCharField(serializers.CharField):
    """Text, and only text: DRF's CharField turns a number into its digits."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those: DRF's BooleanField also takes 0, 1, "yes", "on"... which
    the schema (`type: boolean`) refuses. A form upload (multipart) sends text, so there the
    words "true" and "false" are what a boolean is."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        from_form = isinstance(getattr(self.root, "initial_data", None), QueryDict)
        if from_form and isinstance(data, str) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid", input=data)


def list_errors_flat(errors: Mapping, lists: Collection[str]) -> dict:
    """DRF's errors with those of the list fields `lists` keyed per item: "name[i].field" for
    a list of objects, "name[i]" for a list of plain values. DRF nests them by index (a list
    with `{}` for the valid items, or a dict by index), which names no field a client can
    match; a message about a list as a whole stays under its name."""
    flat: dict = {}
    for field, messages in errors.items():
        items = dict(enumerate(messages)) if isinstance(messages, list) else messages
        if field not in lists or not (
            isinstance(items, Mapping)
            and all(isinstance(key, int) for key in items)
            and all(isinstance(item, Mapping | list) for item in items.values())
        ):
            # A list of objects that is not a list at all: DRF says so as its non-field error.
            if isinstance(messages, Mapping) and set(messages) == {"non_field_errors"}:
                messages = messages["non_field_errors"]
            flat[field] = messages
            continue
        for index, item in items.items():
            if isinstance(item, Mapping):
                for name, item_messages in item.items():
                    flat[f"{field}[{index}].{name}"] = item_messages
            elif item:
                flat[f"{field}[{index}]"] = item
    return flat


class UnknownFieldsRefusedMixin:
    """A field the serializer does not have is a 400 naming it, as call ingest answers: a typo
    must not vanish silently (and the schema says `additionalProperties: false`)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class PlainFieldsCopiedMixin:
    """For a serializer of plain fields on a hot path (one per routed call): its declared
    fields are copied shallowly per instance. DRF deep-copies them, building every field
    again from its arguments: 8% of a route decision's CPU. Binding sets only the copy's own
    attributes (name, parent, source), and nothing changes a field's validators or messages
    after it is built; a field holding another (a nested serializer, a list's child) would
    keep the first instance as its parent, so they are refused."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, field in getattr(cls, "_declared_fields", {}).items():
            if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child"):
                raise TypeError(f"{cls.__name__}.{name} holds fields: copy it deeply")

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class TenantModelSerializer(UnknownFieldsRefusedMixin, serializers.ModelSerializer):
    """Validates uniqueness within the tenant (the organization is set by the view)."""

    serializer_related_field = TenantRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }

    def validate(self, attrs):
        attrs = super().validate(attrs)
        request = self.context.get("request")
        model = self.Meta.model
        if request is not None:
            fields = getattr(self.Meta, "unique_in_tenant", ())
            errors = unique_in_tenant_errors(
                model,
                request_tenant(request).organization,
                {field: attrs[field] for field in fields if field in attrs},
                exclude_pk=getattr(self.instance, "pk", None),
            )
            if errors:
                raise serializers.ValidationError(
                    {field: [message] for field, message in errors.items()}
                )
        return attrs
