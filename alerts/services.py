"""Writes of alerts: evaluating the rules into incidents, telling people, acknowledging.

`alerts_evaluate(organization, now)` runs every minute (Celery beat, alerts.tasks): what
each rule finds (alerts.selectors) opens an incident per (rule, subject), keeps an open one
going, and resolves one whose condition has been clear for the rule's cooldown. Each opening
and each resolution is one message ("alert.opened", "alert.resolved") to the rule's channels,
sent by `alert_incident_notify` after the evaluation committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ppc_dashboard.celery import task_enqueue
from ppc_dashboard.tenancy.models import Organization

from . import rules
from .models import AlertIncident, AlertRule
from .outbound import outbound_event_publish
from .selectors import Detection, alert_detections, rule_recipients

logger = logging.getLogger(__name__)

ALERT_NOTIFY_TASK = "alerts.tasks.alert_incident_notify_task"
IncidentEventName = Literal["opened", "resolved"]


@dataclass(frozen=True)
class IncidentEvent:
    incident_id: int
    event: IncidentEventName


def _incident_open(organization: Organization, detection: Detection, now: dt.datetime):
    return AlertIncident.objects.create(
        organization=organization,
        rule=detection.rule,
        kind=detection.rule.kind,
        campaign_id=detection.subject.campaign_id,
        publisher_id=detection.subject.publisher_id,
        subject_key=detection.subject.key,
        summary=detection.finding.summary[:500],
        values=detection.finding.values,
        last_values=detection.finding.values,
        opened_at=now,
        last_seen_at=now,
    )


def alerts_evaluate(
    organization: Organization, now: dt.datetime | None = None
) -> list[IncidentEvent]:
    """Judge every rule of the tenant at `now` and move its incidents along; returns the
    incidents opened and resolved (their messages are the caller's to send, after commit).

    - in alert, no open incident for (rule, subject): one opens;
    - in alert, an open one: it goes on (last seen now, latest numbers), no new message;
    - not in alert: its open incident is resolved once it has been clear for the rule's
      cooldown (flapping within it stays one incident), at once when the rule is gone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One evaluation of a tenant at a time (beat runs overlapping when one is slow). FOR
        # NO KEY UPDATE: a plain FOR UPDATE of the organization would also stop every insert
        # of the tenant's rows (their foreign key takes KEY SHARE on it) while this runs.
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        _, detections = alert_detections(organization, now)
        events: list[IncidentEvent] = []
        open_incidents = {
            (incident.rule_id, incident.subject_key): incident
            for incident in AlertIncident.objects.for_organization(organization)
            .filter(resolved_at__isnull=True)
            .select_related("rule")
        }
        seen = set()
        for detection in detections:
            key = (detection.rule.pk, detection.subject.key)
            seen.add(key)
            incident = open_incidents.get(key)
            if incident is None:
                incident = _incident_open(organization, detection, now)
                events.append(IncidentEvent(incident.pk, "opened"))
            else:
                incident.last_seen_at = now
                incident.last_values = detection.finding.values
                incident.save(update_fields=["last_seen_at", "last_values"])
        for key, incident in open_incidents.items():
            if key in seen:
                continue
            cooldown = dt.timedelta(minutes=incident.rule.cooldown_minutes if incident.rule else 0)
            if now - incident.last_seen_at >= cooldown:
                incident.resolved_at = now
                incident.save(update_fields=["resolved_at"])
                events.append(IncidentEvent(incident.pk, "resolved"))
    return events


def alerts_evaluate_history(
    organization: Organization, *, hours: int, now: dt.datetime | None = None
) -> int:
    """Judge the rules as beat would have at the end of each of the last `hours` local hours,
    then at `now`: incidents with their real opening and resolution times, for a tenant whose
    data was loaded at once (the demo). Sends nothing: this is history, not news. Returns the
    incidents opened."""
    now = now or timezone.now()
    local = now.astimezone(organization.tzinfo)
    hour_start = local - dt.timedelta(
        minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    opened = 0
    for back in range(hours, 0, -1):
        # The last second of each past hour: its hourly rollup row is then whole.
        instant = hour_start - dt.timedelta(hours=back - 1, seconds=1)
        events = alerts_evaluate(organization, instant)
        opened += sum(1 for event in events if event.event == "opened")
    events = alerts_evaluate(organization, now)
    return opened + sum(1 for event in events if event.event == "opened")


def alerts_evaluate_and_notify(
    organization: Organization, now: dt.datetime | None = None
) -> list[IncidentEvent]:
    """Evaluate, then enqueue one message per incident opened or resolved."""
    events = alerts_evaluate(organization, now)
    for event in events:
        task_enqueue(ALERT_NOTIFY_TASK, event.incident_id, event.event)
    return events


def incident_payload(incident: AlertIncident, event: IncidentEventName) -> dict[str, Any]:
    """The data of an alert.opened / alert.resolved event (webhooks) and of its email."""
    verb = "Resolved" if event == "resolved" else "Alert"
    summary = f"{verb}: {incident.summary}"
    return {
        "summary": summary,
        "text": summary,
        "incident": {
            "id": incident.pk,
            "kind": incident.kind,
            "rule_id": incident.rule_id,
            "campaign_id": incident.campaign_id,
            "publisher_id": incident.publisher_id,
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "values": incident.values,
            "last_values": incident.last_values,
        },
    }


def _claim(incident_id: int, field: str) -> bool:
    """Mark the message as sent if nobody has; True for the caller that claimed it."""
    return bool(
        AlertIncident.objects.filter(pk=incident_id, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
    )


def alert_incident_notify(incident_id: int, event: IncidentEventName) -> list[str]:
    """Send the incident's opened or resolved message to its rule's channels, once.

    The webhook event is published first (the outbound log is idempotent by its key, so a
    retry publishes nothing twice); the email is claimed, then sent, and given back when
    sending fails so that the task's retry sends it. Returns the addresses emailed.
    """
    incident = AlertIncident.objects.select_related("rule", "organization").get(pk=incident_id)
    rule = incident.rule
    if rule is None:
        return []
    if rule.webhooks:
        outbound_event_publish(
            organization=incident.organization,
            event_type=f"alert.{event}",
            data=incident_payload(incident, event),
            idempotency_key=f"alert-incident-{incident.pk}-{event}",
        )
    recipients = rule_recipients(rule)
    field = f"{event}_notified_at"
    if not recipients or not _claim(incident.pk, field):
        return []
    try:
        _email_send(incident, event, recipients)
    except Exception:
        AlertIncident.objects.filter(pk=incident.pk).update(**{field: None})
        raise
    return recipients


def _email_send(incident: AlertIncident, event: IncidentEventName, recipients: list[str]) -> None:
    payload = incident_payload(incident, event)
    local = timezone.localtime(incident.opened_at, incident.organization.tzinfo)
    lines = [payload["summary"], "", f"Opened: {local:%Y-%m-%d %H:%M} ({local.tzname()})"]
    if incident.resolved_at:
        resolved = timezone.localtime(incident.resolved_at, incident.organization.tzinfo)
        lines.append(f"Resolved: {resolved:%Y-%m-%d %H:%M}")
    lines += ["", "The numbers:"]
    lines += [f"  {key}: {value}" for key, value in incident.last_values.items()]
    # A task has no request to build the address from: the site's own (SITE_URL).
    lines += ["", f"See every alert: {settings.SITE_URL.rstrip('/')}{reverse('alerts')}"]
    subject = f"[{incident.organization.name}] {payload['summary']}"[:200]
    # One message per address: recipients do not see each other.
    with get_connection() as connection:
        for address in recipients:
            EmailMessage(
                subject=subject,
                body="\n".join(lines),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[address],
                connection=connection,
            ).send()


def alert_incident_acknowledge(
    incident: AlertIncident, *, user=None, by_name: str = ""
) -> AlertIncident:
    """Mark the incident acknowledged by a member (or an API key, by its name); the first
    acknowledgement stands."""
    if incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()
        incident.acknowledged_by = user if user is not None and user.is_authenticated else None
        incident.acknowledged_by_name = (by_name or (user.email if user else "") or "")[:200]
        incident.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_by_name"])
    return incident


def alert_rule_delete(rule: AlertRule) -> None:
    """Delete a rule; its open incidents are resolved (and their history kept)."""
    now = timezone.now()
    with transaction.atomic():
        rule.incidents.filter(resolved_at__isnull=True).update(resolved_at=now)
        rule.delete()


def alert_rules_default_create(organization: Organization, **channels: Any) -> list[AlertRule]:
    """A default rule of every kind the tenant has none of, with the defaults' thresholds."""
    existing = set(
        AlertRule.objects.for_organization(organization)
        .filter(campaign__isnull=True)
        .values_list("kind", flat=True)
    )
    created = []
    for kind in rules.KINDS:
        if kind not in existing:
            created.append(
                AlertRule.objects.create(organization=organization, kind=kind, **channels)
            )
    return created
