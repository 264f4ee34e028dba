"""The targets that coverage and what-if analyse for a campaign: its current plan's, or every
active buyer of the tenant (tier 1, weight 1) when the campaign has no plan yet."""

from __future__ import annotations

from calls.models import Campaign
from ppc_dashboard.tenancy.models import Organization
from routing.models import Buyer, RoutingPlan
from routing.rules import TargetRule


def target_rule(buyer: Buyer, tier: int = 1, weight: int = 1) -> TargetRule:
    return TargetRule(
        target_id=buyer.id,
        name=buyer.name,
        destination=buyer.phone_number,
        timezone=buyer.timezone,
        hours=buyer.business_hours or {},
        tier=tier,
        weight=weight,
        active=buyer.active,
        concurrency_cap=buyer.concurrency_cap,
        hourly_cap=buyer.hourly_cap,
        daily_cap=buyer.daily_cap,
        monthly_cap=buyer.monthly_cap,
        geo_allow=frozenset(buyer.geo_allow or ()),
        geo_deny=frozenset(buyer.geo_deny or ()),
        ring_timeout_seconds=buyer.ring_timeout_seconds,
    )


def coverage_targets(
    organization: Organization, campaign: Campaign
) -> tuple[tuple[TargetRule, ...], int | None]:
    """(targets, plan version); version None when the campaign has no plan."""
    plan = (
        RoutingPlan.objects.filter(organization=organization, campaign_id=campaign.id)
        .order_by("-version")
        .first()
    )
    if plan is None:
        buyers = Buyer.objects.filter(organization=organization, active=True).order_by("name")
        return tuple(target_rule(b) for b in buyers), None
    rows = plan.targets.filter(organization=organization).select_related("buyer")
    rules = tuple(target_rule(t.buyer, t.tier, t.weight) for t in rows)
    return tuple(sorted(rules, key=lambda r: (r.tier, -r.weight, r.name))), plan.version
