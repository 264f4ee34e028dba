from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ppc_dashboard.tenancy.models import TenantModel, validate_campaign_verdict_overrides

from .csv_reading import CsvShape

MONEY = {"max_digits": 14, "decimal_places": 4}

MAX_DUPLICATE_WINDOW_DAYS = 3650  # ten years


class Vertical(models.TextChoices):
    INSURANCE = "insurance", "Insurance"
    LEGAL = "legal", "Legal"
    HOME_SERVICES = "home_services", "Home services"
    OTHER = "other", "Other"


class CampaignStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class Campaign(TenantModel):
    name = models.CharField(max_length=200)
    vertical = models.CharField(max_length=20, choices=Vertical.choices, default=Vertical.OTHER)
    # KPIS.md: an answered call at least this long is "qualified" (buyers pay for these).
    qualifying_seconds = models.PositiveIntegerField(default=90)
    payout = models.DecimalField(
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Publisher payout per qualified call.",
    )
    rpm_floor = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Revenue per minute under which the campaign is a cut candidate.",
    )
    # Bounded: the window is subtracted from call times (an unbounded one overflows them).
    duplicate_window_days = models.PositiveIntegerField(
        default=30, validators=[MaxValueValidator(MAX_DUPLICATE_WINDOW_DAYS)]
    )
    # Overrides of the tenant's verdict thresholds for this campaign (kpis.verdicts keys).
    verdict_thresholds = models.JSONField(
        default=dict, blank=True, validators=[validate_campaign_verdict_overrides]
    )
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="campaign_org_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class CallStatus(models.TextChoices):
    """The five outcomes of KPIS.md; every status but `answered` counts as missed."""

    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    NO_BUYER = "no_buyer", "No buyer"
    ABANDONED = "abandoned", "Abandoned"
    FAILED = "failed", "Failed"


class CallSource(models.TextChoices):
    API = "api", "REST API"
    NATIVE = "native", "CSV (native)"
    RINGBA = "ringba", "CSV (Ringba)"
    RETREAVER = "retreaver", "CSV (Retreaver)"
    INVOCA = "invoca", "CSV (Invoca)"
    CALLRAIL = "callrail", "CSV (CallRail)"
    TWILIO = "twilio", "CSV (Twilio)"
    ASTERISK = "asterisk", "CSV (Asterisk CDR)"
    TWILIO_WEBHOOK = "twilio_webhook", "Twilio status callback"
    DEMO = "demo", "Demo data"


