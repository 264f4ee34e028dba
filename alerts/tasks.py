"""Celery tasks of outbound webhooks: thin wrappers that take ids and call alerts.outbound."""

from celery import shared_task

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
