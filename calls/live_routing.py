"""Live routing: a call to a tracking number, decided and sent to a buyer as it rings.

Both `POST /api/v1/route` and the Twilio voice webhook come here. A decision reads the
campaign's current plan (`routing.selectors`), the targets' live counts
(`routing.live_state`) and the caller's first buyer when the call repeats one within the
campaign's duplicate window, and decides with `routing.rules.route_decide`. Sending the call
takes a slot at the first destination whose `acquire` accepts it (a target that filled up
between the snapshot and the acquire is skipped, with the reason a fresh look gives).

The Twilio flow keeps what it decides as facts of the call (`calls.twilio_merge`): a leg fact
per buyer dialed, and a `RoutingEnd` fact when nothing is left, so the call record (buyer,
status, plan version) is the same merge the status callbacks write, and replays dedupe.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ppc_dashboard.db import prepared_cursor
from ppc_dashboard.tenancy.models import Organization
from routing.live_state import live_state
from routing.models import RoutingPlan, TrackingNumber
from routing.phone_numbers import PhoneNumberError, caller_number_normalized, phone_to_e164
from routing.rules import Caller, Decision, PlanRules, Skip, SkipReason, TargetRule, route_decide
from routing.selectors import (
    CURRENT_PLAN_STAMP_SQL,
    current_plan_stamp_params,
    plan_rules_current,
    plan_rules_for,
    plan_rules_of_stamp,
)

from .importers.twilio import FINAL_TWILIO_STATUSES
from .models import Call, CallStatus, Campaign, TwilioCallback
from .repeat_calls import DEFAULT_WINDOW_DAYS
from .services import FieldErrors, twilio_callback_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RouteResult:
    """A decision for one call; `sent_to` is the destination that took the call's slot."""

    plan: PlanRules | None  # None: the campaign has no routing plan
    decision: Decision
    sent_to: TargetRule | None = None


NO_DECISION = Decision(destinations=(), skipped=())


def caller_geo(organization: Organization, country: str, region: str) -> tuple[str, str]:
    """(country, region) as the rules read them: "US", "US-CA". A bare state ("CA", as Twilio's
    FromState) is a region of the caller's country, else of the tenant's."""
    country = country.strip().upper()
    region = region.strip().upper()
    if region and "-" not in region:
        region = f"{country or organization.country}-{region}"
    if region and not country:
        country = region.split("-", 1)[0]
    return country, region


# Asked on every ringing call from a repeat-aware plan: written out, as compiling it in the
# ORM cost more CPU than running it (as the plan stamp in routing.selectors). The index
# call_org_caller_started serves it. Scoped to the tenant like the rest (its organization).
_REPEAT_FIRST_BUYER = (
    f"SELECT buyer_id FROM {Call._meta.db_table} WHERE organization_id = %s "
    "AND caller_number = %s AND started_at >= %s AND started_at < %s AND campaign_id = %s "
    "AND status = %s AND buyer_id IS NOT NULL ORDER BY started_at, id LIMIT 1"
)


def _repeat_params(campaign: Campaign, caller_number: str, at: dt.datetime) -> list:
    window = dt.timedelta(days=campaign.duplicate_window_days or DEFAULT_WINDOW_DAYS)
    return [
        campaign.organization_id,
        caller_number,
        at - window,
        at,
        campaign.pk,
        CallStatus.ANSWERED.value,
    ]


def repeat_first_buyer_id(campaign: Campaign, caller_number: str, at: dt.datetime) -> int | None:
    """The buyer that took the caller's first answered call to the campaign within its
    duplicate window before `at`, when there is one."""
    if not caller_number:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(_REPEAT_FIRST_BUYER, _repeat_params(campaign, caller_number, at))
        row = cursor.fetchone()
    return None if row is None else row[0]


# The current plan's stamp and the repeat caller's first buyer in one round trip: both are
# asked on every ringing call. No stamp row: no plan with targets, nothing to route to.
_PLAN_STAMP_AND_FIRST_BUYER = (
    f"SELECT stamp.*, ({_REPEAT_FIRST_BUYER}) FROM ({CURRENT_PLAN_STAMP_SQL}) stamp"
)


def _plan_and_first_buyer(
    campaign: Campaign, caller_number: str, at: dt.datetime
) -> tuple[PlanRules | None, int | None]:
    """The campaign's current plan and, when the caller repeats a call, its first buyer."""
    params = [
        *_repeat_params(campaign, caller_number, at),
        *current_plan_stamp_params(campaign),
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_PLAN_STAMP_AND_FIRST_BUYER, params)
        row = cursor.fetchone()
    if row is None:
        return plan_rules_of_stamp(campaign, None), None
    return plan_rules_of_stamp(campaign, row[:-1]), row[-1]


def _seed(call_sid: str) -> int | None:
    # One call always draws the same order: a replayed webhook dials the buyer it dialed.
    return zlib.crc32(call_sid.encode()) if call_sid else None


