"""Alerts (issue 15): outbound webhooks and alert rules with their incidents.

Outbound webhooks: the tenant's endpoints, the events published to them, and one delivery
per (event, endpoint) with its attempt log. `alerts.outbound` is the one way to write them.

Alert rules: a rule with no campaign is the tenant's default for its kind; a rule of the same
kind for a campaign overrides it for that campaign (its thresholds are laid over the
default's, its channels and cooldown are its own, and a disabled override silences the kind
there). The thresholds and when each kind fires are the pure rules of alerts.rules; the
incidents they open are AlertIncident.

Follow-ups: their rules per campaign, the follow-ups, and the scan's watermark
(`alerts.followups` writes them).
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from calls.models import MONEY
from ppc_dashboard.tenancy.models import Membership, Role, TenantModel
from routing.business_hours import hours_summary
from routing.models import validate_hours

from . import followup_rules, rules
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


# --- Alert rules and incidents ------------------------------------------------------------

KIND_CHOICES = [(kind, label) for kind, label in rules.KIND_LABELS.items()]
MAX_EMAIL_ADDRESSES = 20
MAX_COOLDOWN_MINUTES = 24 * 60
# Who may acknowledge an incident: the people who watch the numbers, not only the writers.
ACKNOWLEDGER_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.ANALYST})


class AlertRule(TenantModel):
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    # NULL: the tenant's default for the kind; else the override for one campaign.
    campaign = models.ForeignKey(
        "calls.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    # Overrides of the kind's defaults (alerts.rules.THRESHOLD_FIELDS keys); {} keeps them.
    thresholds = models.JSONField(default=dict, blank=True)
    # An incident is resolved only after its condition has been clear this long, so a
    # condition that flaps stays one incident (one "opened", one "resolved" message).
    cooldown_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(0), MaxValueValidator(MAX_COOLDOWN_MINUTES)]
    )
    # Channels: members (their account's address) and/or plain addresses get an email; the
    # tenant's outbound webhook endpoints get alert.opened / alert.resolved events.
    email_members = models.ManyToManyField(Membership, blank=True, related_name="+")
    email_addresses = models.JSONField(default=list, blank=True)
    webhooks = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "campaign_id"]
        constraints = [
            # One default per kind, one override per kind and campaign.
            models.UniqueConstraint(
                fields=["organization", "kind"],
                condition=Q(campaign__isnull=True),
                name="alertrule_org_kind_default_uniq",
            ),
            models.UniqueConstraint(
                fields=["organization", "kind", "campaign"],
                condition=Q(campaign__isnull=False),
                name="alertrule_org_kind_campaign_uniq",
            ),
        ]

    def __str__(self) -> str:
        scope = f"campaign {self.campaign}" if self.campaign_id else "default"
        return f"{rules.KIND_LABELS.get(self.kind, self.kind)} ({scope})"


class AlertIncident(TenantModel):
    """One stretch of time a rule's condition held for one subject.

    Open while `resolved_at` is NULL; at most one open incident per (rule, subject). A
    condition that comes back after its incident was resolved opens a new one.
    """

    # SET_NULL: deleting a rule keeps its history (its open incidents are resolved first).
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    # The subject: a campaign, a publisher within a campaign, or neither (the tenant).
    campaign = models.ForeignKey(
        "calls.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    publisher = models.ForeignKey(
        "publishers.Publisher", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject_key = models.CharField(max_length=64)  # "c<id>", "c<id>:p<id>" or "tenant"
    summary = models.CharField(max_length=500)
    # The numbers and threshold when it opened, and the latest seen while it held.
    values = models.JSONField(default=dict)
    last_values = models.JSONField(default=dict)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who, as shown: the member's address, or the API key's name (a key has no user).
    acknowledged_by_name = models.CharField(max_length=200, blank=True, default="")
    # Set when each message went out (claimed before sending), so none goes twice.
    opened_notified_at = models.DateTimeField(null=True, blank=True)
    resolved_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rule", "subject_key"],
                condition=Q(resolved_at__isnull=True),
                name="alertincident_open_rule_subject_uniq",
            )
        ]
        indexes = [models.Index(fields=["organization", "resolved_at"], name="alertincident_open")]

    def __str__(self) -> str:
        return self.summary

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def values_display(self) -> list[tuple[str, str]]:
        return rules.values_display(self.values)

    def last_values_display(self) -> list[tuple[str, str]]:
        return rules.values_display(self.last_values)


# A follow-up rule waits at most a week: past that a call back recovers nobody.
MAX_FOLLOWUP_DELAY_MINUTES = 7 * 24 * 60


class FollowUpRule(TenantModel):
    """When a campaign's lost callers get a follow-up (a call back), and when it is due."""

    campaign = models.ForeignKey("calls.Campaign", on_delete=models.CASCADE, related_name="+")
    on_missed = models.BooleanField(
        default=True, help_text="Follow up every call that was not answered."
    )
    missed_delay_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_FOLLOWUP_DELAY_MINUTES)],
        help_text="Minutes after a missed call ends before its follow-up is due.",
    )
    on_not_converted = models.BooleanField(
        default=False, help_text="Follow up answered calls that did not convert in time."
    )
    not_converted_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FOLLOWUP_DELAY_MINUTES)],
        help_text="Minutes after an answered call ends without a conversion before it gets a "
        "follow-up.",
    )
    # Calls with a buyer are called back in the buyer's hours; calls without one (no_buyer
    # calls, by definition) in these, in the organization's zone. Empty: around the clock.
    fallback_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_hours],
        help_text="Hours for calls without a buyer, in the organization's time zone, e.g. "
        '{"mon": [["09:00", "17:00"]]}. Empty: due at once.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign"], name="followuprule_org_campaign_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"Follow-ups of {self.campaign}"

    @property
    def fallback_hours_summary(self) -> str:
        return hours_summary(self.fallback_hours)

    @property
    def settings(self) -> followup_rules.RuleSettings:
        return followup_rules.RuleSettings(
            on_missed=self.on_missed,
            missed_delay_minutes=self.missed_delay_minutes,
            on_not_converted=self.on_not_converted,
            not_converted_minutes=self.not_converted_minutes,
        )


