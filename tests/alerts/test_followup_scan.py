"""The follow-up scan (beat, every minute): which calls get a follow-up, when it is due in the
buyer's hours (across DST changes), once per call and reason, and only within the tenant."""

import datetime as dt
from decimal import Decimal

import pytest

from alerts.followups import MAX_CALL_AGE, followups_scan
from alerts.models import FollowUp, FollowUpRule, FollowUpScan, OutboundEvent
from alerts.tasks import followups_scan_all_task
from calls.models import Call
from routing.business_hours import WEEKDAYS
from tests.factories import BuyerFactory, CallFactory, CampaignFactory, PublisherFactory

pytestmark = pytest.mark.django_db
EVERY_DAY_9_TO_5 = {day: [["09:00", "17:00"]] for day in WEEKDAYS}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def setup(org):
    campaign = CampaignFactory(organization=org, name="Auto")
    publisher = PublisherFactory(organization=org, name="Star")
    buyer = BuyerFactory(
        organization=org, timezone="America/New_York", business_hours=EVERY_DAY_9_TO_5
    )
    rule = FollowUpRule.objects.create(
        organization=org,
        campaign=campaign,
        on_missed=True,
        missed_delay_minutes=0,
        on_not_converted=True,
        not_converted_minutes=60,
    )
    return campaign, publisher, buyer, rule


def make_call(org, setup, **fields):
    campaign, publisher, buyer, _ = setup
    defaults = {"campaign": campaign, "publisher": publisher, "buyer": buyer}
    return CallFactory(organization=org, **{**defaults, **fields})


def test_missed_call_the_night_before_the_spring_change_is_due_at_nine_edt(org, setup, published):
    # Saturday 2026-03-07 22:00 EST; Sunday 09:00 is EDT: 13:00 UTC (not 14:00).
    call = make_call(
        org, setup, status="missed", duration_seconds=0, started_at=utc(2026, 3, 8, 3, 0)
    )
    (followup,) = followups_scan(organization=org, now=utc(2026, 3, 8, 3, 1))
    assert followup.reason == "missed"
    assert followup.due_at == utc(2026, 3, 8, 13, 0)
    assert (followup.call_id, followup.caller_number, followup.status) == (
        call.pk,
        "+13125550100",
        "open",
    )
    assert (followup.campaign, followup.publisher, followup.buyer) == setup[:3]


def test_unconverted_call_before_the_autumn_change_is_due_at_nine_est(org, setup, published):
    # Answered Saturday 2026-10-31 16:28 EDT for 2 minutes: unconverted at 17:30 EDT, after
    # the buyer closed; Sunday 09:00 is EST: 14:00 UTC (not 13:00).
    make_call(org, setup, started_at=utc(2026, 10, 31, 20, 28), duration_seconds=120)
    # Before the deadline the conversion may still come: nothing yet.
    assert followups_scan(organization=org, now=utc(2026, 10, 31, 21, 29)) == []
    # The call is not written again: the deadline passing is enough.
    (followup,) = followups_scan(organization=org, now=utc(2026, 10, 31, 21, 31))
    assert followup.reason == "not_converted"
    assert followup.due_at == utc(2026, 11, 1, 14, 0)


def test_open_buyer_is_due_at_once_plus_the_delay(org, setup, published):
    rule = setup[3]
    rule.missed_delay_minutes = 15
    rule.save()
    # Tuesday 2026-11-03 10:00 EST, a 30 s missed call: due 10:15:30 EST.
    make_call(org, setup, status="no_buyer", duration_seconds=30, started_at=utc(2026, 11, 3, 15))
    (followup,) = followups_scan(organization=org, now=utc(2026, 11, 3, 15, 1))
    assert followup.due_at == utc(2026, 11, 3, 15, 15, 30)


def test_call_without_buyer_uses_the_rule_fallback_hours_in_the_tenant_zone(org, setup, published):
    rule = setup[3]
    rule.fallback_hours = {"tue": [["12:00", "13:00"]]}
    rule.save()
    # Tuesday 2026-11-03 10:00 EST, no buyer: due at noon EST (17:00 UTC).
    make_call(org, setup, buyer=None, status="no_buyer", started_at=utc(2026, 11, 3, 15))
    (followup,) = followups_scan(organization=org, now=utc(2026, 11, 3, 15, 5))
    assert followup.buyer is None
    assert followup.due_at == utc(2026, 11, 3, 17, 0)


def test_converted_and_answered_calls_in_time_get_none(org, setup, published):
    make_call(org, setup, converted=True, started_at=utc(2026, 11, 3, 15))
    assert followups_scan(organization=org, now=utc(2026, 11, 3, 18)) == []


def test_calls_of_campaigns_without_a_rule_or_too_old_get_none(org, setup, published):
    make_call(org, setup, status="missed", campaign=CampaignFactory(organization=org))
    now = utc(2026, 11, 3, 15, 1)
    make_call(org, setup, status="missed", started_at=now - MAX_CALL_AGE - dt.timedelta(minutes=1))
    assert followups_scan(organization=org, now=now) == []


