"""Alert rules judged from the rollups into incidents, with a frozen clock (time-machine):
open, repeat within the cooldown, resolve, re-open; each kind on data built for it and on
data just under its threshold; tenant isolation. Numbers are computed by hand in comments."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from alerts import rules, services
from alerts.models import AlertIncident, AlertRule, EndpointKind
from alerts.services import alerts_evaluate, alerts_evaluate_and_notify
from alerts.tasks import alerts_evaluate_all_task
from calls.models import CallStatus
from kpis.models import DirtyDay, VelocitySpike
from ppc_dashboard.celery import app
from ppc_dashboard.tenancy.models import Role
from tests.factories import CampaignFactory, MembershipFactory, PublisherFactory, UserFactory

from .conftest import endpoint_for
from .helpers import calls_add, local

pytestmark = pytest.mark.django_db

MISSED = CallStatus.MISSED


@pytest.fixture
def published(monkeypatch):
    """The outbound events published (alerts.outbound, the webhooks' one mechanism)."""
    sent = []

    def publish(*, organization, event_type, data, idempotency_key):
        sent.append((organization.pk, event_type, idempotency_key, data))
        return []

    monkeypatch.setattr(services, "outbound_event_publish", publish)
    return sent


def rule(org, kind, campaign=None, **fields):
    return AlertRule.objects.create(organization=org, kind=kind, campaign=campaign, **fields)


def evaluate(org, when: dt.datetime):
    with time_machine.travel(when, tick=False):
        return alerts_evaluate_and_notify(org)


def incidents(org):
    return list(AlertIncident.objects.for_organization(org).order_by("id"))


def test_open_repeat_within_cooldown_resolve_and_reopen(org, mailoutbox, published, settings):
    settings.SITE_URL = "http://testserver.example/"
    auto = CampaignFactory(organization=org, name="Auto")
    owner = UserFactory(email="owner@acme.test")
    membership = MembershipFactory(organization=org, user=owner, role=Role.OWNER)
    leak = rule(org, rules.MISSED_CALL_RATE, cooldown_minutes=10, email_addresses=["ops@acme.test"])
    leak.email_members.add(membership)
    # 19:00-19:40: 20 calls, 4 missed. At 19:40 the last 60 minutes are hour 19 whole and
    # 20/60 of hour 18 (no calls): 4 / 20 = 20% missed, over 5% with 20 calls.
    calls_add(auto, local(2026, 11, 24, 19, 5), 16)
    calls_add(auto, local(2026, 11, 24, 19, 20), 4, status=MISSED)

    events = evaluate(org, local(2026, 11, 24, 19, 40))
    (first,) = incidents(org)
    assert [(e.incident_id, e.event) for e in events] == [(first.pk, "opened")]
    assert first.values == {
        "calls": 20,
        "missed": 4,
        "missed_rate_pct": 20.0,
        "threshold_pct": 5.0,
        "min_calls": 20,
        "window_minutes": 60,
    }
    assert first.summary == "Auto: 20.0% of 20 calls missed in the last 60 min (alert above 5%)"
    assert first.opened_at == local(2026, 11, 24, 19, 40)
    # One email per address (the member's and the rule's own), one webhook event.
    assert sorted(m.to[0] for m in mailoutbox) == ["ops@acme.test", "owner@acme.test"]
    assert mailoutbox[0].subject == f"[{org.name}] Alert: {first.summary}"
    # The link works from a mail client: the site's address, not a bare path.
    assert "See every alert: http://testserver.example/alerts/" in mailoutbox[0].body
    assert [(e[1], e[2]) for e in published] == [
        ("alert.opened", f"alert-incident-{first.pk}-opened")
    ]
    assert published[0][3]["summary"] == f"Alert: {first.summary}"

    # A minute later it still holds: the same incident, no second message.
    assert evaluate(org, local(2026, 11, 24, 19, 41)) == []
    assert len(mailoutbox) == 2 and len(published) == 1

    # 80 answered calls: 4 / 100 = 4%, clear. Within the cooldown (10 min since 19:41 last
    # seen) it stays open; then it flaps back: 10 more missed, 14 / 110 = 12.7%.
    calls_add(auto, local(2026, 11, 24, 19, 30), 80)
    assert evaluate(org, local(2026, 11, 24, 19, 45)) == []
    calls_add(auto, local(2026, 11, 24, 19, 46), 10, status=MISSED)
    assert evaluate(org, local(2026, 11, 24, 19, 48)) == []
    assert [i.pk for i in incidents(org)] == [first.pk]
    first.refresh_from_db()
    assert first.resolved_at is None
    assert first.last_seen_at == local(2026, 11, 24, 19, 48)
    assert first.last_values["missed_rate_pct"] == 12.7

    # Clear again (200 answered: 14 / 310 = 4.5%): resolved 10 minutes after last seen.
    calls_add(auto, local(2026, 11, 24, 19, 47), 200)
    assert evaluate(org, local(2026, 11, 24, 19, 57)) == []
    events = evaluate(org, local(2026, 11, 24, 19, 58))
    assert [(e.incident_id, e.event) for e in events] == [(first.pk, "resolved")]
    first.refresh_from_db()
    assert first.resolved_at == local(2026, 11, 24, 19, 58)
    assert len(mailoutbox) == 4
    assert mailoutbox[-1].subject == f"[{org.name}] Resolved: {first.summary}"
    assert [e[1] for e in published] == ["alert.opened", "alert.resolved"]

    # It comes back (30 missed: 44 / 340 = 12.9%): a new incident, a new opened message.
    calls_add(auto, local(2026, 11, 24, 19, 50), 30, status=MISSED)
    events = evaluate(org, local(2026, 11, 24, 19, 59))
    first_again, second = incidents(org)
    assert first_again.pk == first.pk and first_again.resolved_at is not None
    assert [(e.incident_id, e.event) for e in events] == [(second.pk, "opened")]
    assert second.values["missed_rate_pct"] == 12.9
    assert [e[2] for e in published][-1] == f"alert-incident-{second.pk}-opened"


def test_a_message_is_sent_once_even_when_notified_twice(org, mailoutbox, published):
    auto = CampaignFactory(organization=org)
    rule(org, rules.MISSED_CALL_RATE, email_addresses=["ops@acme.test"])
    calls_add(auto, local(2026, 11, 24, 19, 5), 20, status=MISSED)
    (event,) = evaluate(org, local(2026, 11, 24, 19, 40))
    assert services.alert_incident_notify(event.incident_id, "opened") == []
    assert len(mailoutbox) == 1


def test_missed_calls_of_the_hour_before_count_by_their_share_of_the_window(org):
    auto = CampaignFactory(organization=org)
    rule(org, rules.MISSED_CALL_RATE)
    # At 19:15 hour 18 counts for 45/60: 40 calls, 8 missed -> 30 calls, 6 missed: 20%.
    calls_add(auto, local(2026, 11, 24, 18, 10), 32)
    calls_add(auto, local(2026, 11, 24, 18, 20), 8, status=MISSED)
    evaluate(org, local(2026, 11, 24, 19, 15))
    (incident,) = incidents(org)
    assert (incident.values["calls"], incident.values["missed"]) == (30, 6)


@pytest.mark.parametrize(
    "answered, missed, fires",
    [
        (18, 2, True),  # 10% of 20
        (19, 1, False),  # exactly 5%: not above it
        (9, 10, False),  # 53% of 19 calls: fewer than the 20 needed
    ],
)
def test_missed_call_rate_threshold_and_small_samples(org, answered, missed, fires):
    auto = CampaignFactory(organization=org)
    rule(org, rules.MISSED_CALL_RATE)
    calls_add(auto, local(2026, 11, 24, 19, 1), answered)
    calls_add(auto, local(2026, 11, 24, 19, 2), missed, status=MISSED)
    evaluate(org, local(2026, 11, 24, 19, 40))
    assert len(incidents(org)) == (1 if fires else 0)


@pytest.mark.parametrize(
    "answered_at, missed, fires",
    [
        (None, 3, True),  # 3 calls since 18:40, none answered
        ((18, 5), 3, False),  # an answer in hour 18, which the window touches: no alert
        (None, 2, False),  # 2 calls: not the 3 that make traffic
    ],
)
def test_no_answer_during_traffic(org, answered_at, missed, fires):
    hvac = CampaignFactory(organization=org, name="HVAC")
    rule(org, rules.NO_ANSWER)
    if answered_at:
        calls_add(hvac, local(2026, 11, 24, *answered_at), 1)
    calls_add(hvac, local(2026, 11, 24, 18, 50), 1, status=MISSED)
    calls_add(hvac, local(2026, 11, 24, 19, 10), missed - 1, status=CallStatus.NO_BUYER)
    evaluate(org, local(2026, 11, 24, 19, 40))
    found = incidents(org)
    assert len(found) == (1 if fires else 0)
    if fires:
        assert found[0].summary == "HVAC: none of 3 calls answered in the last 60 min"


@pytest.mark.parametrize(
    "answered, revenue, fires",
    [
        (30, "1.50", True),  # $45 over 60 talk minutes: RPM $0.75 < $1.00
        (30, "2.00", False),  # $60 over 60 minutes: RPM $1.00, at the floor
        (29, "1.50", False),  # 29 answered calls: too few
    ],
)
def test_rpm_below_the_campaign_floor_over_the_last_day(org, answered, revenue, fires):
    legal = CampaignFactory(organization=org, name="Legal", rpm_floor="1.00")
    CampaignFactory(organization=org, name="No floor")
    rule(org, rules.RPM_BELOW_FLOOR)
    calls_add(legal, local(2026, 11, 24, 10, 0), answered, duration=120, revenue=revenue)
    evaluate(org, local(2026, 11, 24, 19, 40))
    found = incidents(org)
    assert len(found) == (1 if fires else 0)
    if fires:
        assert found[0].values["rpm"] == "0.75"
        assert found[0].campaign_id == legal.pk


@pytest.mark.parametrize("calls, fires", [(40, True), (29, False)])
def test_a_publisher_crossing_into_cut(org, calls, fires):
    auto = CampaignFactory(organization=org, name="Auto")
    surge = PublisherFactory(organization=org, name="ClickSurge")
    rule(org, rules.PUBLISHER_VERDICT)
    # No conversion, no revenue, $15 a call: weak conversion (0 of 40, 95% CI upper 8.8%)
    # while losing money is "cut"; 29 calls are too few to judge ("watch").
    calls_add(auto, local(2026, 11, 23, 12, 0), calls, publisher=surge, revenue="0")
    evaluate(org, local(2026, 11, 24, 19, 40))
    found = incidents(org)
    assert len(found) == (1 if fires else 0)
    if fires:
        assert (found[0].campaign_id, found[0].publisher_id) == (auto.pk, surge.pk)
        assert found[0].values["verdict"] == "cut"
        assert found[0].summary.startswith("ClickSurge in Auto is now 'cut' over the last 30")


@pytest.mark.parametrize("usual, fires", [(1, True), (4, False)])
def test_a_velocity_spike_in_the_last_two_hours(org, usual, fires):
    auto = CampaignFactory(organization=org, name="Auto")
    surge = PublisherFactory(organization=org, name="ClickSurge")
    rule(org, rules.VELOCITY_SPIKE)
    for days_back in range(1, 8):
        start = local(2026, 11, 24 - days_back, 18, 10)
        calls_add(auto, start, usual, publisher=surge, roll_up=False)
    # 12 calls at 18:xx: over 3 x 1 (the usual), not over 3 x 4 = 12.
    calls_add(auto, local(2026, 11, 24, 18, 20), 12, publisher=surge)
    spikes = VelocitySpike.objects.for_organization(org).filter(campaign=auto).count()
    assert spikes == (1 if fires else 0)
    evaluate(org, local(2026, 11, 24, 19, 40))
    assert len(incidents(org)) == (1 if fires else 0)
    # Three hours later the spike hour is out of the rule's 2 hours: resolved (cooldown 0).
    AlertRule.objects.filter(organization=org).update(cooldown_minutes=0)
    evaluate(org, local(2026, 11, 24, 21, 5))
    assert all(i.resolved_at is not None for i in incidents(org))


@pytest.mark.parametrize("waiting_minutes, fires", [(6, True), (5, False)])
def test_kpis_stale_for_more_than_5_minutes(org, waiting_minutes, fires):
    rule(org, rules.KPIS_STALE)
    now = local(2026, 11, 24, 19, 40)
    DirtyDay.objects.create(
        organization=org,
        day=dt.date(2026, 11, 24),
        pending_since=now - dt.timedelta(minutes=waiting_minutes),
    )
    evaluate(org, now)
    found = incidents(org)
    assert len(found) == (1 if fires else 0)
    if fires:
        assert found[0].subject_key == "tenant"
        assert found[0].values == {
            "behind_minutes": 6,
            "pending_days": 1,
            "threshold_minutes": 5,
        }


def test_a_campaign_override_replaces_the_default_for_its_campaign(org):
    auto = CampaignFactory(organization=org, name="Auto")
    hvac = CampaignFactory(organization=org, name="HVAC")
    quiet = CampaignFactory(organization=org, name="Quiet")
    rule(org, rules.MISSED_CALL_RATE, thresholds={"rate_pct": 50})
    # HVAC: only 6 calls an hour, so its override asks for 5; the 50% comes from the default.
    override = rule(org, rules.MISSED_CALL_RATE, campaign=hvac, thresholds={"min_calls": 5})
    rule(org, rules.MISSED_CALL_RATE, campaign=quiet, enabled=False)
    for campaign in (auto, hvac, quiet):
        calls_add(campaign, local(2026, 11, 24, 19, 1), 2, roll_up=False)
        calls_add(campaign, local(2026, 11, 24, 19, 2), 4, status=MISSED)
    evaluate(org, local(2026, 11, 24, 19, 40))
    # 4 of 6 missed (66.7% > 50%) everywhere; Auto has 6 < 20 calls, Quiet is silenced.
    (incident,) = incidents(org)
    assert (incident.rule_id, incident.campaign_id) == (override.pk, hvac.pk)
    assert (incident.values["threshold_pct"], incident.values["min_calls"]) == (50.0, 5)


def test_a_disabled_rule_resolves_its_open_incidents(org):
    auto = CampaignFactory(organization=org)
    leak = rule(org, rules.MISSED_CALL_RATE, cooldown_minutes=0)
    calls_add(auto, local(2026, 11, 24, 19, 1), 20, status=MISSED)
    evaluate(org, local(2026, 11, 24, 19, 40))
    leak.enabled = False
    leak.save()
    (event,) = evaluate(org, local(2026, 11, 24, 19, 41))
    assert event.event == "resolved"


def test_rules_of_one_tenant_never_judge_another_tenants_data(org, other_org):
    ours = CampaignFactory(organization=org, name="Ours")
    theirs = CampaignFactory(organization=other_org, name="Theirs")
    rule(org, rules.MISSED_CALL_RATE)
    # Only the other tenant leaks; it has no rule.
    calls_add(ours, local(2026, 11, 24, 19, 1), 20)
    calls_add(theirs, local(2026, 11, 24, 19, 1), 20, status=MISSED)
    assert evaluate(org, local(2026, 11, 24, 19, 40)) == []
    assert evaluate(other_org, local(2026, 11, 24, 19, 40)) == []
    assert AlertIncident.objects.count() == 0
    # With a rule of its own, the other tenant's leak is its incident, on its campaign.
    rule(other_org, rules.MISSED_CALL_RATE)
    alerts_evaluate(other_org, local(2026, 11, 24, 19, 40))
    (incident,) = AlertIncident.objects.all()
    assert (incident.organization_id, incident.campaign_id) == (other_org.pk, theirs.pk)


def test_an_opened_alert_reaches_the_tenants_receiver_signed_and_slack_gets_its_line(
    org, make_receiver, django_capture_on_commit_callbacks
):
    signed, slack = make_receiver(), make_receiver()
    endpoint = endpoint_for(org, signed)
    endpoint_for(org, slack, kind=EndpointKind.SLACK)
    auto = CampaignFactory(organization=org, name="Auto")
    rule(org, rules.MISSED_CALL_RATE)
    calls_add(auto, local(2026, 11, 24, 19, 1), 18)
    calls_add(auto, local(2026, 11, 24, 19, 2), 2, status=MISSED)
    with django_capture_on_commit_callbacks(execute=True):
        (event,) = evaluate(org, local(2026, 11, 24, 19, 40))
    (request,) = signed.received
    assert request.verified == {endpoint.secret: True}
    assert request.headers["Idempotency-Key"] == f"alert-incident-{event.incident_id}-opened"
    assert request.json["type"] == "alert.opened"
    assert request.json["data"]["incident"]["values"]["missed_rate_pct"] == 10.0
    (posted,) = slack.received
    assert posted.json == {
        "text": "[acme] Alert: Auto: 10.0% of 20 calls missed in the last 60 min (alert above 5%)"
    }


def test_beat_evaluates_each_tenant_with_rules_on_its_own_data(org, other_org, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["alerts-evaluate"]
    assert entry["schedule"] == 60.0 and entry["task"] in app.tasks
    ours = CampaignFactory(organization=org)
    theirs = CampaignFactory(organization=other_org)
    rule(org, rules.MISSED_CALL_RATE)
    calls_add(ours, local(2026, 11, 24, 19, 1), 20, status=MISSED)
    calls_add(theirs, local(2026, 11, 24, 19, 1), 20, status=MISSED)
    with time_machine.travel(local(2026, 11, 24, 19, 40), tick=False):
        assert alerts_evaluate_all_task() == 1  # only the tenant with rules
    (incident,) = AlertIncident.objects.all()
    assert (incident.organization_id, incident.campaign_id) == (org.pk, ours.pk)


@pytest.mark.django_db(transaction=True)
def test_calls_are_written_while_an_evaluation_runs(org, monkeypatch):
    """The evaluation holds its tenant's lock while it reads; a call posted meanwhile (whose
    foreign key locks the organization row FOR KEY SHARE) must not wait for it."""
    import threading

    from django.db import connection, transaction

    from alerts import services
    from tests.factories import CallFactory

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks")
    inside, done = threading.Event(), threading.Event()
    detections = services.alert_detections

    def slow_detections(*args, **kwargs):
        inside.set()
        done.wait(10)
        return detections(*args, **kwargs)

    monkeypatch.setattr(services, "alert_detections", slow_detections)

    def evaluate() -> None:
        services.alerts_evaluate(org)
        connection.close()

    evaluation = threading.Thread(target=evaluate)
    evaluation.start()
    try:
        assert inside.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            CallFactory(organization=org)  # a lock wait here raises after 2 s
    finally:
        done.set()
        evaluation.join()
