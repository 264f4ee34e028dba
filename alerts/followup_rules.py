"""Follow-up rules as pure functions (no Django): which calls get a follow-up, when it is due,
and which status changes a follow-up may go through. Tested without a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from routing.business_hours import next_open_moment

MISSED = "missed"
NOT_CONVERTED = "not_converted"

OPEN = "open"
CONTACTED = "contacted"
RECOVERED = "recovered"
LOST = "lost"
# A follow-up is worked (contacted) and ends recovered or lost; an ended one stays ended, so a
# recovery's revenue is never silently taken back by a later click.
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({CONTACTED, RECOVERED, LOST}),
    CONTACTED: frozenset({RECOVERED, LOST}),
    RECOVERED: frozenset(),
    LOST: frozenset(),
}


@dataclass(frozen=True)
class RuleSettings:
    """A campaign's follow-up rule."""

    on_missed: bool
    missed_delay_minutes: int
    on_not_converted: bool
    not_converted_minutes: int


@dataclass(frozen=True)
class CallFacts:
    """What the rule reads of a call."""

    status: str
    converted: bool
    started_at: dt.datetime
    duration_seconds: int

    @property
    def ended_at(self) -> dt.datetime:
        return self.started_at + dt.timedelta(seconds=self.duration_seconds)


def followup_reason(
    rule: RuleSettings, call: CallFacts, now: dt.datetime
) -> tuple[str, dt.datetime] | None:
    """The reason a call gets a follow-up now and the moment it became one (before the
    buyer's hours are applied); None when it gets none (yet).

    Missed: any status but answered, from the end of the call plus the rule's delay. Not
    converted: an answered call still unconverted `not_converted_minutes` after it ended.
    """
    if call.status != "answered":
        if not rule.on_missed:
            return None
        return MISSED, call.ended_at + dt.timedelta(minutes=rule.missed_delay_minutes)
    if not rule.on_not_converted or call.converted:
        return None
    deadline = call.ended_at + dt.timedelta(minutes=rule.not_converted_minutes)
    if deadline > now:
        return None  # the conversion may still come in
    return NOT_CONVERTED, deadline


def followup_due_at(hours: dict, timezone: str, earliest: dt.datetime) -> dt.datetime:
    """When to call back: the first moment at or after `earliest` within the hours (in their
    zone); at `earliest` for hours that are empty (around the clock) or never open."""
    return next_open_moment(hours, timezone, earliest) or earliest.astimezone(dt.UTC)


def transition_error(current: str, wanted: str) -> str | None:
    """Why a follow-up in `current` cannot become `wanted`; None when it can."""
    if wanted not in TRANSITIONS:
        return f"'{wanted}' is not a follow-up status"
    if wanted in TRANSITIONS[current]:
        return None
    if not TRANSITIONS[current]:
        return f"The follow-up is already {current}; it cannot become {wanted}."
    allowed = " or ".join(sorted(TRANSITIONS[current]))
    return f"A follow-up that is {current} can become {allowed}, not {wanted}."
