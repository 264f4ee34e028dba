"""What to scale and what to cut: verdicts, the qualifying-threshold finder and budget
reallocation per KPIS.md, read from the rollups and decided by the pure rules of kpis.verdicts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from django.db.models import Sum

from calls.models import Campaign
from ppc_dashboard.tenancy.models import Organization

from .metrics import DURATION_BUCKET_EDGES, Kpis, conversion_rate, duration_bucket_label
from .models import CallRollupHourly, DurationBucketDaily
from .selectors import GroupBy, KpiFilter, KpiRow, kpis_report
from .verdicts import (
    PublisherPerformance,
    Reallocation,
    Spike,
    Verdict,
    VerdictThresholds,
    budget_reallocation,
    qualifying_threshold_suggestion,
    velocity_spikes,
    verdict_for,
)

SPIKE_HISTORY_DAYS = 7


@dataclass(frozen=True)
class EntityVerdict:
    kind: str  # "campaign" or "publisher"
    id: int
    name: str
    kpis: Kpis
    verdict: Verdict
    campaign_id: int | None = None  # for a publisher judged within one campaign
    spikes: list[Spike] = field(default_factory=list)


@dataclass
class VerdictsReport:
    campaigns: list[EntityVerdict]
    publishers: list[EntityVerdict]  # overall, across campaigns
    publishers_by_campaign: dict[int, list[EntityVerdict]]


def _spikes_by_publisher(organization: Organization, filters: KpiFilter) -> dict[int, list[Spike]]:
    """Velocity spikes per publisher inside the filter's days (a week of history before)."""
    history_from = filters.date_from - dt.timedelta(days=SPIKE_HISTORY_DAYS)
    rows = CallRollupHourly.objects.for_organization(organization).filter(
        day__gte=history_from, day__lte=filters.date_to, publisher_id__isnull=False
    )
    if filters.campaign_id is not None:
        rows = rows.filter(campaign_id=filters.campaign_id)
    hourly: dict[int, dict[dt.datetime, int]] = defaultdict(dict)
    for publisher_id, day, hour, calls in rows.values_list("publisher_id", "day", "hour").annotate(
        total=Sum("calls")
    ):
        hourly[publisher_id][dt.datetime.combine(day, dt.time(hour))] = calls
    window_start = dt.datetime.combine(filters.date_from, dt.time.min)
    history_start = dt.datetime.combine(history_from, dt.time.min)
    return {
        publisher_id: [
            spike
            for spike in velocity_spikes(hours, history_start=history_start)
            if spike.hour >= window_start
        ]
        for publisher_id, hours in hourly.items()
    }


def _thresholds(organization: Organization, campaign: Campaign | None) -> VerdictThresholds:
    return VerdictThresholds.from_overrides(
        organization.verdict_thresholds or None,
        (campaign.verdict_thresholds or None) if campaign else None,
    )


def _judge(
    kind: str,
    row: KpiRow,
    *,
    thresholds: VerdictThresholds,
    vertical: str,
    rpm_floor,
    spikes: list[Spike],
    campaign_id: int | None = None,
) -> EntityVerdict:
    verdict = verdict_for(
        row.kpis,
        thresholds=thresholds,
        vertical=vertical,
        rpm_floor=rpm_floor,
        velocity_spikes=len(spikes),
    )
    return EntityVerdict(
        kind=kind,
        id=row.key,
        name=row.label,
        kpis=row.kpis,
        verdict=verdict,
        campaign_id=campaign_id,
        spikes=spikes,
    )


