"""Schema rules that keep the tables distributable by tenant, checked over every model."""

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction

from calls.models import Call
from ppc_dashboard.tenancy.models import Organization, TenantModel
from tests.factories import CallFactory, CampaignFactory

PROJECT_APPS = {"tenancy", "calls", "publishers", "routing", "kpis"}


def project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


def test_every_project_table_but_organization_is_tenant_owned():
    for model in project_models():
        if model is Organization:
            continue
        assert issubclass(model, TenantModel), f"{model.__name__} is not a TenantModel"
        field = model._meta.get_field("organization")
        assert field.null is False and field.related_model is Organization


def test_every_unique_constraint_on_a_tenant_table_includes_the_organization():
    for model in project_models():
        if model is Organization:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                assert "organization" in constraint.fields, (model.__name__, constraint.name)
        for field in model._meta.fields:
            assert not field.unique or field.primary_key, (
                f"{model.__name__}.{field.name} is unique across tenants"
            )


def test_external_id_is_unique_per_organization_only(org, other_org):
    CallFactory(organization=org, external_id="same")
    CallFactory(organization=other_org, external_id="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(organization=org, external_id="same")


def test_database_refuses_unknown_status_and_conversion_time_without_conversion(org):
    campaign = CampaignFactory(organization=org)
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(organization=org, campaign=campaign, status="ringing")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(
            organization=org, campaign=campaign, converted=False, converted_at="2026-11-02T10:00Z"
        )
    assert not Call.objects.exists()
