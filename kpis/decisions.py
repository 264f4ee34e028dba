"""What to scale and what to cut: verdicts, the qualifying-threshold finder and budget
reallocation per KPIS.md, read from the rollups and decided by the pure rules of kpis.verdicts.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Sum

from calls.models import Campaign
from ppc_dashboard.tenancy.models import Organization

from .metrics import (
    DURATION_BUCKET_EDGES,
    BaseCounts,
    Kpis,
    conversion_rate,
    duration_bucket_label,
)
from .models import (
    DurationBucketDaily,
)
from .selectors import (
    AD_SPEND_NOT_ATTRIBUTED,
    GroupBy,
    KpiFilter,
    KpiGroups,
    KpiQueryError,
    KpiRow,
    kpi_groups,
    kpi_row,
)
from .spikes import spikes_by_campaign_and_publisher, spikes_by_publisher
from .verdicts import (
    PublisherPerformance,
    Reallocation,
    Spike,
    Verdict,
    VerdictSubject,
    VerdictThresholds,
    budget_reallocation,
    qualifying_threshold_suggestion,
    threshold_tradeoff,
    verdict_for,
)

logger = logging.getLogger(__name__)


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
    """Velocity spikes per publisher inside the filter's days (of its campaign's calls only,
    when it names one), as the rollup refresh judged them."""
    return spikes_by_publisher(
        organization, filters.date_from, filters.date_to, filters.campaign_id
    )


def kpi_counts_by_campaign_and_publisher(
    organization: Organization, filters: KpiFilter
) -> KpiGroups:
    """Base counts per (campaign, publisher) pair over the filter, None for "no campaign" or
    "no publisher", with the publishers' names: the finest grain the verdicts need, read once.

    Summed over publishers they are what the selector counts per campaign, over campaigns
    what it counts per publisher, and a campaign's pairs are its report grouped by publisher:
    one read stands in for a report per campaign (27 on a tenant of 25 campaigns).
    """
    return kpi_groups(organization, filters, GroupBy.CAMPAIGN_PUBLISHER)


def _summed_by(
    counts: dict[tuple[int | None, Any], BaseCounts], side: int
) -> dict[int, BaseCounts]:
    """The pairs' counts summed per campaign (side 0) or per publisher (side 1), None left out,
    and ad spend that names no publisher left out of the publishers (it is no publisher)."""
    summed: dict[int, BaseCounts] = {}
    for pair, pair_counts in counts.items():
        key = pair[side]
        if key is not None and key != AD_SPEND_NOT_ATTRIBUTED:
            summed[key] = summed.get(key, BaseCounts()) + pair_counts
    return summed


def _thresholds(organization: Organization, campaign: Campaign | None) -> VerdictThresholds:
    tenant = organization.verdict_thresholds or None
    try:
        return VerdictThresholds.from_overrides(
            tenant, (campaign.verdict_thresholds or None) if campaign else None
        )
    except ValueError:
        if campaign is None:
            raise
        # Forms and the API refuse such a combination; stored data that holds one anyway
        # (written around them) judges the campaign by the tenant's thresholds, not a 500.
        logger.exception(
            "campaign %s (organization %s): verdict overrides ignored",
            campaign.pk,
            organization.pk,
        )
        return VerdictThresholds.from_overrides(tenant, None)


def tenant_thresholds_conflicts(organization: Organization, overrides: object) -> list[str]:
    """What new tenant overrides would contradict in the campaigns' overrides, which apply over
    them: one sentence per campaign. Invalid overrides are left to their own validator."""
    try:
        VerdictThresholds.from_overrides(overrides or None, None)
    except ValueError:
        return []
    conflicts = []
    campaigns = (
        Campaign.objects.for_organization(organization)
        .order_by("name")
        .values_list("name", "verdict_thresholds")
    )
    for name, campaign_overrides in campaigns:
        try:
            VerdictThresholds.from_overrides(overrides or None, campaign_overrides or None)
        except ValueError as exc:
            conflicts.append(f"campaign {name!r}: {exc}")
    return conflicts


def _judge(
    kind: VerdictSubject,
    row: KpiRow,
    *,
    thresholds: VerdictThresholds,
    vertical: str,
    rpm_floor,
    spikes: list[Spike],
    currency: str,
    campaign_id: int | None = None,
) -> EntityVerdict:
    verdict = verdict_for(
        row.kpis,
        thresholds=thresholds,
        vertical=vertical,
        rpm_floor=rpm_floor,
        spikes=spikes,
        subject=kind,
        currency=currency,
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


def verdicts_report(
    organization: Organization, filters: KpiFilter, *, overall_publishers: bool = True
) -> VerdictsReport:
    """Verdicts per campaign, per publisher within each campaign, and per publisher overall.

    Entities without calls in the filter are not judged; each list is in id order (the
    selector's row order). `overall_publishers=False` leaves `publishers` empty and skips
    their velocity-spike pass, for pages that show only campaigns and their own publishers.
    """
    campaigns = {c.id: c for c in Campaign.objects.for_organization(organization)}
    groups = kpi_counts_by_campaign_and_publisher(organization, filters)
    counts = groups.counts

    def publisher_row(publisher_id: int, publisher_counts: BaseCounts) -> KpiRow:
        name = groups.names.get(("publisher_id", publisher_id), f"#{publisher_id}")
        return kpi_row(publisher_id, name, publisher_counts)

    # Thresholds are read only for what has calls to judge.
    campaign_thresholds: dict[int, VerdictThresholds] = {}

    def thresholds_of(campaign: Campaign) -> VerdictThresholds:
        if campaign.id not in campaign_thresholds:
            campaign_thresholds[campaign.id] = _thresholds(organization, campaign)
        return campaign_thresholds[campaign.id]

    campaign_verdicts = []
    for campaign_id, campaign_counts in sorted(_summed_by(counts, 0).items()):
        campaign = campaigns.get(campaign_id)
        if campaign is None or not campaign_counts.calls:
            continue
        campaign_verdicts.append(
            _judge(
                "campaign",
                kpi_row(campaign_id, campaign.name, campaign_counts),
                thresholds=thresholds_of(campaign),
                vertical=campaign.vertical,
                rpm_floor=campaign.rpm_floor,
                spikes=[],
                currency=organization.currency,
            )
        )

    # Each campaign's publishers with calls, in publisher id order: a pass over the pairs
    # with calls, not over every campaign x publisher.
    pairs_of: dict[int, list[tuple[int, BaseCounts]]] = defaultdict(list)
    judged_pairs = sorted(pair for pair, c in counts.items() if None not in pair and c.calls)
    for campaign_id, publisher_id in judged_pairs:
        pairs_of[campaign_id].append((publisher_id, counts[campaign_id, publisher_id]))
    by_campaign: dict[int, list[EntityVerdict]] = {}
    dominant_vertical: dict[int, Counter] = defaultdict(Counter)
    pair_spikes = spikes_by_campaign_and_publisher(organization, filters.date_from, filters.date_to)
    for campaign_id, campaign in campaigns.items():  # in name order, as ties go to the first
        judged = []
        for publisher_id, pair_counts in pairs_of.get(campaign_id, []):
            row = publisher_row(publisher_id, pair_counts)
            dominant_vertical[publisher_id][campaign.vertical] += row.kpis.calls
            judged.append(
                _judge(
                    "publisher",
                    row,
                    thresholds=thresholds_of(campaign),
                    vertical=campaign.vertical,
                    rpm_floor=campaign.rpm_floor,
                    spikes=pair_spikes.get((campaign_id, publisher_id), []),
                    currency=organization.currency,
                    campaign_id=campaign_id,
                )
            )
        if judged:
            by_campaign[campaign_id] = judged

    report = VerdictsReport(
        campaigns=campaign_verdicts, publishers=[], publishers_by_campaign=by_campaign
    )
    if not overall_publishers:
        return report
    publisher_rows = [
        publisher_row(publisher_id, publisher_counts)
        for publisher_id, publisher_counts in sorted(_summed_by(counts, 1).items())
        if publisher_counts.calls
    ]
    if not publisher_rows:
        return report
    # Overall a publisher is held to the tenant's thresholds and the benchmark of the
    # vertical most of its calls were in; RPM floors are per campaign, so none applies.
    thresholds = _thresholds(organization, None)
    spikes = _spikes_by_publisher(organization, filters)
    report.publishers = [
        _judge(
            "publisher",
            row,
            thresholds=thresholds,
            vertical=dominant_vertical[row.key].most_common(1)[0][0]
            if dominant_vertical[row.key]
            else "other",
            rpm_floor=None,
            spikes=spikes.get(row.key, []),
            currency=organization.currency,
        )
        for row in publisher_rows
    ]
    return report


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
    suggested_seconds: int | None  # None: not enough conversions
    reason: str  # why this suggestion, or why none
    tradeoff: str | None  # the suggestion against the threshold in force, with the payout
    buckets: list[DurationBucket]


def threshold_suggestions(
    organization: Organization, filters: KpiFilter
) -> list[ThresholdSuggestion]:
    """Conversion by talk-time bucket per campaign, the threshold the data suggests and what
    it would change against the one in force (KPIS.md "Qualifying-threshold finder").

    Talk-time buckets carry no region or tag: a filter on one is a KpiQueryError rather than
    numbers of every region or tag presented as the filtered ones."""
    if filters.region is not None or filters.tag is not None:
        raise KpiQueryError("the threshold finder cannot be filtered by region or tag")
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
    if not counts:
        return []
    campaigns = Campaign.objects.for_organization(organization).filter(id__in=counts)
    if filters.vertical:
        campaigns = campaigns.filter(vertical=filters.vertical)
    # Qualified calls by the threshold in force, over the same filter (the rollups count them).
    qualified = {
        key: campaign_counts.qualified
        for key, campaign_counts in kpi_groups(
            organization, filters, GroupBy.CAMPAIGN
        ).counts.items()
    }
    suggestions = []
    for campaign in campaigns.order_by("name"):
        buckets = [(a, c) for a, c in counts[campaign.id]]
        finding = qualifying_threshold_suggestion(buckets)
        tradeoff = None
        if finding.seconds is not None:
            tradeoff = threshold_tradeoff(
                buckets,
                suggested_seconds=finding.seconds,
                current_seconds=campaign.qualifying_seconds,
                current_qualified=qualified.get(campaign.id, 0),
                payout=campaign.payout,
                currency=organization.currency,
            )
        suggestions.append(
            ThresholdSuggestion(
                campaign_id=campaign.id,
                campaign_name=campaign.name,
                qualifying_seconds=campaign.qualifying_seconds,
                suggested_seconds=finding.seconds,
                reason=finding.reason,
                tradeoff=tradeoff,
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
