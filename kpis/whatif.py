"""What-if: a campaign's past arrivals replayed through its current plan and through an edited
one (a backup buyer added, hours extended, a cap or concurrency raised), with the missed-call
rate and the revenue the edit would likely have recovered.

It lives in kpis because it reads the rollups (kpis reads routing, never the reverse); the
replay itself is routing's pure rule (routing.whatif), which decides with route_decide.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from calls.models import Campaign
from ppc_dashboard.tenancy.models import Organization
from routing.models import Buyer
from routing.rules import Caller, PlanRules
from routing.selectors import target_rule
from routing.whatif import (
    AnswerHistory,
    ArrivalGroup,
    ReplayResult,
    answer_probability,
    caller_class_key,
    geo_codes,
    plan_edited,
    replay,
)

from .coverage import campaign_hourly_traffic
from .models import CallRollupDaily, CallRollupDailyRegionCampaign, CallRollupHourlyCampaign
from .routing_targets import campaign_plan_rules
from .selectors import KpiFilter

MAX_WHAT_IF_DAYS = 366
WHAT_IF_MODEL = (
    "Model: each hour's arrivals (from the hourly rollups, split by caller state in that "
    "day's proportions) are decided once at the middle of the hour; a target answers the "
    "share of the calls sent to it that it answered over the range (answered / sent, "
    "weighted with the tenant's buyers' average as if it had 10 more calls, so a target "
    "without history answers like the average); the calls it does not answer, or cannot "
    "take under its caps (counted in its zone) or its concurrency (cap x 3600 / mean talk "
    "time answered calls an hour), fail over down the plan; the rest are missed. Both plans "
    "see the same arrivals, so the difference is the edit's."
)
# The prior answer probability when the tenant's buyers have no calls sent to them at all.
DEFAULT_PRIOR = 0.5


class WhatIfError(ValueError):
    """An edit that cannot be replayed (a buyer of another tenant, one not in the plan):
    `edit` names the list of edits it is in ("add_targets", "remove_targets", "changes") and
    `buyer_id` the buyer it names, when it names one."""

    def __init__(self, message: str, *, edit: str = "changes", buyer_id: int | None = None):
        super().__init__(message)
        self.edit = edit
        self.buyer_id = buyer_id


@dataclass(frozen=True)
class TargetAdd:
    buyer_id: int
    tier: int = 1
    weight: int = 1


@dataclass(frozen=True)
class WhatIfEdits:
    add: tuple[TargetAdd, ...] = ()
    remove: frozenset[int] = frozenset()
    # buyer id -> TargetRule field -> new value (routing.whatif.EDITABLE_FIELDS)
    changes: Mapping[int, Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class TargetOdds:
    target_id: int
    name: str
    probability: float
    sent: int  # calls sent to it over the range, across the tenant's campaigns
    answered: int

    @property
    def percent(self) -> float:
        return self.probability * 100


@dataclass(frozen=True)
class WhatIf:
    before: ReplayResult
    after: ReplayResult
    before_plan: PlanRules
    after_plan: PlanRules
    has_plan: bool
    observed_calls: int
    observed_missed: int
    odds: tuple[TargetOdds, ...]
    prior: float
    hold_seconds: float | None
    revenue_per_answered: Decimal | None

    @property
    def observed_answered(self) -> int:
        return self.observed_calls - self.observed_missed

    @property
    def observed_missed_rate(self) -> float | None:
        return self.observed_missed / self.observed_calls * 100 if self.observed_calls else None

    @property
    def recovered_calls(self) -> float:
        return self.after.answered - self.before.answered

    @property
    def recovered_revenue(self) -> Decimal | None:
        if self.revenue_per_answered is None:
            return None
        return (self.revenue_per_answered * Decimal(repr(self.recovered_calls))).quantize(
            Decimal("0.01")
        )


def caller_of_region(region: str, country: str) -> Caller:
    """A caller as calls store their place (`caller_region`: a state such as "IL", or an ISO
    3166-2 code "US-IL"), in the tenant's country when the code names none."""
    if not region:
        return Caller()
    if "-" in region:
        return Caller(country=region.partition("-")[0], region=region)
    if len(region) <= 3 and region.isalnum():
        return Caller(country=country, region=f"{country}-{region.upper()}")
    return Caller(country=country)  # a name we cannot code: the country is still known


