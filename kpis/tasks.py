"""Celery tasks: thin wrappers that take ids and call kpis.rollups."""

import datetime as dt

from celery import shared_task

from ppc_dashboard.tenancy.models import Organization

from .models import DirtyDay
from .rollups import (
    ROLLUPS_REFRESH_TASK,
    rollups_rebuild,
    rollups_rebuild_full,
    rollups_refresh,
    rollups_refresh_started,
)

# The beat safety net re-derives this many recent local days of every tenant each night.
RECENT_DAYS = 3


@shared_task(name=ROLLUPS_REFRESH_TASK, acks_late=True)
def rollups_refresh_task(organization_id: int) -> int:
    rollups_refresh_started(organization_id)
    return rollups_refresh(organization_id)


@shared_task(acks_late=True)
def rollups_rebuild_full_task(organization_id: int) -> int:
    """Re-derive every rollup of a tenant (after its time zone changed, say)."""
    return rollups_rebuild_full(Organization.objects.get(pk=organization_id))


@shared_task
def rollups_refresh_pending_task() -> int:
    """Refresh every tenant with dirty days (catches a refresh that was never enqueued)."""
    organization_ids = DirtyDay.objects.values_list("organization_id", flat=True).distinct()
    for organization_id in organization_ids:
        rollups_refresh_task.delay(organization_id)
    return len(organization_ids)


@shared_task(acks_late=True)
def rollups_rederive_recent_task() -> int:
    """Recompute the last few local days of every tenant from scratch."""
    organizations = list(Organization.objects.all())
    for organization in organizations:
        today = organization.local_today()
        rollups_rebuild(organization, since=today - dt.timedelta(days=RECENT_DAYS - 1))
    return len(organizations)
