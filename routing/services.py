"""Writes of the routing app beyond one object's save: tracking numbers pasted in bulk, new
versions of a campaign's routing plan (with the warnings that explain its coverage holes)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ppc_dashboard.tenancy.models import Organization

from .business_hours import WEEKDAYS, is_open
from .models import (
    Buyer,
    RoutingPlan,
    RoutingPlanTarget,
    TrackingNumber,
    phone_number_in_tenant,
)
from .rules import TargetRule
from .selectors import target_rule

# A paste is one request's work: a tenant with more numbers sends them to the API in batches.
TRACKING_NUMBER_PASTE_MAX_LINES = 1000


@dataclass(frozen=True)
class PastedLine:
    line: int  # 1-based, as the text box shows it
    text: str
    number: str = ""  # E.164, when the line is a number
    reason: str = ""  # why the line was refused, or whose number it already is


@dataclass
class TrackingNumberPasteReport:
    """What a paste did, line by line. Partial by design: the valid new numbers are added,
    the lines already there and the invalid ones are listed, and pasting the same text again
    adds nothing twice."""

    added: list[PastedLine] = field(default_factory=list)
    existing: list[PastedLine] = field(default_factory=list)
    invalid: list[PastedLine] = field(default_factory=list)


def tracking_numbers_paste(
    *, organization: Organization, text: str, campaign, publisher=None
) -> TrackingNumberPasteReport:
    """Add one tracking number per non-blank line of `text`, in any usual formatting, read in
    the tenant's country (the rule of the API, `phone_number_in_tenant`), each assigned to
    `campaign` and `publisher` (both the tenant's own). A number the tenant already has is
    left as it is (its campaign too) and reported, as is a line repeating an earlier one.
    """
    if campaign.organization_id != organization.pk or (
        publisher is not None and publisher.organization_id != organization.pk
    ):
        raise ValueError("the campaign and publisher must be the organization's own")
    report = TrackingNumberPasteReport()
    seen: dict[str, int] = {}
    candidates: list[PastedLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        value = raw.strip()
        if not value:
            continue
        try:
            e164 = phone_number_in_tenant(value, organization)
        except ValidationError as exc:
            report.invalid.append(PastedLine(number, value, reason=" ".join(exc.messages)))
            continue
        if e164 in seen:
            reason = f"repeats line {seen[e164]}"
            report.existing.append(PastedLine(number, value, e164, reason))
            continue
        seen[e164] = number
        candidates.append(PastedLine(number, value, e164))
    with transaction.atomic():
        stored = dict(
            TrackingNumber.objects.for_organization(organization)
            .filter(number__in=seen)
            .values_list("number", "campaign__name")
        )
        new = []
        for line in candidates:
            if line.number in stored:
                reason = f"already in campaign {stored[line.number]}"
                report.existing.append(PastedLine(line.line, line.text, line.number, reason))
            else:
                report.added.append(line)
                new.append(
                    TrackingNumber(
                        organization=organization,
                        number=line.number,
                        campaign=campaign,
                        publisher=publisher,
                    )
                )
        TrackingNumber.objects.bulk_create(new)
    report.existing.sort(key=lambda line: line.line)
    return report


# --- Routing plans ------------------------------------------------------------------------

PLAN_TARGETS_MAX = 100
TIER_MIN, TIER_MAX = 1, 20
WEIGHT_MIN, WEIGHT_MAX = 1, 1000
NOTE_MAX_CHARS = 200


@dataclass(frozen=True)
class PlanTargetInput:
    """A buyer's place in a plan as the editor or the API sends it."""

    buyer_id: int
    tier: int = 1
    weight: int = 1


@dataclass(frozen=True)
class PlanSaveResult:
    plan: RoutingPlan
    # Sentences for a person: coverage holes, no backup, caps that run out. Saved anyway.
    warnings: list[str]


def _target_errors(
    organization: Organization, targets: Sequence[PlanTargetInput]
) -> tuple[dict[str, list[str]], dict[int, Buyer]]:
    """Errors keyed "targets" or "targets[i].field" (i from 0, as sent), and the buyers."""
    if not targets:
        return {"targets": ["A plan needs at least one buyer."]}, {}
    if len(targets) > PLAN_TARGETS_MAX:
        return {"targets": [f"At most {PLAN_TARGETS_MAX} buyers in a plan."]}, {}
    ids = {t.buyer_id for t in targets if isinstance(t.buyer_id, int)}
    buyers = Buyer.objects.for_organization(organization).in_bulk(ids)
    errors: dict[str, list[str]] = {}
    first_place: dict[int, int] = {}
    for index, target in enumerate(targets):
        where = f"targets[{index}]"
        buyer = buyers.get(target.buyer_id)
        if buyer is None:
            # Another tenant's buyer reads exactly like a missing one.
            errors[f"{where}.buyer"] = [f"No buyer with id {target.buyer_id}."]
        elif target.buyer_id in first_place:
            errors[f"{where}.buyer"] = [
                f"{buyer.name} is already in the plan "
                f"(targets[{first_place[target.buyer_id]}]); a buyer has one place."
            ]
        elif not buyer.active:
            errors[f"{where}.buyer"] = [
                f"{buyer.name} is inactive: activate it or leave it out of the plan."
            ]
        elif not buyer.phone_number:
            errors[f"{where}.buyer"] = [
                f"{buyer.name} has no phone number to send calls to: add one first."
            ]
        first_place.setdefault(target.buyer_id, index)
        if not (isinstance(target.tier, int) and TIER_MIN <= target.tier <= TIER_MAX):
            errors[f"{where}.tier"] = [
                f"Tier must be a whole number from {TIER_MIN} (tried first) to {TIER_MAX}."
            ]
        if not (isinstance(target.weight, int) and WEIGHT_MIN <= target.weight <= WEIGHT_MAX):
            errors[f"{where}.weight"] = [
                f"Weight must be a whole number from {WEIGHT_MIN} to {WEIGHT_MAX}."
            ]
    return errors, buyers


def routing_plan_save(
    *,
    organization: Organization,
    campaign,
    targets: Sequence[PlanTargetInput],
    repeat_to_first_buyer: bool = True,
    note: str = "",
    created_by=None,
) -> PlanSaveResult:
    """Write the campaign's next plan version (versions are never edited) and say what it
    leaves uncovered. Raises ValidationError with a dict of field -> messages: "campaign",
    "note", "targets", or "targets[i].buyer" / ".tier" / ".weight" for the i-th target sent.

    Two saves at once get consecutive versions: the campaign row is locked while the next
    version number is read and written."""
    errors: dict[str, list[str]] = {}
    if campaign.organization_id != organization.pk:
        errors["campaign"] = [f"No campaign with id {campaign.pk}."]
    if len(note) > NOTE_MAX_CHARS:
        errors["note"] = [f"At most {NOTE_MAX_CHARS} characters."]
    target_errors, buyers = _target_errors(organization, targets)
    errors.update(target_errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # The campaign's model lives in the calls app above this one; lock it through the
        # instance's own class so that saves of one campaign take turns. NO KEY UPDATE: calls
        # written meanwhile (their foreign key takes KEY SHARE on the campaign) do not wait.
        type(campaign)._default_manager.select_for_update(no_key=True).filter(
            pk=campaign.pk
        ).exists()
        latest = (
            RoutingPlan.objects.for_organization(organization)
            .filter(campaign=campaign)
            .aggregate(version=Max("version"))["version"]
        )
        plan = RoutingPlan.objects.create(
            organization=organization,
            campaign=campaign,
            version=(latest or 0) + 1,
            repeat_to_first_buyer=repeat_to_first_buyer,
            note=note,
            created_by=created_by,
        )
        RoutingPlanTarget.objects.bulk_create(
            RoutingPlanTarget(
                organization=organization,
                plan=plan,
                buyer_id=target.buyer_id,
                tier=target.tier,
                weight=target.weight,
            )
            for target in targets
        )
    rules = [target_rule(buyers[t.buyer_id], tier=t.tier, weight=t.weight) for t in targets]
    return PlanSaveResult(plan, routing_plan_warnings(organization=organization, targets=rules))


def _plural_day(day: str) -> str:
    return {
        "mon": "Mondays",
        "tue": "Tuesdays",
        "wed": "Wednesdays",
        "thu": "Thursdays",
        "fri": "Fridays",
        "sat": "Saturdays",
        "sun": "Sundays",
    }[day]


def _hour_ranges(hours: Sequence[int]) -> str:
    """[20, 21, 22, 23] -> "20:00-24:00"; runs joined by ", "."""
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and runs[-1][1] == hour:
            runs[-1][1] = hour + 1
        else:
            runs.append([hour, hour + 1])
    return ", ".join(f"{start:02d}:00-{end:02d}:00" for start, end in runs)


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def coverage_hole_warnings(
    targets: Sequence[TargetRule], tz_name: str, at: dt.datetime
) -> list[str]:
    """Hours of the week, in the tenant's zone `tz_name`, when no target is open: each hour
    of the week starting the Monday after `at` is looked at on the hour (1-hour steps, so a
    hole shorter than an hour between two windows may go unseen)."""
    zone = zoneinfo.ZoneInfo(tz_name)
    local = at.astimezone(zone)
    monday = (local + dt.timedelta(days=7 - local.weekday())).date()
    callable_targets = [t for t in targets if t.active and t.destination]
    holes: dict[str, list[int]] = {}
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        holes[WEEKDAYS[day.weekday()]] = [
            hour
            for hour in range(24)
            if not any(
                is_open(t.hours, t.timezone, dt.datetime.combine(day, dt.time(hour), zone))
                for t in callable_targets
            )
        ]
    closed_days = [day for day in WEEKDAYS if len(holes[day]) == 24]
    warnings = []
    if len(closed_days) == 7:
        return [f"no target is ever open: every hour of the week ({tz_name}) is missed"]
    if closed_days:
        every = "every target is" if len(callable_targets) > 1 else "the only target is"
        warnings.append(f"{every} closed on {_join([_plural_day(d) for d in closed_days])}")
    run: list[str] = []
    for day in (*WEEKDAYS, None):
        if run and (day is None or holes[day] != holes[run[0]] or len(holes[day]) == 24):
            if holes[run[0]]:
                days = run[0].title() if len(run) == 1 else f"{run[0].title()}-{run[-1].title()}"
                warnings.append(f"no target is open {days} {_hour_ranges(holes[run[0]])} {tz_name}")
            run = []
        if day is not None and len(holes[day]) < 24:
            run.append(day)
    return warnings


def routing_plan_warnings(
    *, organization: Organization, targets: Sequence[TargetRule], at: dt.datetime | None = None
) -> list[str]:
    """What a plan leaves uncovered, in sentences for the person saving it: hours of the week
    when no target is open (in the tenant's zone), callers no target answers for their
    location, no backup, caps that bound how many calls get through. A plan with warnings is
    still saved: a tenant may mean it."""
    targets = [t for t in targets if t.active and t.destination]
    if not targets:
        return ["no target can take calls: every buyer is inactive or has no phone number"]
    warnings = coverage_hole_warnings(targets, organization.timezone, at or timezone.now())
    if all(t.geo_allow for t in targets):
        allowed = sorted(set().union(*(t.geo_allow for t in targets)))
        warnings.append(f"no target answers callers from outside {', '.join(allowed)}")
    denied_by_all = sorted(frozenset.intersection(*(t.geo_deny for t in targets)))
    if denied_by_all:
        warnings.append(f"every target refuses callers from {', '.join(denied_by_all)}")
    if len(targets) == 1:
        warnings.append(
            f"no backup: when {targets[0].name} is busy, closed or does not answer, the call "
            "is missed; add a second buyer"
        )
    for label, cap_of in (
        ("calls at once", lambda t: t.concurrency_cap),
        ("calls an hour", lambda t: t.hourly_cap),
        ("calls a day", lambda t: t.daily_cap),
        ("calls a month", lambda t: t.monthly_cap),
    ):
        caps = [cap_of(t) for t in targets]
        if all(cap is not None for cap in caps):
            warnings.append(
                f"every target is capped: at most {sum(caps)} {label} get through; "
                "calls past that are missed"
            )
    return warnings
