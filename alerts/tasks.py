"""Celery tasks of the alerts app: thin wrappers that take ids and call its services."""

from celery import shared_task

from ppc_dashboard.tenancy.models import Organization

from .followups import followups_scan
from .models import FollowUpRule


@shared_task
def followups_scan_all_task() -> int:
    """Beat, every minute: one scan per tenant that has follow-up rules."""
    organization_ids = list(
        FollowUpRule.objects.values_list("organization_id", flat=True).distinct()
    )
    for organization_id in organization_ids:
        followups_scan_task.delay(organization_id)
    return len(organization_ids)


@shared_task(acks_late=True)
def followups_scan_task(organization_id: int) -> int:
    """Create the follow-ups of one tenant's calls written since its last scan."""
    organization = Organization.objects.get(pk=organization_id)
    return len(followups_scan(organization=organization))
