"""Rules every tenant-owned object obeys, whether it arrives through the API or a page.

The API's serializers (`tenancy.api`) and the setup screens' forms (`tenancy.forms`) both call
these, so a bad input gets the same message on either path:
- a value unique within the tenant (`unique_in_tenant_errors`);
- a related object chosen by id among the tenant's own rows only (`NOT_IN_TENANT`): another
  tenant's id reads exactly like a missing one;
- a delete that rows still reference is refused, saying by what (`protected_delete_message`).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Model, ProtectedError, RestrictedError

from .models import Organization

# DRF's wording for a missing primary key, kept as the API has always answered it.
NOT_IN_TENANT = 'Invalid pk "{pk_value}" - object does not exist.'


def unique_in_tenant_errors(
    model: type[Model],
    organization: Organization,
    values: Mapping[str, object],
    *,
    exclude_pk: object = None,
) -> dict[str, str]:
    """Field -> message for each of `values` that another row of the tenant already holds.

    Blank values are never a clash (an optional external id left empty, say).
    """
    errors = {}
    for field, value in values.items():
        if value in (None, ""):
            continue
        clash = model.objects.for_organization(organization).filter(**{field: value})
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            errors[field] = f"A {model._meta.verbose_name} with this {field} exists."
    return errors


def protected_delete_message(exc: ProtectedError | RestrictedError) -> str:
    """Why a delete was refused: the kinds of record that still reference the object."""
    objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    blockers = sorted({type(obj).__name__ for obj in objects})
    return f"Cannot delete: still referenced by {', '.join(blockers)} records."