class Call(TenantModel):
    external_id = models.CharField(max_length=128)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    publisher = models.ForeignKey(
        "publishers.Publisher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    buyer = models.ForeignKey(
        "routing.Buyer", null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    # The routing plan version that routed the call (live routing); empty for calls routed
    # elsewhere (imports, platforms posting their own records).
    routing_plan = models.ForeignKey(
        "routing.RoutingPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,  # nothing reads calls by plan at scale; the index would cost ingest
    )
    tracking_number = models.ForeignKey(
        "routing.TrackingNumber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    # The number the caller dialed, kept even when it matches no tracking number.
    dialed_number = models.CharField(max_length=20, blank=True, default="")
    caller_number = models.CharField(max_length=20, blank=True, default="")
    caller_region = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=CallStatus.choices)
    converted = models.BooleanField(default=False)
    converted_at = models.DateTimeField(null=True, blank=True)
    revenue = models.DecimalField(**MONEY, default=Decimal("0"))
    cost = models.DecimalField(**MONEY, default=Decimal("0"))
    source = models.CharField(max_length=16, choices=CallSource.choices, default=CallSource.API)
    tags = models.JSONField(default=dict, blank=True)
    # KPIS.md repeat call: derived from the calls (calls.repeat_calls), never posted.
    is_repeat = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Follow-ups (alerts app) recover lost callers; what the KPIs count of them lives here, so
    # kpis reads it without importing alerts (calls.recovery writes it). KPIS.md vocabulary in
    # README: followups, recovered, recovered_revenue.
    followup_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_revenue = models.DecimalField(**MONEY, default=Decimal("0"), db_default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"], name="call_org_external_id_uniq"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CallStatus.values), name="call_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(converted=True) | Q(converted_at__isnull=True),
                name="call_converted_at_only_when_converted",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "started_at"], name="call_org_started"),
            models.Index(
                fields=["organization", "campaign", "started_at"], name="call_org_campaign_started"
            ),
            models.Index(
                fields=["organization", "publisher", "started_at"],
                name="call_org_publisher_started",
            ),
            models.Index(
                fields=["organization", "caller_number", "started_at"],
                name="call_org_caller_started",
            ),
            # The follow-up scan's watermark: calls written since its last run.
            models.Index(fields=["organization", "updated_at"], name="call_org_updated"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def is_answered(self) -> bool:
        return self.status == CallStatus.ANSWERED


class AdSpend(TenantModel):
    """Media spend outside per-call payouts (KPIS.md `spend` adds it to call costs)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="ad_spend")
    publisher = models.ForeignKey(
        "publishers.Publisher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ad_spend",
    )
    day = models.DateField(help_text="The day in the organization's time zone.")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "publisher", "day"],
                condition=Q(publisher__isnull=False),
                name="adspend_org_campaign_publisher_day_uniq",
            ),
            models.UniqueConstraint(
                fields=["organization", "campaign", "day"],
                condition=Q(publisher__isnull=True),
                name="adspend_org_campaign_day_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.amount}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def import_upload_path(instance: CallImport, filename: str) -> str:
    return f"imports/{instance.organization_id}/{filename}"


class CallImport(TenantModel):
    """One CSV file being imported: its progress and its per-row error report."""

    format = models.CharField(max_length=16)
    file = models.FileField(upload_to=import_upload_path)
    original_name = models.CharField(max_length=255, blank=True)
    create_missing = models.BooleanField(default=False)
    # How to read the file beyond its format (importers.ImportOptions.as_json): a worker that
    # runs the import later reads it the same way.
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    # Rows that are not calls to import (in progress, outbound, internal legs): no error.
    rows_skipped = models.PositiveIntegerField(default=0)
    # Of the rows written (rows_imported): the distinct calls, and the rows whose call an
    # earlier row of the file had already written (the later row wins).
    calls_written = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    # How the file was read (calls.csv_reading): a Python codec name and the delimiter.
    encoding = models.CharField(max_length=16, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    # Every row error as {"row", "column", "error"}, up to ERROR_KEEP_LIMIT; errors_dropped
    # counts the ones beyond it, which are not kept.
    errors = models.JSONField(default=list, blank=True)
    errors_dropped = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The run that holds the import writes this when it starts and after each chunk; the
    # sweeper (calls.tasks) restarts, then fails, an unfinished import whose heartbeat stopped.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Rows (items) of the file whose calls and errors are stored: a restarted run skips them.
    rows_checkpoint = models.PositiveIntegerField(default=0)
    # How many times the sweeper enqueued the import again (bounded by IMPORT_MAX_RESTARTS).
    restarts = models.PositiveSmallIntegerField(default=0)

    # Errors shown in the API's import detail and on its page; the CSV download has them all.
    ERROR_REPORT_LIMIT = 1000
    ERROR_KEEP_LIMIT = 100_000

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def errors_total(self) -> int:
        return len(self.errors) + self.errors_dropped

    @property
    def file_shape_label(self) -> str:
        """How the file was read, e.g. "UTF-8 with BOM, semicolon-separated" ("" before)."""
        if not self.encoding:
            return ""
        return str(CsvShape(self.encoding, self.delimiter or ","))


class TwilioCallback(TenantModel):
    """One callback Twilio sent about an inbound call, kept as a fact of that call.

    The call is rewritten from all the facts of its CallSid on every callback
    (`calls.twilio_merge`), so the order they arrive in and their replays do not matter.
    """

    call_sid = models.CharField(max_length=64)
    # TwilioCallbackFact.key: "status:<SequenceNumber>", "dial:<DialCallSid>", ...
    key = models.CharField(max_length=100)
    # The parameters the merge reads (twilio_merge.FACT_PARAMS), as Twilio sent them.
    params = models.JSONField()
    # The earliest receipt of this callback (replays included).
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "call_sid", "key"], name="twiliocallback_org_sid_key_uniq"
            )
        ]
        # The hourly prune finds the facts past their days by it.
        indexes = [models.Index(fields=["received_at"], name="twiliocallback_received")]

    def __str__(self) -> str:
        return f"{self.call_sid} {self.key}"
