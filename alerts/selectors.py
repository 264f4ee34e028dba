"""Reads of alerts: the webhook delivery log for the pages; which alert rule governs what,
what each rule finds in the rollups, incidents.

Every alert number comes from the KPI engine's rollups and freshness marks (kpis.models,
kpis.decisions, kpis.selectors), never from the calls table: evaluating every rule of a
tenant costs a handful of indexed reads of (organization, day) rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from calls.models import Campaign
from kpis.decisions import verdicts_report
from kpis.models import CallRollupHourlyCampaign, VelocitySpike
from kpis.selectors import KpiFilter, kpi_filter_so_far, kpi_freshness
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher

from . import rules
from .models import AlertIncident, AlertRule, WebhookDelivery

# The delivery log page shows this many of the newest deliveries.
DELIVERY_LOG_ROWS = 100


def webhook_deliveries_recent(
    organization: Organization, *, status: str = "", endpoint_id: int | None = None
) -> QuerySet[WebhookDelivery]:
    """The tenant's newest deliveries, with their event and endpoint, optionally narrowed."""
    deliveries = WebhookDelivery.objects.for_organization(organization).select_related(
        "event", "endpoint"
    )
    if status:
        deliveries = deliveries.filter(status=status)
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    return deliveries.order_by("-created_at", "-pk")[:DELIVERY_LOG_ROWS]


# --- Alert rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    campaign_id: int | None = None
    publisher_id: int | None = None

    @property
    def key(self) -> str:
        if self.campaign_id is None:
            return "tenant"
        if self.publisher_id is None:
            return f"c{self.campaign_id}"
        return f"c{self.campaign_id}:p{self.publisher_id}"


@dataclass(frozen=True)
class RuleInForce:
    """A rule with the campaigns it governs (none for a tenant-wide kind) and its thresholds
    for each of them (the default's laid under a campaign override's)."""

    rule: AlertRule
    campaigns: list[Campaign]
    thresholds: dict[int | None, dict]  # campaign id (None: the tenant) -> thresholds


@dataclass(frozen=True)
class Detection:
    rule: AlertRule
    subject: Subject
    finding: rules.Finding


def rules_in_force(organization: Organization) -> list[RuleInForce]:
    """Each enabled rule with what it governs: a default governs every campaign without an
    override of its kind; an override its own campaign. Disabled rules govern nothing."""
    all_rules = list(
        AlertRule.objects.for_organization(organization).prefetch_related("email_members")
    )
    defaults = {rule.kind: rule for rule in all_rules if rule.campaign_id is None}
    overridden: dict[str, set[int]] = defaultdict(set)
    for rule in all_rules:
        if rule.campaign_id is not None:
            overridden[rule.kind].add(rule.campaign_id)
    campaigns = list(Campaign.objects.for_organization(organization).order_by("id"))
    by_id = {campaign.id: campaign for campaign in campaigns}
    in_force = []
    for rule in all_rules:
        if not rule.enabled:
            continue
        default = defaults.get(rule.kind)
        if rule.kind in rules.TENANT_ONLY_KINDS:
            if rule.campaign_id is None:
                thresholds = rules.thresholds_in_force(rule.kind, rule.thresholds)
                in_force.append(RuleInForce(rule, [], {None: thresholds}))
            continue
        if rule.campaign_id is None:
            governed = [c for c in campaigns if c.id not in overridden[rule.kind]]
            thresholds = rules.thresholds_in_force(rule.kind, rule.thresholds)
            in_force.append(RuleInForce(rule, governed, {c.id: thresholds for c in governed}))
        elif rule.campaign_id in by_id:
            campaign = by_id[rule.campaign_id]
            thresholds = rules.thresholds_in_force(
                rule.kind, default.thresholds if default else None, rule.thresholds
            )
            in_force.append(RuleInForce(rule, [campaign], {campaign.id: thresholds}))
    return in_force


