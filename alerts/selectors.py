"""Reads of outbound webhooks for the pages."""

from __future__ import annotations

from django.db.models import QuerySet

from ppc_dashboard.tenancy.models import Organization

from .models import WebhookDelivery

# The delivery log page shows this many of the newest deliveries.
DELIVERY_LOG_ROWS = 100


def webhook_deliveries_recent(
    organization: Organization, *, status: str = "", endpoint_id: int | None = None
) -> QuerySet[WebhookDelivery]:
    """The tenant's newest deliveries, with their event and endpoint, optionally narrowed."""
    deliveries = WebhookDelivery.objects.for_organization(organization).select_related(
        "event", "endpoint"
    )
    if status:
        deliveries = deliveries.filter(status=status)
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    return deliveries.order_by("-created_at", "-pk")[:DELIVERY_LOG_ROWS]