class FollowUpReason(models.TextChoices):
    MISSED = followup_rules.MISSED, "Missed call"
    NOT_CONVERTED = followup_rules.NOT_CONVERTED, "Not converted"


class FollowUpStatus(models.TextChoices):
    OPEN = followup_rules.OPEN, "Open"
    CONTACTED = followup_rules.CONTACTED, "Contacted"
    RECOVERED = followup_rules.RECOVERED, "Recovered"
    LOST = followup_rules.LOST, "Lost"


class FollowUp(TenantModel):
    """A caller to call back: created by the scan (alerts.followups), worked by people."""

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="+")
    # Copied from the call when created, so the list filters without a join.
    campaign = models.ForeignKey("calls.Campaign", on_delete=models.CASCADE, related_name="+")
    publisher = models.ForeignKey(
        "publishers.Publisher", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    buyer = models.ForeignKey(
        "routing.Buyer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    caller_number = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=16, choices=FollowUpReason.choices)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    # Who and when, per transition: a member's email or "API key <name>".
    contacted_at = models.DateTimeField(null=True, blank=True)
    contacted_by = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Recovered or lost.")
    closed_by = models.CharField(max_length=200, blank=True)
    recovered_revenue = models.DecimalField(**MONEY, default=Decimal("0"))
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # One follow-up per call and reason, however often the scan sees the call.
            models.UniqueConstraint(
                fields=["organization", "call", "reason"], name="followup_org_call_reason_uniq"
            ),
            models.CheckConstraint(
                condition=Q(status__in=FollowUpStatus.values), name="followup_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=FollowUpReason.values), name="followup_reason_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "due_at"], name="followup_org_status_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.caller_number} ({self.get_reason_display()}, {self.status})"


class FollowUpScan(TenantModel):
    """How far the follow-up scan has read a tenant's call writes (its watermark)."""

    scanned_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="followupscan_org_uniq")
        ]

    def __str__(self) -> str:
        return f"scanned until {self.scanned_until}"
