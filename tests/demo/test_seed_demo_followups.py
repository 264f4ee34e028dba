"""seed_demo gives the demo tenant follow-up rules and one scan's follow-ups, of its recent
missed calls, without sending anything anywhere."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from alerts.followups import MAX_CALL_AGE
from alerts.models import FollowUp, FollowUpRule, OutboundEvent, WebhookDelivery
from calls.models import Call
from demo import generator as demo_data
from demo.management.commands.seed_demo import DEMO_EMAIL

pytestmark = pytest.mark.django_db

User = get_user_model()
NY = zoneinfo.ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 24, 20, 40, tzinfo=NY)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_has_follow_ups_of_its_recent_missed_calls(client):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--calls", "3000", "--days", "10", stdout=out)
    rules = FollowUpRule.objects.filter(organization__slug="demo").select_related("campaign")
    assert rules.count() == len(demo_data.CAMPAIGNS)
    assert all(rule.on_missed and rule.fallback_hours for rule in rules)

    followups = FollowUp.objects.filter(organization__slug="demo")
    recent_missed = (
        Call.objects.filter(organization__slug="demo", started_at__gte=NOW - MAX_CALL_AGE)
        .exclude(status="answered")
        .values_list("pk", flat=True)
    )
    assert len(recent_missed) > 0
    # Every recent missed call has its follow-up, none older than the scan's reach.
    assert set(followups.filter(reason="missed").values_list("call_id", flat=True)) == set(
        recent_missed
    )
    assert not followups.filter(call__started_at__lt=NOW - MAX_CALL_AGE).exists()
    assert f"{followups.count()} follow-ups" in out.getvalue()
    # Nothing posted: the demo has no endpoint.
    assert OutboundEvent.objects.filter(organization__slug="demo").exists()
    assert not WebhookDelivery.objects.filter(event__organization__slug="demo").exists()

    # The demo login sees them on /follow-ups/.
    client.force_login(User.objects.get(email=DEMO_EMAIL))
    page = client.get("/follow-ups/")
    assert page.status_code == 200
    assert "Missed call" in page.content.decode()
