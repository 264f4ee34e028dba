"""Reads of the routing app: a campaign's plan as the pure decision code takes it, and its
versions as the plan editor lists them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import Count, QuerySet

from ppc_dashboard.db import prepared_cursor

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


# Live routing decides every ringing call from a plan of up to dozens of buyers; building
# them as model instances was a third of a decision's cost. Versions are never edited and
# buyers rarely are, so each worker keeps the rules it built, keyed on the plan and its
# buyers' stamp (their latest `updated_at` and their number): the next decision after any
# buyer edit misses the cache, at the price of one aggregate query instead of the rows.
PLAN_RULES_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class _PlanStamp:
    plan_id: int
    buyers_changed: object  # the latest updated_at of the plan's buyers
    target_count: int


@lru_cache(maxsize=PLAN_RULES_CACHE_SIZE)
def _plan_rules_cached(organization_id: int, stamp: _PlanStamp) -> PlanRules:
    rows = _target_rows(organization_id=organization_id, plan_id=stamp.plan_id)
    return _plan_rules(rows[0].plan, rows)


def plan_rules_cache_clear() -> None:
    """Forget every cached plan (tests: ids are reused across test databases)."""
    _plan_rules_cached.cache_clear()


def _plan_stamp_sql(plan: str) -> str:
    """The stamp of one plan's targets, the plan picked by `plan` (SQL for its id)."""
    target, buyer = RoutingPlanTarget._meta.db_table, Buyer._meta.db_table
    return (
        f"SELECT t.plan_id, MAX(b.updated_at), COUNT(*) FROM {target} t "
        f"JOIN {buyer} b ON b.id = t.buyer_id AND b.organization_id = t.organization_id "
        f"WHERE t.organization_id = %s AND t.plan_id = ({plan}) GROUP BY t.plan_id"
    )


# Asked on every ringing call: written out, as compiling it in the ORM cost 1 ms of CPU per
# decision against 0.1 ms to run it. Scoped to the tenant like the rest (its organization).
_STAMP_OF_PLAN = _plan_stamp_sql("%s")
# The current plan's stamp: one row (plan id, buyers' latest change, target count), or none
# when the campaign has no plan with targets; parameters `current_plan_stamp_params`. Public
# so that a caller can read it in the same round trip as a query of its own (live routing:
# the repeat caller's first buyer) and hand the row to `plan_rules_of_stamp`.
CURRENT_PLAN_STAMP_SQL = _plan_stamp_sql(
    f"SELECT p.id FROM {RoutingPlan._meta.db_table} p WHERE p.organization_id = %s "
    "AND p.campaign_id = %s ORDER BY p.version DESC LIMIT 1"
)


def current_plan_stamp_params(campaign) -> list[int]:
    return [campaign.organization_id, campaign.organization_id, campaign.pk]


def _plan_stamp(sql: str, params: list[int]) -> _PlanStamp | None:
    """The stamp of a plan's targets, None without targets."""
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _PlanStamp(*row)


def plan_rules_for(plan: RoutingPlan) -> PlanRules:
    """One version of a plan (the one a call recorded), with its buyers' settings as they
    are now: a buyer's caps, hours and geo belong to the buyer, not to the version."""
    stamp = _plan_stamp(_STAMP_OF_PLAN, [plan.organization_id, plan.pk])
    if stamp is None:
        return _plan_rules(plan, [])
    return _plan_rules_cached(plan.organization_id, stamp)


def plan_rules_of_stamp(campaign, stamp_row: Sequence | None) -> PlanRules | None:
    """The campaign's current plan from the row `CURRENT_PLAN_STAMP_SQL` read (None: no
    row); None when the campaign has no plan."""
    if stamp_row is not None:
        return _plan_rules_cached(campaign.organization_id, _PlanStamp(*stamp_row))
    # A version without targets (written outside routing_plan_save) routes nowhere.
    plan = (
        RoutingPlan.objects.for_organization(campaign.organization_id)
        .filter(campaign=campaign)
        .order_by("-version")
        .first()
    )
    return None if plan is None else _plan_rules(plan, [])


def plan_rules_current(campaign) -> PlanRules | None:
    """The campaign's current plan (its highest version), or None when it has none. One
    query when the plan's rules are cached: the current plan's stamp."""
    with prepared_cursor() as cursor:
        cursor.execute(CURRENT_PLAN_STAMP_SQL, current_plan_stamp_params(campaign))
        row = cursor.fetchone()
    return plan_rules_of_stamp(campaign, row)


# --- The plan editor's reads --------------------------------------------------------------


@dataclass(frozen=True)
class PlanTargetRow:
    """A buyer of one plan version as the editor lists it, with its share of its tier."""

    buyer: Buyer
    tier: int
    weight: int
    share: float  # the weight's fraction of its tier's weights: the first-pick frequency


def routing_plan_versions(campaign) -> QuerySet[RoutingPlan]:
    """The campaign's plan versions, newest (the current one) first, with who saved each and
    how many buyers it has."""
    return (
        RoutingPlan.objects.for_organization(campaign.organization_id)
        .filter(campaign=campaign)
        .select_related("created_by")
        .annotate(target_count=Count("targets"))
        .order_by("-version")
    )


def routing_plan_rows(plan: RoutingPlan) -> list[PlanTargetRow]:
    """A version's buyers in the order tiers are tried (heaviest first within a tier)."""
    targets = list(
        RoutingPlanTarget.objects.for_organization(plan.organization_id)
        .filter(plan=plan)
        .select_related("buyer")
        .order_by("tier", "-weight", "buyer__name")
    )
    tier_weights: dict[int, int] = {}
    for target in targets:
        tier_weights[target.tier] = tier_weights.get(target.tier, 0) + target.weight
    return [
        PlanTargetRow(t.buyer, t.tier, t.weight, t.weight / tier_weights[t.tier]) for t in targets
    ]
