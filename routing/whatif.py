"""What-if replay, as pure functions: a past range's arrivals sent through a routing plan with
the decision function (routing.rules.route_decide), in expected numbers of calls.

The model, which the campaign page states:
- Arrivals are aggregated: the calls of each local hour of the range (from the hourly
  rollups), split by caller place in that day's proportions (from the region rollups), and
  decided once per (hour, class of caller places that the plans' geo lists tell apart) at the
  middle of the hour. A 90-day range is about 2,200 hours, so a replay makes a few thousand
  decisions, however many calls the range held.
- Each group's calls go down the decision's destinations in order: a target is sent as many
  as it can still take, answers a share of them equal to its answer probability, and the
  rest (unanswered or over its limits) fail over to the next destination; what is left at
  the end of the list is missed.
- A target can take, in an hour, what its hourly, daily and monthly caps have left (counted
  in its own time zone, as live routing counts them), and, when it has a concurrency cap,
  answer at most cap x 3600 / mean talk time calls in that hour.
- Within a tier, the seeded weighted draw orders the whole group; over the range's hours the
  draws share the first pick by weight, as live routing does call by call.

No Django, no database: kpis.whatif reads the rollups and the plans and passes them in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .rules import Caller, PlanRules, TargetLive, TargetRule, route_decide

# Pseudo-calls of prior weight behind an answer probability: a target with 10 calls sent is
# judged half by its own record, half by the tenant's buyers' average.
PRIOR_CALLS = 10

# TargetRule fields a what-if edit may change.
EDITABLE_FIELDS = frozenset(
    {
        "hours",
        "concurrency_cap",
        "hourly_cap",
        "daily_cap",
        "monthly_cap",
        "tier",
        "weight",
        "active",
    }
)


@dataclass(frozen=True, slots=True)
class ArrivalGroup:
    """Calls that arrived in one local hour from one class of caller places."""

    at: dt.datetime  # aware: the middle of the hour
    caller: Caller  # a representative of the class
    calls: float  # a share of the hour's calls, so not always whole


@dataclass(frozen=True, slots=True)
class AnswerHistory:
    sent: int  # calls sent to the target (with it as the call's buyer)
    answered: int


def answer_probability(history: AnswerHistory | None, prior: float) -> float:
    """(answered + PRIOR_CALLS x prior) / (sent + PRIOR_CALLS): a target's own record pulled
    toward the prior, all prior without history."""
    sent = history.sent if history else 0
    answered = history.answered if history else 0
    return (answered + PRIOR_CALLS * prior) / (sent + PRIOR_CALLS)


@dataclass
class ReplayResult:
    calls: float = 0.0
    answered: float = 0.0
    sent: dict[int, float] = field(default_factory=dict)  # target id -> calls sent
    answered_by: dict[int, float] = field(default_factory=dict)
    decisions: int = 0

    @property
    def missed(self) -> float:
        return self.calls - self.answered

    @property
    def missed_rate(self) -> float | None:
        return None if not self.calls else self.missed / self.calls * 100


def plan_edited(
    plan: PlanRules,
    *,
    add: Sequence[TargetRule] = (),
    remove: frozenset[int] = frozenset(),
    changes: Mapping[int, Mapping[str, Any]] | None = None,
) -> PlanRules:
    """The plan with targets added (a backup buyer), removed, or with some of their settings
    changed (hours, caps, tier, weight, active). Raises ValueError for an edit that names a
    target the edited plan does not have or a field it may not change."""
    targets = [t for t in plan.targets if t.target_id not in remove]
    present = {t.target_id for t in targets}
    for target in add:
        if target.target_id in present:
            raise ValueError(f"{target.name} is already in the plan")
        targets.append(target)
        present.add(target.target_id)
    changes = changes or {}
    for target_id, fields in changes.items():
        if target_id not in present:
            raise ValueError(f"target {target_id} is not in the plan")
        unknown = set(fields) - EDITABLE_FIELDS
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    targets = [
        dataclasses.replace(t, **changes[t.target_id]) if t.target_id in changes else t
        for t in targets
    ]
    targets.sort(key=lambda t: (t.tier, -t.weight, t.name))
    return dataclasses.replace(plan, targets=tuple(targets))


class _Counts:
    """Expected calls sent to each target per period of its own zone, and answered per
    tenant hour (the concurrency limit)."""

    def __init__(self) -> None:
        self.by_period: dict[tuple[int, object], float] = {}
        self.zones: dict[str, zoneinfo.ZoneInfo] = {}

    def keys(self, target: TargetRule, at: dt.datetime) -> tuple:
        zone = self.zones.get(target.timezone)
        if zone is None:
            zone = self.zones[target.timezone] = zoneinfo.ZoneInfo(target.timezone)
        local = at.astimezone(zone)
        day = local.date()
        return (("h", day, local.hour), ("d", day), ("m", day.year, day.month))

    def get(self, target_id: int, key: object) -> float:
        return self.by_period.get((target_id, key), 0.0)

    def add(self, target_id: int, key: object, amount: float) -> None:
        self.by_period[(target_id, key)] = self.get(target_id, key) + amount


def replay(
    plan: PlanRules,
    groups: Sequence[ArrivalGroup],
    probabilities: Mapping[int, float],
    *,
    hold_seconds: float | None,
    seed: int = 0,
) -> ReplayResult:
    """Expected answered and missed calls of `groups` (in time order) under `plan`."""
    result = ReplayResult()
    counts = _Counts()
    for index, group in enumerate(groups):
        keys = {t.target_id: counts.keys(t, group.at) for t in plan.targets}
        live = {
            t.target_id: TargetLive(
                hour_count=int(counts.get(t.target_id, keys[t.target_id][0])),
                day_count=int(counts.get(t.target_id, keys[t.target_id][1])),
                month_count=int(counts.get(t.target_id, keys[t.target_id][2])),
            )
            for t in plan.targets
        }
        decision = route_decide(plan, live, group.caller, group.at, seed=seed + index)
        result.decisions += 1
        result.calls += group.calls
        flow = group.calls
        for target in decision.destinations:
            if flow <= 0:
                break
            tid = target.target_id
            p = probabilities.get(tid, 0.0)
            hour_key, day_key, month_key = keys[tid]
            limit = flow
            for cap, key in (
                (target.hourly_cap, hour_key),
                (target.daily_cap, day_key),
                (target.monthly_cap, month_key),
            ):
                if cap is not None:
                    limit = min(limit, max(cap - counts.get(tid, key), 0.0))
            if target.concurrency_cap is not None and hold_seconds and p > 0:
                most_answered = target.concurrency_cap * 3600 / hold_seconds
                answered_key = ("answered", group.at.replace(minute=0, second=0))
                room = max(most_answered - counts.get(tid, answered_key), 0.0)
                limit = min(limit, room / p)
                counts.add(tid, answered_key, limit * p)
            sent = limit
            answered = sent * p
            for key in (hour_key, day_key, month_key):
                counts.add(tid, key, sent)
            result.sent[tid] = result.sent.get(tid, 0.0) + sent
            result.answered_by[tid] = result.answered_by.get(tid, 0.0) + answered
            result.answered += answered
            flow -= answered
    return result


def caller_class_key(caller: Caller, mentioned: frozenset[str]) -> tuple[str, str]:
    """What the plans' geo lists can tell about a caller: its country and region where a list
    names them, else only whether each is known. Callers with the same key are decided alike,
    so their calls are replayed as one group."""
    country = caller.country or caller.region.partition("-")[0]
    return (
        country if country in mentioned else ("?" if country else ""),
        caller.region if caller.region in mentioned else ("?" if caller.region else ""),
    )


def geo_codes(*plans: PlanRules) -> frozenset[str]:
    return frozenset(
        code for plan in plans for t in plan.targets for code in (*t.geo_allow, *t.geo_deny)
    )
