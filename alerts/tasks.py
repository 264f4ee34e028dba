"""Celery tasks of alerts: thin wrappers that take ids and call alerts.outbound (webhooks)
alerts.services (rules: beat runs `alerts_evaluate_all_task` every minute) and alerts.followups
(the follow-up scan, every minute)."""

from celery import shared_task

from ppc_dashboard.tenancy.models import Organization

from .followups import followups_scan
from .models import AlertRule, FollowUpRule
from .outbound import (
    WEBHOOK_SEND_TASK,
    webhook_deliveries_sweep,
    webhook_delivery_send,
    webhook_log_prune,
)
from .services import ALERT_NOTIFY_TASK, alert_incident_notify, alerts_evaluate_and_notify

ALERTS_EVALUATE_TASK = "alerts.tasks.alerts_evaluate_task"


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


@shared_task(name="alerts.tasks.alerts_evaluate_all_task", ignore_result=True)
def alerts_evaluate_all_task() -> int:
    """One evaluation task per tenant with rules, so one tenant's failure stops no other."""
    organization_ids = list(
        AlertRule.objects.values_list("organization_id", flat=True).distinct().order_by()
    )
    for organization_id in organization_ids:
        alerts_evaluate_task.delay(organization_id)
    return len(organization_ids)


@shared_task(name=ALERTS_EVALUATE_TASK, ignore_result=True)
def alerts_evaluate_task(organization_id: int) -> int:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    return len(alerts_evaluate_and_notify(organization))


@shared_task(
    name=ALERT_NOTIFY_TASK,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    max_retries=5,
)
def alert_incident_notify_task(incident_id: int, event: str) -> None:
    alert_incident_notify(incident_id, event)  # type: ignore[arg-type]


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