def route_call(
    *,
    organization: Organization,
    campaign: Campaign,
    caller: Caller,
    at: dt.datetime,
    call_sid: str = "",
    plan: PlanRules | None = None,
    exclude: Collection[int] = (),
    repeat: bool = True,
) -> RouteResult:
    """Decide where the call goes; with a `call_sid`, also send it (take a slot at the first
    destination that accepts). `plan` defaults to the campaign's current one; `exclude`
    leaves out targets already tried; `repeat` sends a repeat caller to their first buyer."""
    if plan is None and repeat and caller.number:
        plan, first_buyer = _plan_and_first_buyer(campaign, caller.number, at)  # one read
    else:
        plan = plan or plan_rules_current(campaign)
        sends_back = repeat and plan is not None and plan.repeat_to_first_buyer
        first_buyer = repeat_first_buyer_id(campaign, caller.number, at) if sends_back else None
    if plan is None:
        return RouteResult(None, NO_DECISION)
    if not plan.repeat_to_first_buyer:
        first_buyer = None  # read with the plan, which keeps repeats in its order
    if exclude:
        kept = tuple(t for t in plan.targets if t.target_id not in exclude)
        plan = dataclasses.replace(plan, targets=kept)
    state = live_state()
    live = state.snapshot(organization.pk, plan.targets, at)
    decision = route_decide(
        plan, live, caller, at, seed=_seed(call_sid), first_buyer_target_id=first_buyer
    )
    if not call_sid:
        return RouteResult(plan, decision)
    refused: list[Skip] = []
    for index, target in enumerate(decision.destinations):
        if state.acquire(organization.pk, target, call_sid, at):
            sent = dataclasses.replace(
                decision,
                destinations=decision.destinations[index:],
                skipped=(*decision.skipped, *refused),
            )
            return RouteResult(plan, sent, target)
        refused.append(_refusal(organization, plan, target, caller, at))
    return RouteResult(
        plan, dataclasses.replace(decision, destinations=(), skipped=(*decision.skipped, *refused))
    )


def _refusal(
    organization: Organization,
    plan: PlanRules,
    target: TargetRule,
    caller: Caller,
    at: dt.datetime,
) -> Skip:
    """Why a destination refused its slot: the decision over its counts as they are now."""
    live = live_state().snapshot(organization.pk, [target], at)
    alone = dataclasses.replace(plan, targets=(target,))
    skipped = route_decide(alone, live, caller, at).skipped
    if skipped:
        return skipped[0]
    return Skip(target.target_id, SkipReason.CONCURRENCY, "full when the call was sent")


# --- Twilio ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoiceStep:
    """What the Twilio number does next: dial `dial` (leg number `leg`, then come back to the
    action URL with `tried`), or, without a destination, say `message` (if any) and hang up."""

    dial: TargetRule | None = None
    leg: int = 0
    plan_id: int | None = None
    tried: tuple[int, ...] = ()
    message: str = ""


NO_ROUTE_MESSAGE = "Sorry, no one can take your call right now. Please try again later."
UNKNOWN_NUMBER_MESSAGE = "Sorry, this number is not in service."
# DialCallStatus of a leg that a buyer answered: the call is over when its <Dial> returns.
DIAL_ANSWERED = frozenset({"completed", "answered"})


def _twilio_caller(organization: Organization, params: Mapping[str, str]) -> Caller:
    country, region = caller_geo(
        organization,
        params.get("FromCountry") or params.get("CallerCountry") or "",
        params.get("FromState") or params.get("CallerState") or "",
    )
    try:
        number = caller_number_normalized(params.get("From"), organization.country)
    except PhoneNumberError:
        number = ""
    return Caller(number=number, country=country, region=region)


def _record(
    organization: Organization,
    params: Mapping[str, str],
    received_at: dt.datetime,
    *,
    dial_outcome: bool = False,
    **routing: str,
) -> None:
    """Keep a fact of the call: Twilio's parameters with live routing's own (`routing`).

    Only a leg's <Dial> action fact is a dial outcome; a decision made in the same request
    (the next leg, the end) drops the Dial* parameters, which belong to that leg."""
    values = {  # one value per name: a QueryDict unpacked with ** gives lists
        name: params[name] for name in params if dial_outcome or not name.startswith("Dial")
    }
    errors: FieldErrors = twilio_callback_record(
        organization=organization, params={**values, **routing}, received_at=received_at
    )
    if errors:
        logger.warning("live routing: call %s not recorded: %s", params.get("CallSid"), errors)


