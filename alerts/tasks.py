"""Celery tasks of the alerts app: thin wrappers that take ids and call alerts.outbound and
alerts.followups."""

from celery import shared_task

from ppc_dashboard.tenancy.models import Organization

from .followups import followups_scan
from .models import FollowUpRule
from .outbound import (
    WEBHOOK_SEND_TASK,
    webhook_deliveries_sweep,
    webhook_delivery_send,
    webhook_log_prune,
)


@shared_task(name=WEBHOOK_SEND_TASK, acks_late=True)
def webhook_delivery_send_task(organization_id: int, delivery_id: int) -> bool:
    # Scoped by the organization: a delivery id of another tenant finds nothing to claim.
    sent = webhook_delivery_send(organization_id=organization_id, delivery_id=delivery_id)
    return sent is not None


@shared_task
def webhook_deliveries_sweep_task() -> int:
    """Beat's safety net: retries whose wait is over, and sends whose enqueue was lost."""
    return webhook_deliveries_sweep()


@shared_task
def webhook_log_prune_task() -> int:
    """Hourly: the delivery log keeps WEBHOOK_LOG_DAYS days."""
    return webhook_log_prune()


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
