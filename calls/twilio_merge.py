"""One inbound Twilio call from all its callbacks: the merge of everything known about a CallSid.

Twilio reports one call in several requests, which arrive in any order and may be replayed:

- status callbacks of the call itself (queued, initiated, ringing, in-progress, completed or
  another final CallStatus), each with a `SequenceNumber` and a `Timestamp` of its event; only
  the final one carries `CallDuration` (the whole call, IVR included);
- the `<Dial>` action callback of each buyer leg the call rang (`DialCallStatus`,
  `DialCallDuration`: the time with that buyer, `DialCallSid`), sent when that dial ends,
  without `Timestamp` or `SequenceNumber`;
- with live routing (`calls.live_routing`), what the voice webhook decided, in parameters of
  our own that Twilio never sends: each buyer leg it dialed (`RoutedLeg`, `RoutedBuyer`,
  `RoutingPlan`, also added to that leg's <Dial> action fact), and `RoutingEnd` when nothing
  was left to dial (the call is no_buyer unless a leg was answered).

Each request becomes a `TwilioCallbackFact`, identified by its `key` (replays share it). The
stored call is `twilio_call_merge` of the distinct facts: a pure function of the set, so every
arrival order and every replay gives the same call. Pure: no database here; the service that
keeps the facts and rewrites the call is `calls.services.twilio_callback_record`. The status
mapping is `calls.importers.twilio`'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from .importers.twilio import (
    NO_DIAL_LEGS,
    twilio_dial_outcomes_combined,
    twilio_status_to_call_status,
)
from .models import CallStatus
from .parsing import parse_seconds

# The parameters a fact keeps (and the merge reads); the rest of a callback is not ours to store.
FACT_PARAMS = (
    "CallSid",
    "CallStatus",
    "CallDuration",
    "Timestamp",
    "SequenceNumber",
    "DialCallSid",
    "DialCallStatus",
    "DialCallDuration",
    "From",
    "To",
    "FromState",
    "CallerState",
    # Live routing's own (see the module docstring).
    "RoutedLeg",
    "RoutedBuyer",
    "RoutingPlan",
    "RoutingEnd",
)
MAX_SID_LENGTH = 64
MAX_STATUS_LENGTH = 32


class TwilioParameterError(ValueError):
    """A callback parameter that cannot be read; `parameter` names it as Twilio does."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True, slots=True)
class TwilioCallbackFact:
    """What one callback says about an inbound call: its parameters, parsed, and when it came."""

    call_sid: str
    params: Mapping[str, str]  # the FACT_PARAMS it carried, as Twilio sent them
    received_at: dt.datetime
    is_dial: bool  # a <Dial> action callback: the outcome of one buyer leg
    twilio_status: str  # DialCallStatus of a dial, else CallStatus; lower case
    duration_seconds: int | None  # DialCallDuration of a dial, else CallDuration
    timestamp: dt.datetime | None
    sequence_number: int | None

    @property
    def key(self) -> str:
        """Which callback this is: every replay of a callback has the same key."""
        leg = self.params.get("RoutedLeg")
        if self.params.get("RoutingEnd"):
            return "route:end"
        if self.is_dial:
            dial = self.params.get("DialCallSid") or self.twilio_status
            return f"dial:{leg}:{dial}" if leg else f"dial:{dial}"
        if leg:
            return f"route:{leg}"
        if self.sequence_number is not None:
            return f"status:{self.sequence_number}"
        return f"status:{self.twilio_status}"

    @property
    def start_bound(self) -> dt.datetime:
        """An instant at or after the call's start: when this callback's event happened, less
        the time it says had passed by then.

        The event's time is its Timestamp; a callback without one (every <Dial> action) is
        known only to have happened before we received it, so its receipt stands in: never
        earlier than the event, it can only move the start when nothing better is known.
        """
        happened = self.timestamp or self.received_at
        return happened - dt.timedelta(seconds=self.duration_seconds or 0)