def _dial_step(
    organization: Organization,
    params: Mapping[str, str],
    received_at: dt.datetime,
    result: RouteResult,
    leg: int,
    tried: tuple[int, ...],
) -> VoiceStep:
    plan_id = result.plan.plan_id if result.plan else None
    # Refused destinations are not tried again on failover.
    tried = (*tried, *(skip.target_id for skip in result.decision.skipped))
    if result.sent_to is None:
        _record(organization, params, received_at, RoutingEnd="1", **_plan_fact(plan_id))
        return VoiceStep(plan_id=plan_id, tried=tried, message=NO_ROUTE_MESSAGE)
    buyer_id = result.sent_to.target_id
    _record(
        organization,
        params,
        received_at,
        RoutedLeg=str(leg),
        RoutedBuyer=str(buyer_id),
        **_plan_fact(plan_id),
    )
    return VoiceStep(
        dial=result.sent_to,
        leg=leg,
        plan_id=plan_id,
        tried=tuple(dict.fromkeys((*tried, buyer_id))),
    )


def _plan_fact(plan_id: int | None) -> dict[str, str]:
    return {"RoutingPlan": str(plan_id)} if plan_id is not None else {}


def voice_call_start(
    *, organization: Organization, params: Mapping[str, str], received_at: dt.datetime
) -> VoiceStep:
    """A call rings the tracking number (Twilio's voice webhook): its first destination."""
    call_sid = params.get("CallSid", "")
    tracking = _tracking_number(organization, params.get("To", ""))
    if tracking is None or not call_sid:
        _record(organization, params, received_at, RoutingEnd="1")
        return VoiceStep(message=UNKNOWN_NUMBER_MESSAGE)
    result = route_call(
        organization=organization,
        campaign=tracking.campaign,
        caller=_twilio_caller(organization, params),
        at=received_at,
        call_sid=call_sid,
    )
    return _dial_step(organization, params, received_at, result, leg=1, tried=())


def voice_dial_ended(
    *,
    organization: Organization,
    params: Mapping[str, str],
    received_at: dt.datetime,
    leg: int,
    buyer_id: int,
    plan_id: int,
    tried: tuple[int, ...],
) -> VoiceStep:
    """A buyer's <Dial> ended (its action callback): free the slot, record the leg, and
    dial the next destination unless the buyer answered."""
    call_sid = params.get("CallSid", "")
    live_state().release(organization.pk, buyer_id, call_sid)
    _record(
        organization,
        params,
        received_at,
        dial_outcome=True,
        RoutedLeg=str(leg),
        RoutedBuyer=str(buyer_id),
        RoutingPlan=str(plan_id),
    )
    if params.get("DialCallStatus", "").strip().lower() in DIAL_ANSWERED:
        return VoiceStep(plan_id=plan_id)
    if params.get("CallStatus", "").strip().lower() in FINAL_TWILIO_STATUSES:
        # The caller hung up while the buyer rang: nobody is left to send anywhere.
        return VoiceStep(plan_id=plan_id)
    plan = RoutingPlan.objects.for_organization(organization).filter(pk=plan_id).first()
    if plan is None:
        _record(organization, params, received_at, RoutingEnd="1")
        return VoiceStep(message=NO_ROUTE_MESSAGE)
    result = route_call(
        organization=organization,
        campaign=plan.campaign,
        caller=_twilio_caller(organization, params),
        at=received_at,
        call_sid=call_sid,
        plan=plan_rules_for(plan),
        exclude=tried,
        repeat=False,
    )
    return _dial_step(organization, params, received_at, result, leg=leg + 1, tried=tried)


def voice_leg_answered(
    *, organization: Organization, call_sid: str, buyer_id: int, at: dt.datetime
) -> None:
    """The buyer picked up (the <Number>'s answered event): the call now holds the buyer's
    slot for at most the longest call from now, instead of from when it started ringing."""
    live_state().refresh(organization.pk, buyer_id, call_sid, at)


def voice_call_ended(*, organization: Organization, params: Mapping[str, str]) -> None:
    """The inbound call is over (its final status callback): free every slot its legs still
    hold, so that a <Dial> action that never came does not hold a buyer until expiry."""
    call_sid = params.get("CallSid", "")
    status = params.get("CallStatus", "").strip().lower()
    if not call_sid or params.get("DialCallStatus") or status not in FINAL_TWILIO_STATUSES:
        return
    legs = TwilioCallback.objects.for_organization(organization).filter(
        call_sid=call_sid, key__startswith="route:"
    )
    buyers = {row.params.get("RoutedBuyer") for row in legs}
    state = live_state()
    for buyer_id in sorted(buyer for buyer in buyers if buyer and buyer.isdigit()):
        state.release(organization.pk, int(buyer_id), call_sid)


def _tracking_number(organization: Organization, number: str) -> TrackingNumber | None:
    try:
        e164 = phone_to_e164(number, organization.country)
    except PhoneNumberError:
        return None
    return (
        TrackingNumber.objects.for_organization(organization)
        .select_related("campaign")
        .filter(number=e164)
        .first()
    )
