"""Follow-up events reach the tenant's CRM/SMS endpoint through the real outbound webhook,
signed, with what it needs to call the person back; another tenant's endpoint gets nothing."""

import datetime as dt

import pytest

from alerts.followups import followup_transition, followups_scan
from alerts.models import FollowUpRule
from tests.factories import BuyerFactory, CallFactory, CampaignFactory

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_created_and_updated_events_are_posted_signed_to_the_tenants_endpoint(
    org, other_org, make_receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_LOCAL_TARGETS = True
    ours, theirs = make_receiver(), make_receiver()
    endpoint = endpoint_for(org, ours, event_types=["followup.created", "followup.updated"])
    endpoint_for(other_org, theirs)
    campaign = CampaignFactory(organization=org, name="Auto")
    FollowUpRule.objects.create(organization=org, campaign=campaign)
    buyer = BuyerFactory(organization=org, business_hours={})
    started = dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC)
    CallFactory(
        organization=org,
        campaign=campaign,
        buyer=buyer,
        status="missed",
        duration_seconds=0,
        started_at=started,
    )
    with django_capture_on_commit_callbacks(execute=True):
        (followup,) = followups_scan(organization=org, now=started + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        followup_transition(followup=followup, status="contacted", actor="ops@acme.test")
    assert theirs.received == []
    created, updated = ours.received
    assert created.verified == {endpoint.secret: True}
    body = created.json
    assert body["type"] == "followup.created"
    follow_up = body["data"]["follow_up"]
    assert follow_up["caller_number"] == "+13125550100"
    assert follow_up["campaign"]["name"] == "Auto"
    assert follow_up["reason"] == "missed"
    assert follow_up["due_at"] == "2026-11-03T15:00:00+00:00"  # a missed call ends at once
    assert updated.json["type"] == "followup.updated"
    assert updated.json["data"]["follow_up"]["contacted_by"] == "ops@acme.test"