def verdicts_report(organization: Organization, filters: KpiFilter) -> VerdictsReport:
    campaigns = {c.id: c for c in Campaign.objects.for_organization(organization)}
    spikes = _spikes_by_publisher(organization, filters)

    campaign_verdicts = [
        _judge(
            "campaign",
            row,
            thresholds=_thresholds(organization, campaigns[row.key]),
            vertical=campaigns[row.key].vertical,
            rpm_floor=campaigns[row.key].rpm_floor,
            spikes=[],
        )
        for row in kpis_report(organization, filters, GroupBy.CAMPAIGN).rows
        if row.key in campaigns and row.kpis.calls
    ]

    by_campaign: dict[int, list[EntityVerdict]] = {}
    dominant_vertical: dict[int, Counter] = defaultdict(Counter)
    for campaign_id, campaign in campaigns.items():
        if filters.campaign_id is not None and campaign_id != filters.campaign_id:
            continue
        rows = kpis_report(
            organization, replace(filters, campaign_id=campaign_id), GroupBy.PUBLISHER
        ).rows
        judged = []
        for row in rows:
            if row.key is None or not row.kpis.calls:
                continue
            dominant_vertical[row.key][campaign.vertical] += row.kpis.calls
            judged.append(
                _judge(
                    "publisher",
                    row,
                    thresholds=_thresholds(organization, campaign),
                    vertical=campaign.vertical,
                    rpm_floor=campaign.rpm_floor,
                    spikes=[],
                    campaign_id=campaign_id,
                )
            )
        if judged:
            by_campaign[campaign_id] = judged

    # Overall a publisher is held to the tenant's thresholds and the benchmark of the
    # vertical most of its calls were in; RPM floors are per campaign, so none applies.
    publisher_verdicts = [
        _judge(
            "publisher",
            row,
            thresholds=_thresholds(organization, None),
            vertical=dominant_vertical[row.key].most_common(1)[0][0]
            if dominant_vertical[row.key]
            else "other",
            rpm_floor=None,
            spikes=spikes.get(row.key, []),
        )
        for row in kpis_report(organization, filters, GroupBy.PUBLISHER).rows
        if row.key is not None and row.kpis.calls
    ]
    return VerdictsReport(
        campaigns=campaign_verdicts,
        publishers=publisher_verdicts,
        publishers_by_campaign=by_campaign,
    )


@dataclass(frozen=True)
class DurationBucket:
    label: str
    low_seconds: int
    answered: int
    conversions: int
    conversion_rate: float | None


@dataclass(frozen=True)
class ThresholdSuggestion:
    campaign_id: int
    campaign_name: str
    qualifying_seconds: int  # in force now
    suggested_seconds: int | None
    buckets: list[DurationBucket]


def threshold_suggestions(
    organization: Organization, filters: KpiFilter
) -> list[ThresholdSuggestion]:
    """Conversion by talk-time bucket per campaign, and the threshold the data suggests."""
    rows = DurationBucketDaily.objects.for_organization(organization).filter(
        day__gte=filters.date_from, day__lte=filters.date_to, campaign_id__isnull=False
    )
    if filters.campaign_id is not None:
        rows = rows.filter(campaign_id=filters.campaign_id)
    if filters.publisher_id is not None:
        rows = rows.filter(publisher_id=filters.publisher_id)
    counts: dict[int, list[list[int]]] = defaultdict(
        lambda: [[0, 0] for _ in DURATION_BUCKET_EDGES]
    )
    for campaign_id, bucket, answered, conversions in rows.values_list(
        "campaign_id", "bucket"
    ).annotate(Sum("answered"), Sum("conversions")):
        counts[campaign_id][bucket] = [answered, conversions]
    campaigns = Campaign.objects.for_organization(organization).filter(id__in=counts)
    if filters.vertical:
        campaigns = campaigns.filter(vertical=filters.vertical)
    suggestions = []
    for campaign in campaigns.order_by("name"):
        buckets = counts[campaign.id]
        suggestions.append(
            ThresholdSuggestion(
                campaign_id=campaign.id,
                campaign_name=campaign.name,
                qualifying_seconds=campaign.qualifying_seconds,
                suggested_seconds=qualifying_threshold_suggestion([(a, c) for a, c in buckets]),
                buckets=[
                    DurationBucket(
                        label=duration_bucket_label(i),
                        low_seconds=DURATION_BUCKET_EDGES[i],
                        answered=a,
                        conversions=c,
                        conversion_rate=conversion_rate(c, a),
                    )
                    for i, (a, c) in enumerate(buckets)
                ],
            )
        )
    return suggestions


@dataclass(frozen=True)
class CampaignReallocation:
    campaign_id: int
    campaign_name: str
    reallocation: Reallocation


def reallocation_report(
    organization: Organization, filters: KpiFilter, verdicts: VerdictsReport | None = None
) -> list[CampaignReallocation]:
    """Per campaign: best vs worst publisher and the spend cutting the cut ones would free."""
    verdicts = verdicts or verdicts_report(organization, filters)
    names = dict(Campaign.objects.for_organization(organization).values_list("id", "name"))
    return [
        CampaignReallocation(
            campaign_id=campaign_id,
            campaign_name=names.get(campaign_id, f"#{campaign_id}"),
            reallocation=budget_reallocation(
                [
                    PublisherPerformance(
                        publisher_id=p.id, name=p.name, kpis=p.kpis, verdict=p.verdict
                    )
                    for p in publishers
                ]
            ),
        )
        for campaign_id, publishers in sorted(
            verdicts.publishers_by_campaign.items(), key=lambda item: names.get(item[0], "")
        )
    ]
