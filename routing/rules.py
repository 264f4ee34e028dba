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

import enum
from collections.abc import Mapping
from dataclasses import dataclass


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


# The decision function, implemented beside these types:
#   route_decide(plan: PlanRules, live: Mapping[int, TargetLive], caller: Caller,
#                at: datetime, *, seed: int | None = None,
#                first_buyer_target_id: int | None = None) -> Decision