def arrival_groups(
    organization: Organization,
    campaign: Campaign,
    kpi_filter: KpiFilter,
    plans: Sequence[PlanRules],
) -> list[ArrivalGroup]:
    """The campaign's calls per local hour of the range, split by caller-place class in each
    day's proportions, in time order: two reads of the rollups, never of the calls."""
    scope = {
        "organization": organization,
        "campaign_id": campaign.id,
        "day__gte": kpi_filter.date_from,
        "day__lte": kpi_filter.date_to,
    }
    hours = (
        CallRollupHourlyCampaign.objects.filter(**scope)
        .values("day", "hour")
        .annotate(n=Sum("calls"))
        .order_by("day", "hour")
    )
    mentioned = geo_codes(*plans)
    classes: dict[dt.date, dict[tuple, list]] = defaultdict(dict)  # day -> key -> [caller, n]
    regions = (
        CallRollupDailyRegionCampaign.objects.filter(**scope)
        .values("day", "region")
        .annotate(n=Sum("calls"))
        .order_by("day", "region")
    )
    for row in regions:
        caller = caller_of_region(row["region"], organization.country)
        entry = classes[row["day"]].setdefault(caller_class_key(caller, mentioned), [caller, 0])
        entry[1] += row["n"]
    zone = zoneinfo.ZoneInfo(organization.timezone)
    groups = []
    for row in hours:
        if not row["n"]:
            continue
        day = row["day"]
        at = dt.datetime(day.year, day.month, day.day, row["hour"], 30, tzinfo=zone)
        split = classes.get(day) or {("", ""): [Caller(), 1]}
        total = sum(n for _, n in split.values())
        for caller, n in split.values():
            groups.append(ArrivalGroup(at=at, caller=caller, calls=row["n"] * n / total))
    return groups


def target_odds(
    organization: Organization, kpi_filter: KpiFilter, plans: Sequence[PlanRules]
) -> tuple[dict[int, TargetOdds], float]:
    """Each plan target's answer probability from the calls sent to it over the range (in
    every campaign of the tenant: answering is the buyer's habit), with the tenant's buyers'
    average as the prior."""
    rows = (
        CallRollupDaily.objects.filter(
            organization=organization,
            day__gte=kpi_filter.date_from,
            day__lte=kpi_filter.date_to,
            buyer_id__isnull=False,
        )
        .values("buyer_id")
        .annotate(sent=Sum("calls"), answered=Sum("answered"))
    )
    history = {row["buyer_id"]: AnswerHistory(row["sent"], row["answered"]) for row in rows}
    sent = sum(h.sent for h in history.values())
    prior = sum(h.answered for h in history.values()) / sent if sent else DEFAULT_PRIOR
    odds = {}
    for plan in plans:
        for target in plan.targets:
            h = history.get(target.target_id)
            odds[target.target_id] = TargetOdds(
                target_id=target.target_id,
                name=target.name,
                probability=answer_probability(h, prior),
                sent=h.sent if h else 0,
                answered=h.answered if h else 0,
            )
    return odds, prior


def _edited_plan(organization: Organization, plan: PlanRules, edits: WhatIfEdits) -> PlanRules:
    ids = {add.buyer_id for add in edits.add}
    buyers = {b.id: b for b in Buyer.objects.for_organization(organization).filter(id__in=ids)}
    missing = ids - set(buyers)
    if missing:
        raise WhatIfError(
            f"no buyer {min(missing)} in this organization",
            edit="add_targets",
            buyer_id=min(missing),
        )
    added = [target_rule(buyers[a.buyer_id], tier=a.tier, weight=a.weight) for a in edits.add]
    present = {t.target_id for t in plan.targets} | ids
    for target_id in edits.remove | set(edits.changes or {}):
        if target_id not in present:
            edit = "remove_targets" if target_id in edits.remove else "changes"
            raise WhatIfError(
                f"buyer {target_id} is not in the plan", edit=edit, buyer_id=target_id
            )
    try:
        return plan_edited(plan, add=added, remove=edits.remove, changes=edits.changes)
    except ValueError as exc:
        raise WhatIfError(str(exc)) from exc


def campaign_what_if(
    organization: Organization,
    campaign: Campaign,
    kpi_filter: KpiFilter,
    edits: WhatIfEdits,
    *,
    seed: int = 0,
) -> WhatIf:
    """Replay the range through the current plan and the edited one, with the same arrivals,
    answer probabilities and seed, so the difference is the edit's alone."""
    before_plan, has_plan = campaign_plan_rules(organization, campaign)
    after_plan = _edited_plan(organization, before_plan, edits)
    plans = (before_plan, after_plan)
    groups = arrival_groups(organization, campaign, kpi_filter, plans)
    odds, prior = target_odds(organization, kpi_filter, plans)
    probabilities = {tid: o.probability for tid, o in odds.items()}
    traffic = campaign_hourly_traffic(organization, campaign, kpi_filter)
    hold = traffic.hold_seconds
    observed = sum(c.calls for c in traffic.cells.values())
    return WhatIf(
        before=replay(before_plan, groups, probabilities, hold_seconds=hold, seed=seed),
        after=replay(after_plan, groups, probabilities, hold_seconds=hold, seed=seed),
        before_plan=before_plan,
        after_plan=after_plan,
        has_plan=has_plan,
        observed_calls=observed,
        observed_missed=sum(c.missed for c in traffic.cells.values()),
        odds=tuple(sorted(odds.values(), key=lambda o: o.name)),
        prior=prior,
        hold_seconds=hold,
        revenue_per_answered=traffic.revenue_per_answered,
    )