def twilio_callback_fact(
    params: Mapping[str, str], received_at: dt.datetime
) -> TwilioCallbackFact | None:
    """The fact one callback states, or None when it is not about an inbound call.

    Child legs (Direction outbound-dial) are the buyer legs of the inbound call that made them:
    what they say reaches us as that call's <Dial> action callback. Raises
    TwilioParameterError for a parameter that cannot be read.
    """
    direction = params.get("Direction") or "inbound"
    if not direction.startswith("inbound"):
        return None
    kept = {name: str(params[name]) for name in FACT_PARAMS if params.get(name) not in (None, "")}
    call_sid = kept.get("CallSid", "")
    if not call_sid:
        raise TwilioParameterError("CallSid", "This parameter is required.")
    for name in ("CallSid", "DialCallSid"):
        if len(kept.get(name, "")) > MAX_SID_LENGTH:
            raise TwilioParameterError(name, f"At most {MAX_SID_LENGTH} characters.")
    for name in ("RoutedLeg", "RoutedBuyer", "RoutingPlan"):
        if name in kept and not (kept[name].isdigit() and len(kept[name]) <= 12):
            raise TwilioParameterError(name, f"'{kept[name][:20]}' is not an id.")
    is_dial = "DialCallStatus" in kept
    status_name, duration_name = (
        ("DialCallStatus", "DialCallDuration") if is_dial else ("CallStatus", "CallDuration")
    )
    twilio_status = kept.get(status_name, "").strip().lower()
    if len(twilio_status) > MAX_STATUS_LENGTH:
        raise TwilioParameterError(status_name, f"At most {MAX_STATUS_LENGTH} characters.")
    return TwilioCallbackFact(
        call_sid=call_sid,
        params=kept,
        received_at=received_at,
        is_dial=is_dial,
        twilio_status=twilio_status,
        duration_seconds=_seconds(kept, duration_name),
        timestamp=_timestamp(kept.get("Timestamp", "")),
        sequence_number=_sequence_number(kept),
    )


