"""The plan that coverage and what-if analyse for a campaign: its current plan, or, when it has
none yet, every active buyer of the tenant in one tier at equal weights (what a first plan
would most likely hold), so both analyses still answer "who was open"."""

from __future__ import annotations

from calls.models import Campaign
from ppc_dashboard.tenancy.models import Organization
from routing.models import Buyer
from routing.rules import PlanRules
from routing.selectors import plan_rules_current, target_rule


def campaign_plan_rules(organization: Organization, campaign: Campaign) -> tuple[PlanRules, bool]:
    """(plan, whether the campaign has one); without a plan, version 0 of every active buyer."""
    plan = plan_rules_current(campaign)
    if plan is not None:
        return plan, True
    buyers = Buyer.objects.for_organization(organization).filter(active=True).order_by("name")
    targets = tuple(target_rule(buyer, tier=1, weight=1) for buyer in buyers)
    return PlanRules(plan_id=0, version=0, campaign_id=campaign.id, targets=targets), False
