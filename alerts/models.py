from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from calls.models import MONEY
from ppc_dashboard.tenancy.models import TenantModel
from routing.models import validate_hours

from . import followup_rules

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