def _hourly_by_campaign(
    organization: Organization, campaign_ids: Iterable[int], shares: list[rules.HourShare]
) -> dict[int, dict[tuple[dt.date, int], rules.WindowCounts]]:
    """The hourly campaign rollup rows of the window's hours, per campaign."""
    wanted = {(share.day, share.hour) for share in shares}
    rows = (
        CallRollupHourlyCampaign.objects.for_organization(organization)
        .filter(day__in={day for day, _ in wanted}, campaign_id__in=list(campaign_ids))
        .values_list("campaign_id", "day", "hour")
        .annotate(
            Sum("calls"), Sum("answered"), Sum("revenue"), Sum("talk_seconds")
        )  # one row per key already; the sum keeps a repeated DST hour whole
    )
    found: dict[int, dict[tuple[dt.date, int], rules.WindowCounts]] = defaultdict(dict)
    for campaign_id, day, hour, calls, answered, revenue, talk_seconds in rows:
        if (day, hour) in wanted:
            found[campaign_id][day, hour] = rules.WindowCounts(
                calls=calls or 0,
                answered=answered or 0,
                revenue=Decimal(revenue or 0),
                talk_seconds=talk_seconds or 0,
            )
    return found


def _window_detections(
    organization: Organization, in_force: RuleInForce, now: dt.datetime
) -> list[Detection]:
    """missed_call_rate, no_answer and rpm_below_floor: each campaign's hourly rows."""
    kind = in_force.rule.kind
    tz = organization.tzinfo
    found = []
    by_minutes: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in in_force.campaigns:
        thresholds = in_force.thresholds[campaign.id]
        if kind == rules.MISSED_CALL_RATE:
            minutes = thresholds["window_minutes"]
        elif kind == rules.NO_ANSWER:
            minutes = thresholds["minutes"]
        else:
            if campaign.rpm_floor is None:
                continue
            minutes = thresholds["window_hours"] * 60
        by_minutes[minutes].append(campaign)
    for minutes, campaigns in by_minutes.items():
        shares = rules.window_hours(now, tz, minutes)
        hourly = _hourly_by_campaign(organization, [c.id for c in campaigns], shares)
        for campaign in campaigns:
            thresholds = in_force.thresholds[campaign.id]
            rows = hourly.get(campaign.id, {})
            if kind == rules.NO_ANSWER:
                # Whole rows of every hour the window touches (alerts.rules.no_answer_finding).
                whole = [rules.HourShare(s.day, s.hour, 1.0) for s in shares]
                counts = rules.window_counts(whole, rows)
                finding = rules.no_answer_finding(
                    campaign.name, int(counts.calls), int(counts.answered), thresholds
                )
            elif kind == rules.MISSED_CALL_RATE:
                counts = rules.window_counts(shares, rows)
                finding = rules.missed_call_rate_finding(campaign.name, counts, thresholds)
            else:
                counts = rules.window_counts(shares, rows)
                finding = rules.rpm_below_floor_finding(
                    campaign.name,
                    counts,
                    campaign.rpm_floor,
                    thresholds,
                    currency=organization.currency,
                )
            if finding is not None:
                found.append(Detection(in_force.rule, Subject(campaign.id), finding))
    return found


def _verdict_detections(
    organization: Organization, in_force: RuleInForce, now: dt.datetime
) -> list[Detection]:
    """publisher_verdict: each publisher's verdict within each governed campaign, as the
    verdicts API judges it (kpis.decisions) over the last `days` so far."""
    found = []
    by_days: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in in_force.campaigns:
        by_days[in_force.thresholds[campaign.id]["days"]].append(campaign)
    today = now.astimezone(organization.tzinfo).date()
    for days, campaigns in by_days.items():
        kpi_filter = kpi_filter_so_far(
            KpiFilter(date_from=today - dt.timedelta(days=days - 1), date_to=today),
            organization,
            now,
        )
        report = verdicts_report(organization, kpi_filter, overall_publishers=False)
        for campaign in campaigns:
            for judged in report.publishers_by_campaign.get(campaign.id, []):
                finding = rules.publisher_verdict_finding(
                    f"{judged.name} in {campaign.name}",
                    judged.verdict.label,
                    judged.verdict.reasons,
                    in_force.thresholds[campaign.id],
                )
                if finding is not None:
                    subject = Subject(campaign.id, judged.id)
                    found.append(Detection(in_force.rule, subject, finding))
    return found