def test_rerunning_the_scan_keeps_one_followup_per_call_and_reason(org, setup, published):
    call = make_call(org, setup, status="missed", started_at=utc(2026, 11, 3, 15))
    now = utc(2026, 11, 3, 15, 1)
    assert len(followups_scan(organization=org, now=now)) == 1
    # Seen again: a re-post of the call, and a scan that starts over (its watermark lost).
    Call.objects.filter(pk=call.pk).update(duration_seconds=0)
    assert followups_scan(organization=org, now=now + dt.timedelta(minutes=1)) == []
    FollowUpScan.objects.all().delete()
    assert followups_scan(organization=org, now=now + dt.timedelta(minutes=2)) == []
    assert FollowUp.objects.filter(call=call).count() == 1
    assert len(published) == 1


def test_a_followup_marks_its_call_for_the_kpis(org, setup, published):
    call = make_call(org, setup, status="missed", started_at=utc(2026, 11, 3, 15))
    now = utc(2026, 11, 3, 15, 1)
    followups_scan(organization=org, now=now)
    call.refresh_from_db()
    assert call.followup_at == now
    assert call.recovered_at is None and call.recovered_revenue == Decimal("0")


def test_created_event_carries_what_a_crm_needs(org, setup, published):
    call = make_call(
        org, setup, status="missed", duration_seconds=0, started_at=utc(2026, 3, 8, 3, 0)
    )
    (followup,) = followups_scan(organization=org, now=utc(2026, 3, 8, 3, 1))
    ((organization_id, event_type, data, key),) = published
    assert (organization_id, event_type, key) == (
        org.pk,
        "followup.created",
        f"followup-{followup.pk}-created",
    )
    body = data["follow_up"]
    assert body["caller_number"] == "+13125550100"
    assert body["reason"] == "missed"
    assert body["status"] == "open"
    assert body["due_at"] == "2026-03-08T13:00:00+00:00"
    assert body["campaign"] == {"id": setup[0].pk, "name": "Auto"}
    assert body["publisher"] == {"id": setup[1].pk, "name": "Star"}
    assert body["call"]["external_id"] == call.external_id
    assert "+13125550100" in data["text"] and "Auto" in data["text"]


def test_scan_of_one_tenant_never_touches_another(org, other_org, setup, published):
    other_campaign = CampaignFactory(organization=other_org)
    FollowUpRule.objects.create(organization=other_org, campaign=other_campaign)
    theirs = CallFactory(
        organization=other_org,
        campaign=other_campaign,
        status="missed",
        started_at=utc(2026, 11, 3, 15),
    )
    make_call(org, setup, status="missed", started_at=utc(2026, 11, 3, 15))
    now = utc(2026, 11, 3, 15, 1)
    (ours,) = followups_scan(organization=org, now=now)
    assert ours.organization_id == org.pk
    assert not FollowUp.objects.filter(organization=other_org).exists()
    theirs.refresh_from_db()
    assert theirs.followup_at is None
    assert {event[0] for event in published} == {org.pk}


def test_beat_task_scans_every_tenant_with_rules_each_in_its_own_scope(
    org, other_org, setup, published
):
    other_campaign = CampaignFactory(organization=other_org)
    FollowUpRule.objects.create(organization=other_org, campaign=other_campaign)
    now = dt.datetime.now(dt.UTC)
    make_call(org, setup, status="missed", started_at=now - dt.timedelta(minutes=5))
    CallFactory(
        organization=other_org,
        campaign=other_campaign,
        status="failed",
        started_at=now - dt.timedelta(minutes=5),
    )
    assert followups_scan_all_task() == 2
    for organization in (org, other_org):
        (followup,) = FollowUp.objects.filter(organization=organization)
        assert followup.call.organization_id == organization.pk
        assert followup.campaign.organization_id == organization.pk


@pytest.mark.django_db(transaction=True)
def test_a_scan_that_finds_another_running_returns_at_once(org, setup, published):
    """Beat starts a scan a minute; one queued behind a long scan must not hold a worker."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks")
    make_call(org, setup, status="missed", duration_seconds=0, started_at=utc(2026, 3, 8, 3, 0))
    scan = FollowUpScan.objects.create(organization=org, scanned_until=utc(2026, 3, 8, 2, 0))
    locked, release = threading.Event(), threading.Event()

    def hold_the_scan_row() -> None:
        with transaction.atomic():
            FollowUpScan.objects.select_for_update().get(pk=scan.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_scan_row)
    holder.start()
    try:
        assert locked.wait(10)
        assert followups_scan(organization=org, now=utc(2026, 3, 8, 3, 1)) == []
    finally:
        release.set()
        holder.join()
    assert len(followups_scan(organization=org, now=utc(2026, 3, 8, 3, 1))) == 1


def test_a_scan_publishes_its_followups_in_a_few_statements(
    org, setup, django_assert_max_num_queries
):
    """Publishing each follow-up on its own was 94% of a scan of thousands of calls."""
    for n in range(30):
        make_call(
            org,
            setup,
            external_id=f"missed-{n}",
            status="missed",
            duration_seconds=0,
            started_at=utc(2026, 3, 8, 3, 0),
        )
    with django_assert_max_num_queries(30):  # 25 for any number of follow-ups; was 5 each
        created = followups_scan(organization=org, now=utc(2026, 3, 8, 3, 1))
    assert len(created) == 30
    assert {event.idempotency_key for event in OutboundEvent.objects.filter(organization=org)} == {
        f"followup-{followup.pk}-created" for followup in created
    }