def _seconds(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return parse_seconds(params[name])
    except ValueError as exc:
        raise TwilioParameterError(name, str(exc)) from exc


def _sequence_number(params: Mapping[str, str]) -> int | None:
    raw = params.get("SequenceNumber", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise TwilioParameterError("SequenceNumber", f"'{raw}' is not a sequence number.")
    return int(raw)


def _timestamp(raw: str) -> dt.datetime | None:
    """Twilio's RFC 2822 Timestamp; one that cannot be read is as good as none."""
    try:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)  # "-0000": UTC, origin unknown
    return parsed


def twilio_callback_facts_distinct(
    facts: Iterable[TwilioCallbackFact],
) -> list[TwilioCallbackFact]:
    """One fact per key, whatever the replays and their order.

    A replay is the same request again: its earliest receipt is kept (so a late replay cannot
    move a start that only receipts tell). Should two different requests ever share a key,
    the parameters kept are still chosen without regard to their order.
    """
    by_key: dict[str, TwilioCallbackFact] = {}
    for fact in facts:
        kept = by_key.get(fact.key)
        if kept is None:
            by_key[fact.key] = fact
            continue
        chosen = min(kept, fact, key=lambda f: sorted(f.params.items()))
        by_key[fact.key] = dataclasses.replace(
            chosen, received_at=min(kept.received_at, fact.received_at)
        )
    return sorted(by_key.values(), key=_in_sequence)


def _in_sequence(fact: TwilioCallbackFact) -> tuple[bool, int, str]:
    """Status callbacks in Twilio's SequenceNumber order, then the others by key."""
    sequence = fact.sequence_number
    return (sequence is None, sequence or 0, fact.key)


def twilio_call_merge(facts: Iterable[TwilioCallbackFact]) -> dict[str, Any] | None:
    """The call item (for `calls.ingest.validate_call_item`) that all the facts about one
    CallSid say together; None while none of them says how the call ended.

    - Outcome and talk time: the <Dial> action facts decide when there are any, since talk
      time is the time with the buyer and a dial that nobody answered is missed even when the
      parent call completed in an IVR (KPIS.md). Their DialCallStatus / DialCallDuration
      combine by `twilio_dial_outcomes_combined` (several buyers rung in turn: answered if one
      answered). Without a finished dial, the parent's final status callback (the last one by
      SequenceNumber) decides by its CallStatus and CallDuration. queued, initiated, ringing
      and in-progress callbacks never make a call by themselves.
    - started_at: the earliest instant the facts imply (`TwilioCallbackFact.start_bound`), so
      it never moves later as facts arrive, and a callback without Timestamp only moves it
      when it is the best there is.
    - tracking number (To), caller (From) and region (FromState, else CallerState): from the
      first callback, in sequence, that carries them.

    Commutative and idempotent: any order of the facts, with any of them repeated, gives the
    same item. Reused by live routing, whose <Dial> action callbacks walk several buyers.
    """
    distinct = twilio_callback_facts_distinct(facts)
    if not distinct:
        return None
    outcome = _dial_outcome(distinct) or _parent_outcome(distinct)
    routing_ended = any(fact.key == "route:end" for fact in distinct)
    if routing_ended and (outcome is None or outcome[0] != CallStatus.ANSWERED):
        # Live routing found nobody to take the call: whatever the parent call did (a <Say>
        # completes it), no buyer talked.
        outcome = (CallStatus.NO_BUYER, 0)
    if outcome is None:
        return None
    status, duration = outcome
    item = {
        "external_id": distinct[0].call_sid,
        "started_at": min(fact.start_bound for fact in distinct).astimezone(dt.UTC).isoformat(),
        "status": status,
        "duration_seconds": duration if status == CallStatus.ANSWERED else 0,
        "tracking_number": _first(distinct, "To"),
        "caller_number": _first(distinct, "From"),
        "caller_region": _first(distinct, "FromState") or _first(distinct, "CallerState"),
        "buyer_id": "" if status == CallStatus.NO_BUYER else _routed_buyer(distinct),
    }
    return {name: value for name, value in item.items() if value != ""}


def _routed_buyer(facts: list[TwilioCallbackFact]) -> int | str:
    """The buyer of a live-routed call: the one whose leg was answered, else the last leg's
    buyer; "" when live routing dialed nobody."""
    legs = sorted(
        (
            fact
            for fact in facts
            if fact.is_dial and fact.params.get("RoutedLeg") and fact.params.get("RoutedBuyer")
        ),
        key=lambda fact: (int(fact.params["RoutedLeg"]), fact.key),
    )
    for fact in legs:
        seconds = fact.duration_seconds or 0
        if twilio_status_to_call_status(fact.twilio_status, seconds) == CallStatus.ANSWERED:
            return int(fact.params["RoutedBuyer"])
    return int(legs[-1].params["RoutedBuyer"]) if legs else ""


def twilio_call_routing_plan(facts: Iterable[TwilioCallbackFact]) -> int | None:
    """The routing plan (version) live routing used for the call, None when it routed none."""
    plans = [int(fact.params["RoutingPlan"]) for fact in facts if fact.params.get("RoutingPlan")]
    return min(plans) if plans else None


def _dial_outcome(facts: list[TwilioCallbackFact]) -> tuple[str, int] | None:
    legs = []
    for fact in facts:
        if fact.is_dial:
            seconds = fact.duration_seconds or 0
            status = twilio_status_to_call_status(fact.twilio_status, seconds)
            if status is not None:
                legs.append((status, seconds))
    return reduce(twilio_dial_outcomes_combined, legs, NO_DIAL_LEGS) if legs else None


def _parent_outcome(facts: list[TwilioCallbackFact]) -> tuple[str, int] | None:
    """The last final status callback (facts are in sequence), by CallStatus and CallDuration."""
    outcome = None
    for fact in facts:
        seconds = fact.duration_seconds or 0
        status = None if fact.is_dial else twilio_status_to_call_status(fact.twilio_status, seconds)
        if status is not None:
            outcome = (status, seconds)
    return outcome


def _first(facts: list[TwilioCallbackFact], name: str) -> str:
    return next((fact.params[name] for fact in facts if fact.params.get(name)), "")
