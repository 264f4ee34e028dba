"""KPIs computed the slow, obvious way from raw calls: the oracle for the rollup tests."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from calls.models import AdSpend, Call
from kpis.metrics import MISSED_STATUSES, BaseCounts
from kpis.selectors import AD_SPEND_NOT_ATTRIBUTED, GroupBy, KpiFilter
from ppc_dashboard.tenancy.models import Organization


def _repeat_ids(calls: list[Call]) -> set[int]:
    by_key: dict[tuple, list[Call]] = defaultdict(list)
    for call in calls:
        if call.caller_number:
            by_key[(call.campaign_id, call.caller_number)].append(call)
    repeats = set()
    for group in by_key.values():
        # KPIS.md: a call earlier than this one, at most the window before; two calls at the
        # same instant are not repeats of each other.
        for call in group:
            window = dt.timedelta(days=call.campaign.duplicate_window_days if call.campaign else 30)
            if any(
                dt.timedelta(0) < call.started_at - other.started_at <= window for other in group
            ):
                repeats.add(call.id)
    return repeats


def tag_text(value: object) -> str | None:
    """A tag's value as the tag rollup keys it: JSON's spelling of numbers and booleans."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def reference_counts(
    organization: Organization,
    filters: KpiFilter,
    group_by: GroupBy,
    tag_key: str | None = None,
) -> tuple[BaseCounts, dict]:
    tz = organization.tzinfo
    every_call = list(Call.objects.filter(organization=organization).select_related("campaign"))
    repeats = _repeat_ids(every_call)

    def matches(campaign, publisher_id, day) -> bool:
        return (
            filters.date_from <= day <= filters.date_to
            and (filters.campaign_id is None or (campaign and campaign.id == filters.campaign_id))
            and (filters.publisher_id is None or publisher_id == filters.publisher_id)
            and (filters.vertical is None or (campaign and campaign.vertical == filters.vertical))
        )

    totals = BaseCounts()
    grouped: dict = defaultdict(BaseCounts)
    # KPIS.md: a partial range counts date_to's hours before until_hour (hourly rollups carry
    # no buyer, so a buyer view counts it whole); ad spend is daily and counts whole days.
    # Region and tag rollups are daily too: those views count date_to whole.
    hourly = (
        filters.buyer_id is None
        and filters.region is None
        and filters.tag is None
        and group_by not in (GroupBy.BUYER, GroupBy.REGION, GroupBy.TAG)
    )
    cut = filters.until_hour if hourly else None
    for call in every_call:
        local = call.started_at.astimezone(tz)
        if not matches(call.campaign, call.publisher_id, local.date()):
            continue
        if cut is not None and local.date() == filters.date_to and local.hour >= cut:
            continue
        if filters.buyer_id is not None and call.buyer_id != filters.buyer_id:
            continue
        if filters.region is not None and call.caller_region != filters.region:
            continue
        if filters.tag is not None and tag_text(call.tags.get(filters.tag[0])) != filters.tag[1]:
            continue
        answered = call.status == "answered"
        threshold = call.campaign.qualifying_seconds if call.campaign else 90
        counts = BaseCounts(
            calls=1,
            answered=int(answered),
            qualified=int(answered and call.duration_seconds >= threshold),
            conversions=int(call.converted),
            talk_seconds=call.duration_seconds if answered else 0,
            revenue=call.revenue + call.recovered_revenue,
            call_cost=call.cost,
            repeat_calls=int(call.id in repeats),
            short_calls=int(answered and call.duration_seconds < 20),
            followups=int(call.followup_at is not None),
            recovered=int(call.recovered_at is not None),
            recovered_revenue=call.recovered_revenue,
            missed_by_status={s: int(call.status == s) for s in MISSED_STATUSES},
        )
        totals += counts
        key = {
            GroupBy.NONE: None,
            GroupBy.CAMPAIGN: call.campaign_id,
            GroupBy.PUBLISHER: call.publisher_id,
            GroupBy.BUYER: call.buyer_id,
            GroupBy.DAY: local.date(),
            GroupBy.HOUR_OF_WEEK: (local.weekday(), local.hour),
            GroupBy.CAMPAIGN_PUBLISHER: (call.campaign_id, call.publisher_id),
            GroupBy.REGION: call.caller_region or None,
            GroupBy.TAG: tag_text(call.tags.get(tag_key)) if tag_key else None,
        }[group_by]
        grouped[key] += counts
    for spend in AdSpend.objects.filter(organization=organization).select_related("campaign"):
        if not matches(spend.campaign, spend.publisher_id, spend.day):
            continue
        if filters.buyer_id is not None or filters.region is not None or filters.tag is not None:
            continue  # ad spend has no buyer, region or tag
        extra = BaseCounts(ad_spend=Decimal(spend.amount))
        totals += extra
        # KPIS.md: spend without a publisher, by publisher, buyer or hour, is a row of its own.
        publisher = spend.publisher_id or AD_SPEND_NOT_ATTRIBUTED
        key = {
            GroupBy.NONE: None,
            GroupBy.CAMPAIGN: spend.campaign_id,
            GroupBy.PUBLISHER: publisher,
            GroupBy.BUYER: AD_SPEND_NOT_ATTRIBUTED,
            GroupBy.DAY: spend.day,
            GroupBy.HOUR_OF_WEEK: AD_SPEND_NOT_ATTRIBUTED,
            GroupBy.CAMPAIGN_PUBLISHER: (spend.campaign_id, publisher),
            GroupBy.REGION: AD_SPEND_NOT_ATTRIBUTED,
            GroupBy.TAG: AD_SPEND_NOT_ATTRIBUTED,
        }[group_by]
        grouped[key] += extra
    return totals, dict(grouped)
