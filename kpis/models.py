"""Rollup tables: additive counts only, the organization in every key (zulip analytics style).

Ratios are never stored; the selector sums these rows and computes KPIs as ratios of sums.
Days and hours are in the organization's time zone, so date filters align with rows.
"""

from django.db import models
from django.utils import timezone

from ppc_dashboard.tenancy.models import Organization, TenantModel

MONEY = {"max_digits": 18, "decimal_places": 4}


class CallCounts(models.Model):
    """The additive counts of KPIS.md, shared by the call rollups."""

    calls = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)  # status `missed` only
    no_buyer = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)
    revenue = models.DecimalField(**MONEY, default=0)
    cost = models.DecimalField(**MONEY, default=0)
    repeat_calls = models.PositiveIntegerField(default=0)
    short_calls = models.PositiveIntegerField(default=0)
    # Follow-ups (README "Follow-ups"): calls that got one, calls recovered through one, and
    # the revenue recovered (also counted in `revenue`: it is what buyers pay).
    followups = models.PositiveIntegerField(default=0)
    recovered = models.PositiveIntegerField(default=0)
    recovered_revenue = models.DecimalField(**MONEY, default=0)

    class Meta:
        abstract = True


COUNT_FIELDS = [
    "calls",
    "answered",
    "missed",
    "no_buyer",
    "abandoned",
    "failed",
    "qualified",
    "conversions",
    "talk_seconds",
    "revenue",
    "cost",
    "repeat_calls",
    "short_calls",
    "followups",
    "recovered",
    "recovered_revenue",
]


