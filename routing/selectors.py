"""Reads of the routing app: a campaign's plan as the pure decision code takes it."""

from __future__ import annotations

from django.db.models import Subquery

from .models import Buyer, RoutingPlan, RoutingPlanTarget
from .rules import PlanRules, TargetRule


def target_rule(buyer: Buyer, *, tier: int, weight: int) -> TargetRule:
    """A buyer's routing settings as the decision reads them, at its place in a plan."""
    return TargetRule(
        target_id=buyer.pk,
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


def _plan_rules(plan: RoutingPlan, rows: list[RoutingPlanTarget]) -> PlanRules:
    return PlanRules(
        plan_id=plan.pk,
        version=plan.version,
        campaign_id=plan.campaign_id,
        targets=tuple(
            target_rule(row.buyer, tier=row.tier, weight=row.weight)
            for row in sorted(rows, key=lambda row: (row.tier, -row.weight, row.buyer_id))
        ),
        repeat_to_first_buyer=plan.repeat_to_first_buyer,
    )


def _target_rows(**filters) -> list[RoutingPlanTarget]:
    return list(RoutingPlanTarget.objects.filter(**filters).select_related("plan", "buyer"))


def plan_rules_for(plan: RoutingPlan) -> PlanRules:
    """One version of a plan (the one a call recorded), with its buyers' settings as they
    are now: a buyer's caps, hours and geo belong to the buyer, not to the version."""
    rows = _target_rows(organization_id=plan.organization_id, plan=plan)
    return _plan_rules(plan, rows)


def plan_rules_current(campaign) -> PlanRules | None:
    """The campaign's current plan (its highest version), or None when it has none. One
    query: the targets with their plan and buyer, the plan picked by a subquery."""
    latest = (
        RoutingPlan.objects.for_organization(campaign.organization_id)
        .filter(campaign=campaign)
        .order_by("-version")
        .values("pk")[:1]
    )
    rows = _target_rows(organization_id=campaign.organization_id, plan_id=Subquery(latest))
    if rows:
        return _plan_rules(rows[0].plan, rows)
    # A version without targets (written outside routing_plan_save) routes nowhere.
    plan = (
        RoutingPlan.objects.for_organization(campaign.organization_id)
        .filter(campaign=campaign)
        .order_by("-version")
        .first()
    )
    return None if plan is None else _plan_rules(plan, [])
