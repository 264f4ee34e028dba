"""Routing decisions as pure functions: which buyer targets a call tries, in what order, and
why each target left out was left out. No Django, no database, no Redis: the caller passes the
plan (`PlanRules`), the targets' live counts (`TargetLive`) and the time; the voice webhook,
`POST /api/v1/route` and the what-if replay all decide through here.

Geography codes: a country is ISO 3166-1 alpha-2 ("US", "CA"); a region is ISO 3166-2
("US-CA", "CA-ON"). A target's allow list admits a caller whose country or region is on it
(empty: every caller); its deny list refuses a caller whose country or region is on it.
Caps count calls sent to the target in the current hour, day and month of the target's own
time zone.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .business_hours import WEEKDAYS, is_open_local, next_opening


class SkipReason(enum.StrEnum):
    """Why a target of the plan is not among the destinations of a call."""

    INACTIVE = "inactive"
    NO_DESTINATION = "no_destination"  # no phone number to dial
    CLOSED = "closed"  # outside its hours of operation, in its time zone
    GEO = "geo"  # the caller's country or region is not allowed, or is denied
    CONCURRENCY = "concurrency"  # as many calls in progress as its concurrency cap
    HOURLY_CAP = "hourly_cap"
    DAILY_CAP = "daily_cap"
    MONTHLY_CAP = "monthly_cap"


@dataclass(frozen=True, slots=True)
class TargetRule:
    """One buyer target as a plan uses it: the buyer's settings and its place in the plan."""

    target_id: int  # the buyer's id
    name: str
    destination: str  # E.164; "" when the buyer has no number
    timezone: str  # IANA name
    hours: Mapping[str, list]  # routing.business_hours format; {} = around the clock
    tier: int  # 1 is tried first
    weight: int  # share within its tier, >= 1
    active: bool = True
    concurrency_cap: int | None = None  # None: unlimited
    hourly_cap: int | None = None
    daily_cap: int | None = None
    monthly_cap: int | None = None
    geo_allow: frozenset[str] = frozenset()
    geo_deny: frozenset[str] = frozenset()
    ring_timeout_seconds: int = 20


@dataclass(frozen=True, slots=True)
class PlanRules:
    """A campaign's routing plan at one version."""

    plan_id: int
    version: int
    campaign_id: int
    targets: tuple[TargetRule, ...]
    # A repeat caller within the campaign's duplicate window goes to the buyer of their first
    # call when that buyer can take it.
    repeat_to_first_buyer: bool = True


@dataclass(frozen=True, slots=True)
class TargetLive:
    """A target's live counts at the moment of the decision (routing.live_state)."""

    in_progress: int = 0
    hour_count: int = 0
    day_count: int = 0
    month_count: int = 0


@dataclass(frozen=True, slots=True)
class Caller:
    number: str = ""  # E.164 or "" when withheld
    country: str = ""  # ISO 3166-1 alpha-2, "" when unknown
    region: str = ""  # ISO 3166-2, "" when unknown


@dataclass(frozen=True, slots=True)
class Skip:
    target_id: int
    reason: SkipReason
    detail: str  # for a person: "closed Sun 02:00 America/Chicago (opens Mon 08:00)"


@dataclass(frozen=True, slots=True)
class Decision:
    """Destinations to try in order (failover goes down the list), and every target left out."""

    destinations: tuple[TargetRule, ...]
    skipped: tuple[Skip, ...]
    # The target of the caller's first call when this call is a repeat routed back to it.
    repeat_of_target_id: int | None = None


def _geo_skip_detail(target: TargetRule, caller: Caller) -> str | None:
    """Why the caller's geography keeps them from this target, or None when it does not."""
    if not target.geo_allow and not target.geo_deny:
        return None
    country = caller.country or caller.region.partition("-")[0]
    places = {code for code in (country, caller.region) if code}
    where = caller.region or country or "an unknown place"
    denied = sorted(places & target.geo_deny)
    if denied:
        return f"caller from {where}: {', '.join(denied)} is on the deny list"
    if target.geo_allow and not places & target.geo_allow:
        allowed = ", ".join(sorted(target.geo_allow))
        if not places:
            # A target that limits its callers' places cannot be promised an unknown one.
            return f"caller's location is unknown; only callers from {allowed} are allowed"
        return f"caller from {where} is outside the allow list ({allowed})"
    return None


