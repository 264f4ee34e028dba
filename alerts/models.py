"""Alert rules and the incidents they open (issue 15 "Alerts").

A rule with no campaign is the tenant's default for its kind; a rule of the same kind for a
campaign overrides it for that campaign (its thresholds are laid over the default's, its
channels and cooldown are its own, and a disabled override silences the kind there). The
thresholds and when each kind fires are the pure rules of alerts.rules.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ppc_dashboard.tenancy.models import Membership, Role, TenantModel

from . import rules

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
