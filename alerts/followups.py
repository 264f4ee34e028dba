"""Follow-ups that recover lost callers: created by a scan of the calls written since the last
one (beat, every minute), worked through the API and the page, published to the tenant's
CRM/SMS endpoint as outbound webhook events ("followup.created", "followup.updated").

What the KPIs count of them is written on the calls (calls.recovery): the KPI engine reads
calls, never this app.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from calls.models import Call, CallStatus
from calls.recovery import call_recovery_record, calls_followup_mark
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer

from . import followup_rules
from .models import (
    FOLLOWUP_CREATED,
    FOLLOWUP_UPDATED,
    FollowUp,
    FollowUpRule,
    FollowUpScan,
    FollowUpStatus,
)
from .outbound import EventToPublish, outbound_event_publish, outbound_events_publish

# Writes are read again this far back: a transaction that committed after the last scan may
# carry an earlier updated_at. Re-reading is harmless (one follow-up per call and reason).
WRITE_OVERLAP = dt.timedelta(minutes=10)
# Calls that started longer ago get no follow-up (an import of last month's calls, say): a
# call back days later recovers nobody.
MAX_CALL_AGE = dt.timedelta(hours=72)
# The longest call whose "not converted" deadline the scan finds by its start time alone;
# a longer one is still found when it is written after its deadline.
MAX_CALL_LENGTH = dt.timedelta(hours=4)
CALL_FIELDS = (
    "id",
    "organization_id",
    "external_id",
    "campaign_id",
    "publisher_id",
    "buyer_id",
    "caller_number",
    "started_at",
    "duration_seconds",
    "status",
    "converted",
)


class FollowUpTransitionError(ValueError):
    """A status change the follow-up cannot make (followup_rules.TRANSITIONS)."""


def _candidate_calls(
    organization: Organization, rules: dict[int, FollowUpRule], since: dt.datetime, now: dt.datetime
) -> list[Call]:
    """Calls of the rules' campaigns that may need a follow-up: those written since `since`,
    and answered unconverted ones whose deadline may have passed since then."""
    recent = Call.objects.for_organization(organization).filter(
        campaign_id__in=list(rules), started_at__gte=now - MAX_CALL_AGE, started_at__lte=now
    )
    written = recent.filter(updated_at__gte=since)
    delays = [rule.not_converted_minutes for rule in rules.values() if rule.on_not_converted]
    calls = {call.pk: call for call in written.only(*CALL_FIELDS)}
    if delays:
        # A deadline is at least the shortest delay after the start: later starts wait.
        ripening = recent.filter(
            status=CallStatus.ANSWERED,
            converted=False,
            followup_at__isnull=True,
            started_at__gte=since - dt.timedelta(minutes=max(delays)) - MAX_CALL_LENGTH,
            started_at__lte=now - dt.timedelta(minutes=min(delays)),
        )
        calls.update({call.pk: call for call in ripening.only(*CALL_FIELDS)})
    return list(calls.values())


def _hours_of(call: Call, rule: FollowUpRule, buyers: dict[int, Any]) -> tuple[dict, str]:
    buyer = buyers.get(call.buyer_id) if call.buyer_id else None
    if buyer is not None:
        return buyer.business_hours, buyer.timezone
    return rule.fallback_hours, rule.organization.timezone


def followups_scan(*, organization: Organization, now: dt.datetime | None = None) -> list[FollowUp]:
    """Create the follow-ups the tenant's rules call for among the calls written since the
    last scan (and the answered calls whose conversion deadline passed); returns the new
    ones. Idempotent: a call gets one follow-up per reason, however often it is seen.

    The first scan of a tenant reads the writes of the last WRITE_OVERLAP only: rules apply
    to calls from their creation on, not to history.
    """
    now = now or timezone.now()
    created: list[FollowUp] = []
    with transaction.atomic():
        # The scan row, locked: two scans of one tenant never run at once. A scan that finds
        # it locked returns at once rather than wait: beat starts one a minute, and scans
        # queued behind a long one (a burst of calls) would hold every worker of the pool.
        scan, _ = FollowUpScan.objects.get_or_create(
            organization=organization, defaults={"scanned_until": now}
        )
        scan = FollowUpScan.objects.select_for_update(skip_locked=True).filter(pk=scan.pk).first()
        if scan is None:
            return []
        since = min(scan.scanned_until, now) - WRITE_OVERLAP
        rules = {
            rule.campaign_id: rule
            for rule in FollowUpRule.objects.for_organization(organization)
            .filter(Q(on_missed=True) | Q(on_not_converted=True))
            .select_related("organization", "campaign")
        }
        if rules:
            created = _followups_create(organization, rules, since, now)
        scan.scanned_until = now
        scan.save(update_fields=["scanned_until"])
    return created


def _followups_create(
    organization: Organization, rules: dict[int, FollowUpRule], since: dt.datetime, now: dt.datetime
) -> list[FollowUp]:
    calls = _candidate_calls(organization, rules, since, now)
    existing = set(
        FollowUp.objects.for_organization(organization)
        .filter(call_id__in=[call.pk for call in calls])
        .values_list("call_id", "reason")
    )
    buyer_ids = {call.buyer_id for call in calls if call.buyer_id}
    buyers = {
        buyer.pk: buyer
        for buyer in Buyer.objects.for_organization(organization).filter(pk__in=buyer_ids)
    }
    publisher_ids = {call.publisher_id for call in calls if call.publisher_id}
    publishers = {
        publisher.pk: publisher
        for publisher in Publisher.objects.for_organization(organization).filter(
            pk__in=publisher_ids
        )
    }
    new: list[FollowUp] = []
    for call in sorted(calls, key=lambda c: (c.started_at, c.pk)):
        rule = rules[call.campaign_id]
        facts = followup_rules.CallFacts(
            status=call.status,
            converted=call.converted,
            started_at=call.started_at,
            duration_seconds=call.duration_seconds,
        )
        decision = followup_rules.followup_reason(rule.settings, facts, now)
        if decision is None or (call.pk, decision[0]) in existing:
            continue
        reason, earliest = decision
        hours, zone = _hours_of(call, rule, buyers)
        new.append(
            FollowUp(
                organization=organization,
                call=call,
                campaign=rule.campaign,
                publisher=publishers.get(call.publisher_id),
                buyer=buyers.get(call.buyer_id),
                caller_number=call.caller_number,
                reason=reason,
                due_at=followup_rules.followup_due_at(hours, zone, earliest),
            )
        )
    # The scan row's lock keeps other scans out, so these are new (a conflict would roll the
    # scan back, and the next one retries).
    FollowUp.objects.bulk_create(new)
    if new:
        calls_followup_mark(organization=organization, call_ids=[f.call_id for f in new], at=now)
    # One batch: publishing them one by one was 94% of a scan of thousands of calls.
    outbound_events_publish(
        organization=organization,
        events=[
            EventToPublish(
                FOLLOWUP_CREATED, followup_event_data(followup), f"followup-{followup.pk}-created"
            )
            for followup in new
        ],
    )
    return new


def followup_event_data(followup: FollowUp) -> dict[str, Any]:
    """The payload of a follow-up event: what a CRM or SMS tool needs to call the person back."""
    call = followup.call
    reason = followup.get_reason_display().lower()
    return {
        "text": (
            f"Call back {followup.caller_number or 'an unknown number'} ({reason}, "
            f"{followup.campaign.name}), due {followup.due_at.isoformat()}: {followup.status}."
        ),
        "follow_up": {
            "id": followup.pk,
            "status": followup.status,
            "reason": followup.reason,
            "caller_number": followup.caller_number,
            "due_at": followup.due_at.isoformat(),
            "campaign": {"id": followup.campaign_id, "name": followup.campaign.name},
            "publisher": _named(followup.publisher),
            "buyer": _named(followup.buyer),
            "call": {
                "id": call.pk,
                "external_id": call.external_id,
                "started_at": call.started_at.isoformat(),
                "status": call.status,
            },
            "contacted_at": _iso(followup.contacted_at),
            "contacted_by": followup.contacted_by,
            "closed_at": _iso(followup.closed_at),
            "closed_by": followup.closed_by,
            "recovered_revenue": str(followup.recovered_revenue),
        },
    }


def _named(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _publish(followup: FollowUp, event_type: str, *, key: str) -> None:
    outbound_event_publish(
        organization=followup.organization,
        event_type=event_type,
        data=followup_event_data(followup),
        idempotency_key=key,
    )


def followup_transition(
    *,
    followup: FollowUp,
    status: str,
    actor: str,
    revenue: Decimal | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> FollowUp:
    """Mark a follow-up contacted, recovered (with the revenue it brought) or lost, by
    `actor` (a member's email, "API key <name>"); publishes "followup.updated".

    A recovery attributes its revenue to the call (calls.recovery), so the KPIs of the
    call's campaign and publisher count it. Raises FollowUpTransitionError for a change the
    follow-up cannot make.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            FollowUp.objects.for_organization(followup.organization_id)
            .select_for_update()
            .get(pk=followup.pk)
        )
        error = followup_rules.transition_error(locked.status, status)
        if error:
            raise FollowUpTransitionError(error)
        if status != FollowUpStatus.RECOVERED and revenue is not None:
            raise FollowUpTransitionError("Only a recovered follow-up has revenue.")
        locked.status = status
        if status == FollowUpStatus.CONTACTED:
            locked.contacted_at, locked.contacted_by = now, actor
        else:
            locked.closed_at, locked.closed_by = now, actor
        if status == FollowUpStatus.RECOVERED:
            locked.recovered_revenue = revenue or Decimal("0")
        if note:
            locked.note = note
        locked.save()
        if status == FollowUpStatus.RECOVERED:
            _call_recovery_sync(locked)
        locked = FollowUp.objects.select_related(
            "organization", "campaign", "publisher", "buyer", "call"
        ).get(pk=locked.pk)
        _publish(locked, FOLLOWUP_UPDATED, key=f"followup-{locked.pk}-{status}")
    return locked


def _call_recovery_sync(followup: FollowUp) -> None:
    """The call's recovery from its recovered follow-ups (a call may have two: missed, then
    answered and not converted): the first recovery's time, every recovery's revenue."""
    recovered = FollowUp.objects.for_organization(followup.organization_id).filter(
        call_id=followup.call_id, status=FollowUpStatus.RECOVERED
    )
    totals = recovered.aggregate(revenue=Sum("recovered_revenue"), at=Min("closed_at"))
    call_recovery_record(
        call=followup.call, at=totals["at"], revenue=totals["revenue"] or Decimal("0")
    )