def _closed_detail(target: TargetRule, at: dt.datetime, local: dt.datetime) -> str:
    text = f"closed {WEEKDAYS[local.weekday()].title()} {local:%H:%M} {target.timezone}"
    opening = next_opening(target.hours, target.timezone, at)
    if opening is None:
        return f"{text} (no opening hours)"
    return f"{text} (opens {WEEKDAYS[opening.weekday()].title()} {opening:%H:%M})"


def target_skip(
    target: TargetRule,
    live: TargetLive,
    caller: Caller,
    at: dt.datetime,
    local: dt.datetime | None = None,
) -> Skip | None:
    """The first reason this target cannot take the call now, or None when it can. Reasons
    are checked from the most lasting (inactive) to the most passing (a cap's count).
    `local` is `at` in the target's zone, when the caller has it already."""
    tid = target.target_id
    if not target.active:
        return Skip(tid, SkipReason.INACTIVE, f"{target.name} is inactive")
    if not target.destination:
        return Skip(tid, SkipReason.NO_DESTINATION, f"{target.name} has no phone number")
    if target.hours:
        if local is None:
            local = at.astimezone(zoneinfo.ZoneInfo(target.timezone))
        if not is_open_local(target.hours, local):
            return Skip(tid, SkipReason.CLOSED, _closed_detail(target, at, local))
    geo = _geo_skip_detail(target, caller)
    if geo is not None:
        return Skip(tid, SkipReason.GEO, geo)
    cap = target.concurrency_cap
    if cap is not None and live.in_progress >= cap:
        return Skip(tid, SkipReason.CONCURRENCY, f"{live.in_progress} of {cap} calls in progress")
    for reason, cap, count, label, period in (
        (SkipReason.HOURLY_CAP, target.hourly_cap, live.hour_count, "hourly", "hour"),
        (SkipReason.DAILY_CAP, target.daily_cap, live.day_count, "daily", "day"),
        (SkipReason.MONTHLY_CAP, target.monthly_cap, live.month_count, "monthly", "month"),
    ):
        if cap is not None and count >= cap:
            detail = (
                f"{label} cap of {cap} reached ({count} calls this {period}, {target.timezone})"
            )
            return Skip(tid, reason, detail)
    return None


def weighted_order(targets: Sequence[TargetRule], rng: random.Random) -> list[TargetRule]:
    """The targets in a weighted random order without replacement: each place is drawn among
    the targets left with probability weight / (sum of their weights), in integers so that a
    seed gives the same order on every platform."""
    left = list(targets)
    total = sum(target.weight for target in left)
    order: list[TargetRule] = []
    while left:
        ticket = rng.randrange(total)
        for index, target in enumerate(left):
            ticket -= target.weight
            if ticket < 0:
                order.append(left.pop(index))
                total -= target.weight
                break
    return order


def route_decide(
    plan: PlanRules,
    live: Mapping[int, TargetLive],
    caller: Caller,
    at: dt.datetime,
    *,
    seed: int | None = None,
    first_buyer_target_id: int | None = None,
) -> Decision:
    """The destinations a call tries, in order, and every target of the plan left out with
    why. Tiers in ascending order; within a tier a weighted draw (`weighted_order`) with
    `random.Random(seed)`, so a seed repeats the decision. A repeat caller's first buyer goes
    first when the plan sends repeats back and that buyer can take the call now.

    `live` holds the targets' counts (a target missing from it has none); `at` is aware.
    """
    if at.tzinfo is None:
        raise ValueError("route_decide needs an aware datetime")
    rng = random.Random(seed)
    skipped: list[Skip] = []
    tiers: dict[int, list[TargetRule]] = {}
    no_counts = TargetLive()
    local_times: dict[str, dt.datetime] = {}  # one conversion per zone, not per target
    for target in plan.targets:
        local = local_times.get(target.timezone)
        if local is None:
            local = local_times[target.timezone] = at.astimezone(zoneinfo.ZoneInfo(target.timezone))
        skip = target_skip(target, live.get(target.target_id, no_counts), caller, at, local)
        if skip is None:
            tiers.setdefault(target.tier, []).append(target)
        else:
            skipped.append(skip)
    destinations = [target for tier in sorted(tiers) for target in weighted_order(tiers[tier], rng)]
    repeat_of = None
    if plan.repeat_to_first_buyer and first_buyer_target_id is not None:
        first = next((t for t in destinations if t.target_id == first_buyer_target_id), None)
        if first is not None:
            destinations.remove(first)
            destinations.insert(0, first)
            repeat_of = first.target_id
    return Decision(tuple(destinations), tuple(skipped), repeat_of)