class RollupModel(TenantModel):
    """Key fields shared by the rollups: the organization, a local day and the campaign.

    Rollup rows are rewritten in bulk on every recompute, so they carry no foreign-key
    constraints (a per-row check on every insert) and no per-column indexes: reads filter on
    (organization, day), which one index serves. Deleting a campaign or a tenant still
    removes its rows through Django's cascade. On PostgreSQL the `id` column keeps its
    identity default but not its primary-key index (migration 0006): nothing addresses a
    rollup row by id, and that index cost about a quarter of every insert.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField()
    campaign = models.ForeignKey(
        "calls.Campaign",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        abstract = True


class PublisherRollupModel(RollupModel):
    publisher = models.ForeignKey(
        "publishers.Publisher",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        abstract = True


class CallRollupDaily(PublisherRollupModel, CallCounts):
    """Counts per local day x campaign x publisher x buyer: the finest daily grain.

    The coarser daily rollups below are sums of these rows, kept beside them so that a view
    reads as few rows as its filter and grouping allow (kpis.selectors picks the grain).
    """

    buyer = models.ForeignKey(
        "routing.Buyer",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rollupdaily_org_day")]


class CallRollupDailyCampaignPublisher(PublisherRollupModel, CallCounts):
    """Counts per local day x campaign x publisher (no buyer): a third of the daily rows."""

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rollupdailycp_org_day")]


class CallRollupDailyCampaign(RollupModel, CallCounts):
    """Counts per local day x campaign: totals, trends and campaign views read these."""

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rollupdailyc_org_day")]


class CallRollupHourly(PublisherRollupModel, CallCounts):
    """Counts per local day and hour x campaign x publisher (no buyer: a coarser grain).

    For "today", intraday and hour-of-day x weekday views, and publisher velocity.
    """

    hour = models.PositiveSmallIntegerField()  # 0-23, local

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rolluphourly_org_day")]


class CallRollupHourlyCampaign(RollupModel, CallCounts):
    """Counts per local day and hour x campaign: the hourly rows summed over publishers.

    Hour-of-week views that do not filter by publisher (a campaign's missed-call heatmap)
    read these, about a quarter of the hourly rows (49,876 of 210,009 for the 1M-call bench
    tenant).
    """

    hour = models.PositiveSmallIntegerField()  # 0-23, local

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rolluphourlyc_org_day")]


class CallRollupDailyRegion(PublisherRollupModel, CallCounts):
    """Counts per local day x campaign x publisher x caller region (no buyer, no hour).

    `region` is the calls' `caller_region` as stored ("" when the call named none): the
    geography views and `group_by=region` read these rows instead of the calls.
    """

    region = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rollupregion_org_day")]


class CallRollupDailyRegionCampaign(RollupModel, CallCounts):
    """Counts per local day x campaign x caller region: the region rows summed over
    publishers, for the region views that name no publisher (the geography page reads about
    a sixth of the rows of CallRollupDailyRegion here)."""

    region = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rollupregionc_org_day")]


class CallRollupDailyTag(PublisherRollupModel, CallCounts):
    """Counts per local day x campaign x publisher x report tag key x value (no buyer).

    Only the tenant's report tag keys (ReportTag) are rolled up: every call counts once
    under each key, under its value's text (`"5"` for 5 and "5", `"true"` for true) or
    under NULL when it has no such tag, so a key's rows add up to every call.
    """

    tag_key = models.CharField(max_length=64)
    tag_value = models.TextField(null=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="rolluptag_org_day")]


class VelocitySpike(PublisherRollupModel):
    """An hour in which a publisher sent a velocity spike (KPIS.md; kpis.verdicts has the
    rule): found by kpis.spikes whenever the hourly rollups of the hour or of the week
    before it are recomputed. `campaign` null: the publisher's calls to every campaign.
    """

    hour = models.PositiveSmallIntegerField()  # 0-23, local
    calls = models.PositiveIntegerField()
    # The publisher's calls in the same hour of the 7 days before (its trailing total).
    trailing_calls = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="velocityspike_org_day")]


class DurationBucketDaily(PublisherRollupModel):
    """Answered calls and their conversions per talk-time bucket (KPIS.md buckets)."""

    bucket = models.PositiveSmallIntegerField()  # index into kpis.metrics.DURATION_BUCKETS
    answered = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="bucketdaily_org_day")]


REPORT_TAGS_MAX = 5


class ReportTag(TenantModel):
    """A tag key the tenant reports on (KPIS.md dimensions: up to REPORT_TAGS_MAX per tenant).

    Its values are rolled up like campaigns and publishers (CallRollupDailyTag), offered as
    `group_by=tag:<key>` and `tag=<key>:<value>` filters, and get a sheet of the weekly XLSX.
    Written through kpis.services.report_tags_set, which rebuilds the rollups they change.
    """

    key = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="reporttag_org_key_uniq")
        ]

    def __str__(self) -> str:
        return self.key


class DirtyDay(TenantModel):
    """A local day whose rollups must be recomputed from the calls.

    Writers upsert the row and bump `version`; the refresh deletes a row only if the version
    it recomputed is still current, so a write racing a refresh is never lost.
    """

    day = models.DateField()
    version = models.BigIntegerField(default=1)
    marked_at = models.DateTimeField(auto_now=True)
    # Since when the day holds writes its rollups do not reflect: set by the first mark, kept
    # by later ones, moved to a refresh's start when writes went on during it (KPIS.md
    # "freshness": what the numbers are as of).
    pending_since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day"], name="dirtyday_org_day_uniq")
        ]


class ReportFrequency(models.TextChoices):
    DAILY = "daily", "Daily (yesterday)"
    WEEKLY = "weekly", "Weekly (last week)"


class ReportSubscription(TenantModel):
    """Who gets the report by email, at 08:00 in the tenant's zone: a member (`user`) or any
    address (`email`), daily (yesterday's report) or weekly (last week's, on Mondays).

    A member's subscription follows their account's address and ends when they leave the
    organization; an address outside it gets an unsubscribe link in every mail.
    """

    user = models.ForeignKey(
        "auth.User",
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
        null=True,
        blank=True,
    )
    # An address that is not a member's (stored lowercased); empty for a member's subscription.
    email = models.EmailField(blank=True, default="")
    frequency = models.CharField(
        max_length=10, choices=ReportFrequency.choices, default=ReportFrequency.WEEKLY
    )
    # Saved filters of the report (the page filter query string, e.g. "campaign=3").
    filters = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # Who subscribed the recipient (a manager may subscribe others); None once they are deleted.
    subscribed_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    # The first local day of the last report sent (the day, or the week's Monday), so a
    # report is never sent twice.
    last_sent_from = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="reportsubscription_org_user_uniq"
            ),
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=~models.Q(email=""),
                name="reportsubscription_org_email_uniq",
            ),
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(email=""))
                | (models.Q(user__isnull=True) & ~models.Q(email="")),
                name="reportsubscription_member_or_address",
            ),
        ]

    @property
    def recipient(self) -> str:
        """The address the report goes to."""
        return self.user.email if self.user_id else self.email
