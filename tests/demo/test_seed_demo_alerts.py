"""seed_demo gives the demo tenant alert rules that fire on its evening missed-call leak."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from alerts import rules
from alerts.models import AlertIncident, AlertRule
from demo import generator as demo_data

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
LEAK_NAME = next(c.name for c in demo_data.CAMPAIGNS if c.key == demo_data.EVENING_LEAK_CAMPAIGN)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_at(when: dt.datetime) -> str:
    out = StringIO()
    # The default density (about 550 calls a day), over fewer days.
    with time_machine.travel(when, tick=False):
        call_command("seed_demo", "--calls", "11000", "--days", "20", stdout=out)
    return out.getvalue()


def test_seeding_in_the_evening_opens_the_leaking_campaigns_missed_call_alert(mailoutbox):
    output = seed_at(dt.datetime(2026, 11, 24, 20, 40, tzinfo=NY))
    demo_rules = AlertRule.objects.filter(organization__slug="demo")
    assert {r.kind for r in demo_rules if r.campaign_id is None} == set(rules.KINDS)
    leak = AlertIncident.objects.get(
        organization__slug="demo",
        kind=rules.MISSED_CALL_RATE,
        campaign__name=LEAK_NAME,
        resolved_at__isnull=True,
    )
    assert leak.values["missed_rate_pct"] > 50
    assert leak.values["calls"] >= 5
    # Opened at the end of 18:00-19:00, the leak's first hour, as beat would have.
    assert leak.opened_at == dt.datetime(2026, 11, 24, 18, 59, 59, tzinfo=NY)
    # Yesterday evening's leak is history: opened, then resolved when the buyers answered.
    yesterday = AlertIncident.objects.get(
        organization__slug="demo",
        kind=rules.MISSED_CALL_RATE,
        campaign__name=LEAK_NAME,
        resolved_at__isnull=False,
    )
    assert yesterday.opened_at.astimezone(NY).date() == dt.date(2026, 11, 23)
    assert "alerts over the last 24 hours" in output
    assert mailoutbox == []  # history is not news: nothing is sent


def test_seeding_at_noon_has_no_open_missed_call_alert_for_the_leak():
    seed_at(dt.datetime(2026, 11, 24, 12, 10, tzinfo=NY))
    open_leaks = AlertIncident.objects.filter(
        organization__slug="demo",
        kind=rules.MISSED_CALL_RATE,
        campaign__name=LEAK_NAME,
        resolved_at__isnull=True,
    )
    assert not open_leaks.exists()
