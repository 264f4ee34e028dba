"""Outbound webhooks: the tenant's endpoints, the events published to them, and one delivery
per (event, endpoint) with its attempt log. `alerts.outbound` is the one way to write them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from ppc_dashboard.tenancy.models import TenantModel

from .webhook_targets import webhook_url_problem

# Every event type the app publishes; the one list, which the API and the pages offer.
ALERT_OPENED = "alert.opened"
ALERT_RESOLVED = "alert.resolved"
FOLLOWUP_CREATED = "followup.created"
FOLLOWUP_UPDATED = "followup.updated"
TEST_EVENT = "test"
EVENT_TYPES = (ALERT_OPENED, ALERT_RESOLVED, FOLLOWUP_CREATED, FOLLOWUP_UPDATED, TEST_EVENT)
# What an endpoint subscribes to: the test event goes only to the endpoint it is sent from.
SUBSCRIBABLE_EVENT_TYPES = tuple(event for event in EVENT_TYPES if event != TEST_EVENT)

SECRET_PREFIX = "whsec_"
# Cut of the last error kept on a delivery and an attempt.
ERROR_MAX_CHARS = 300


def new_webhook_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def validate_webhook_url(value: str) -> None:
    problem = webhook_url_problem(value, allow_local=settings.WEBHOOKS_ALLOW_LOCAL_TARGETS)
    if problem:
        raise ValidationError(problem)


def validate_event_types(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event type.")
    unknown = [item for item in value if item not in SUBSCRIBABLE_EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"Unknown event type {unknown[0]!r}; one of {', '.join(SUBSCRIBABLE_EVENT_TYPES)}."
        )
    if len(set(value)) != len(value):
        raise ValidationError("An event type is listed twice.")


class EndpointKind(models.TextChoices):
    SIGNED_JSON = "signed_json", "Signed JSON (your own receiver)"
    SLACK = "slack", "Slack-compatible incoming webhook"


class WebhookEndpoint(TenantModel):
    """Where the tenant wants events posted, and the secret that signs them.

    The secret is per endpoint, kept readable (it signs every send). Rotating it keeps the
    previous one valid until `previous_secret_expires_at`, both signing meanwhile.
    """

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, validators=[validate_webhook_url])
    kind = models.CharField(max_length=16, choices=EndpointKind.choices, default="signed_json")
    event_types = models.JSONField(
        default=list, validators=[validate_event_types], help_text="The event types sent here."
    )
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, default=new_webhook_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="webhook_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    def signing_secrets(self) -> list[str]:
        """The secrets that sign a send now: the current one, then the previous one while its
        rotation window lasts."""
        valid = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and timezone.now() < expires:
            valid.append(self.previous_secret)
        return valid


class OutboundEvent(TenantModel):
    """Something that happened, published once per idempotency key: its payload is what
    every endpoint receives, retries included."""

    event_type = models.CharField(max_length=32)
    idempotency_key = models.CharField(max_length=200)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="outbound_event_org_key_uniq"
            )
        ]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.idempotency_key}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# The statuses a sender may still claim.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class WebhookDelivery(TenantModel):
    """One event to one endpoint: sent until a 2xx answers or the attempts run out.

    `next_attempt_at` is when it is due; a sender claims it by moving that forward (a lease)
    in one conditional UPDATE, so two senders never post the same delivery at once.
    """

    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=ERROR_MAX_CHARS, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a send task was last put on the queue for it: the sweeper re-enqueues a due delivery
    # only when none is (or the last one is long lost), so an outage does not pile up copies.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event", "endpoint"], name="webhook_delivery_once"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            # The sweeper's question: which open deliveries are due?
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "retrying"]),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.event_id} to {self.endpoint_id}"


class WebhookAttempt(TenantModel):
    """One try of a delivery: what answered (or why nothing did) and how fast."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=ERROR_MAX_CHARS, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