def _spike_detections(
    organization: Organization, in_force: RuleInForce, now: dt.datetime
) -> list[Detection]:
    """velocity_spike: the spike hours kpis.spikes stored for a publisher's calls to each
    governed campaign, within the last `hours` local hours."""
    campaigns = {campaign.id: campaign for campaign in in_force.campaigns}
    if not campaigns:
        return []
    longest = max(in_force.thresholds[c]["hours"] for c in campaigns)
    shares = rules.window_hours(now, organization.tzinfo, longest * 60)
    rows = (
        VelocitySpike.objects.for_organization(organization)
        .filter(day__in={s.day for s in shares}, campaign_id__in=list(campaigns))
        .values_list("campaign_id", "publisher_id", "day", "hour", "calls", "trailing_calls")
    )
    # Newest first: the current local hour is 1, the one before 2, ...
    age = {(s.day, s.hour): n for n, s in enumerate(shares, start=1)}
    spikes: dict[tuple[int, int], list[rules.SpikeHour]] = defaultdict(list)
    for campaign_id, publisher_id, day, hour, calls, trailing in rows:
        hours = in_force.thresholds[campaign_id]["hours"]
        if age.get((day, hour), hours + 1) <= hours:
            spikes[campaign_id, publisher_id].append(rules.SpikeHour(day, hour, calls, trailing))
    names = dict(
        Publisher.objects.for_organization(organization)
        .filter(id__in={publisher for _, publisher in spikes})
        .values_list("id", "name")
    )
    found = []
    for (campaign_id, publisher_id), hours_found in sorted(spikes.items()):
        publisher = names.get(publisher_id, f"#{publisher_id}")
        subject_name = f"{publisher} in {campaigns[campaign_id].name}"
        finding = rules.velocity_spike_finding(
            subject_name, hours_found, in_force.thresholds[campaign_id]
        )
        if finding is not None:
            found.append(Detection(in_force.rule, Subject(campaign_id, publisher_id), finding))
    return found


def _stale_detections(
    organization: Organization, in_force: RuleInForce, now: dt.datetime
) -> list[Detection]:
    """kpis_stale: the tenant's oldest write its KPIs do not reflect yet (kpi_freshness)."""
    freshness = kpi_freshness(organization, now)
    behind = max(now - freshness.as_of, dt.timedelta(0))
    finding = rules.kpis_stale_finding(
        organization.name, behind, freshness.pending_days, in_force.thresholds[None]
    )
    return [] if finding is None else [Detection(in_force.rule, Subject(), finding)]


_DETECTORS = {
    rules.MISSED_CALL_RATE: _window_detections,
    rules.NO_ANSWER: _window_detections,
    rules.RPM_BELOW_FLOOR: _window_detections,
    rules.PUBLISHER_VERDICT: _verdict_detections,
    rules.VELOCITY_SPIKE: _spike_detections,
    rules.KPIS_STALE: _stale_detections,
}


def alert_detections(
    organization: Organization, now: dt.datetime
) -> tuple[list[RuleInForce], list[Detection]]:
    """Every rule in force and every subject in alert under it at `now`."""
    in_force = rules_in_force(organization)
    detections = []
    for each in in_force:
        detections.extend(_DETECTORS[each.rule.kind](organization, each, now))
    return in_force, detections


def incidents_open(organization: Organization) -> QuerySet[AlertIncident]:
    return AlertIncident.objects.for_organization(organization).filter(resolved_at__isnull=True)


def incidents_for_page(organization: Organization) -> QuerySet[AlertIncident]:
    return AlertIncident.objects.for_organization(organization).select_related(
        "campaign", "publisher", "acknowledged_by", "rule"
    )


def rule_recipients(rule: AlertRule) -> list[str]:
    """The addresses an incident of the rule is emailed to: its members' and its own, once
    each (case-insensitively), members first."""
    found: dict[str, str] = {}
    members = rule.email_members.select_related("user").order_by("user__email")
    for address in [m.user.email for m in members] + list(rule.email_addresses or []):
        if address and address.lower() not in found:
            found[address.lower()] = address
    return list(found.values())
